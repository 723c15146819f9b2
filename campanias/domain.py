"""The `Campania` aggregate, stored only as its events, and the approval saga. No Django here.

A campaign's state is what its events say: `Campania.replay` folds them, every domain
method checks a rule and then emits one event through `_emit`, which applies it to the
state and keeps it pending for the event store.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from alpespartners.seedwork.domain import (DECIMAL_TEXT, MINOR_UNITS, Aggregate, DomainError, DomainEvent, Monto,
                                           NotFound, decimales)


class EstadoCampania(StrEnum):
    PENDIENTE = "PENDIENTE"
    APROBADA = "APROBADA"
    PAUSADA = "PAUSADA"
    FINALIZADA = "FINALIZADA"
    CANCELADA = "CANCELADA"


class EstadoCliente(StrEnum):
    """A client's state as cliente publishes it (the local copy keeps it)."""

    ACTIVO = "ACTIVO"
    SUSPENDIDO = "SUSPENDIDO"


class TipoConversion(StrEnum):
    VENTA = "VENTA"
    CONVERSION = "CONVERSION"
    CLICK = "CLICK"
    IMPRESION = "IMPRESION"


class TipoComision(StrEnum):
    PORCENTAJE = "PORCENTAJE"  # `valor` is a percentage of the conversion's amount: 5 means 5 %
    FIJA = "FIJA"  # `valor` is an amount in the campaign's currency


COMISIONES_POR_DEFECTO = {
    TipoConversion.VENTA: (TipoComision.PORCENTAJE, Decimal("5")),
    TipoConversion.CONVERSION: (TipoComision.PORCENTAJE, Decimal("3")),
    TipoConversion.CLICK: (TipoComision.FIJA, Decimal("0.10")),
    TipoConversion.IMPRESION: (TipoComision.FIJA, Decimal("0.01")),
}
NOMBRE_MAXIMO = 200
MOTIVO_MAXIMO = 500
DIAS_RETENCION_POR_DEFECTO = 30
DIAS_RETENCION_MAXIMO = 365
VENTANA_ATRIBUCION_POR_DEFECTO = 30  # days a click can still earn its partner a conversion
VENTANA_ATRIBUCION_MAXIMA = 365
URL_DESTINO_MAXIMA = 2000  # what every browser and proxy carries in a Location header
# A percentage to the hundredth of a point (7.25 %, a basis point): finer terms are not how programs are
# written, and the commission is rounded to the currency's minor unit anyway.
DECIMALES_PORCENTAJE = 2
ESTADOS_TERMINALES = {EstadoCampania.FINALIZADA, EstadoCampania.CANCELADA}


# --- rules on single values (also used by the API serializers) ---------------


def validar_nombre(nombre: str) -> str:
    nombre = (nombre or "").strip()
    if not nombre:
        raise DomainError("El nombre de la campaña es obligatorio.", "nombre")
    if len(nombre) > NOMBRE_MAXIMO:
        raise DomainError(f"El nombre admite como máximo {NOMBRE_MAXIMO} caracteres.", "nombre")
    return nombre


def validar_presupuesto(presupuesto: Monto) -> Monto:
    if presupuesto.valor <= 0:
        raise DomainError("El presupuesto debe ser mayor que cero.", "presupuesto")
    decimales = MINOR_UNITS.get(presupuesto.moneda, 2)
    redondeado = presupuesto.valor.quantize(Decimal(1).scaleb(-decimales))
    if presupuesto.valor != redondeado:
        raise DomainError(f"Un presupuesto en {presupuesto.moneda} admite como máximo {decimales} decimales.", "presupuesto")
    return Monto(redondeado, presupuesto.moneda)  # written to the currency's minor unit: "1000.00"


def validar_fechas(fecha_inicio: date, fecha_fin: date, hoy: date) -> None:
    if fecha_inicio >= fecha_fin:
        raise DomainError("La fecha de inicio debe ser anterior a la fecha de fin.", "fecha_fin")
    if fecha_fin < hoy:
        raise DomainError("La fecha de fin ya pasó.", "fecha_fin")


def validar_dias_retencion(dias: int) -> int:
    if not isinstance(dias, int) or isinstance(dias, bool) or not 0 <= dias <= DIAS_RETENCION_MAXIMO:
        raise DomainError(f"Los días de retención van de 0 a {DIAS_RETENCION_MAXIMO}.", "dias_retencion")
    return dias


def validar_url_destino(url: str | None) -> str | None:
    """The landing page a tracking link sends visitors to: an absolute https URL with a host and no
    credentials (a link shared in public must not carry them)."""
    if url is None:
        return None
    if not isinstance(url, str) or not url.strip():
        raise DomainError("La url de destino no puede estar vacía.", "url_destino")
    url = url.strip()
    if len(url) > URL_DESTINO_MAXIMA:
        raise DomainError(f"La url de destino admite como máximo {URL_DESTINO_MAXIMA} caracteres.", "url_destino")
    if not url.isascii() or any(caracter.isspace() or ord(caracter) < 32 for caracter in url):
        raise DomainError("La url de destino debe estar codificada (sin espacios ni caracteres fuera de ASCII).",
                          "url_destino")
    try:
        partes = urlsplit(url)
        partes.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise DomainError("La url de destino no es una URL válida.", "url_destino") from None
    if partes.scheme != "https" or not partes.hostname:
        raise DomainError("La url de destino debe ser una URL https absoluta, p. ej. https://tienda.co/oferta.",
                          "url_destino")
    if partes.username or partes.password:
        raise DomainError("La url de destino no puede llevar usuario ni contraseña.", "url_destino")
    return url


def validar_ventana_atribucion(dias: int) -> int:
    if not isinstance(dias, int) or isinstance(dias, bool) or not 1 <= dias <= VENTANA_ATRIBUCION_MAXIMA:
        raise DomainError(f"La ventana de atribución va de 1 a {VENTANA_ATRIBUCION_MAXIMA} días.",
                          "ventana_atribucion_dias")
    return dias


def nuevo_codigo_enlace() -> str:
    """11 URL-safe characters, 64 random bits: one link's code tells nothing of another's."""
    return secrets.token_urlsafe(8)


def validar_comisiones(comisiones: dict[str, Any] | None, moneda: str | None = None) -> dict[str, dict[str, str]]:
    """The terms per conversion type, the defaults filled in: {tipo: {"tipo": ..., "valor": "5"}}.
    A FIJA value is an amount in the campaign's currency `moneda`: no finer than its minor unit."""
    terminos = {tipo: {"tipo": clase.value, "valor": str(valor)} for tipo, (clase, valor) in COMISIONES_POR_DEFECTO.items()}
    for tipo_conversion, termino in (comisiones or {}).items():
        if tipo_conversion not in TipoConversion.__members__:
            raise DomainError(f"Tipo de conversión desconocido: {tipo_conversion}; se espera VENTA, CONVERSION, CLICK o IMPRESION.", "comisiones")
        if not isinstance(termino, dict) or set(termino) != {"tipo", "valor"}:
            raise DomainError(f"La comisión de {tipo_conversion} debe ser {{tipo, valor}}.", "comisiones")
        if termino["tipo"] not in TipoComision.__members__:
            raise DomainError(f"La comisión de {tipo_conversion} debe ser PORCENTAJE o FIJA.", "comisiones")
        if isinstance(termino["valor"], str) and not DECIMAL_TEXT.fullmatch(termino["valor"]):
            raise DomainError(f'El valor de la comisión de {tipo_conversion} debe ser un decimal con dígitos ASCII, '
                              'p. ej. "7.5": sin espacios, separadores, guiones bajos ni exponente.', "comisiones")
        try:
            valor = Decimal(str(termino["valor"]))
        except InvalidOperation:
            raise DomainError(f"El valor de la comisión de {tipo_conversion} no es un número.", "comisiones") from None
        if isinstance(termino["valor"], float) or not valor.is_finite() or valor <= 0:
            raise DomainError(f"El valor de la comisión de {tipo_conversion} debe ser un decimal mayor que cero.", "comisiones")
        if termino["tipo"] == TipoComision.PORCENTAJE and valor > 100:
            raise DomainError(f"Un porcentaje de comisión ({tipo_conversion}) no puede superar 100.", "comisiones")
        if termino["tipo"] == TipoComision.PORCENTAJE and decimales(valor) > DECIMALES_PORCENTAJE:
            raise DomainError(f"Un porcentaje de comisión ({tipo_conversion}) admite como máximo "
                              f"{DECIMALES_PORCENTAJE} decimales.", "comisiones")
        if termino["tipo"] == TipoComision.FIJA and decimales(valor) > MINOR_UNITS.get(moneda, 2):
            raise DomainError(f"Una comisión fija ({tipo_conversion}) admite como máximo {MINOR_UNITS.get(moneda, 2)} "
                              "decimales, los de la moneda del presupuesto.", "comisiones")
        terminos[tipo_conversion] = {"tipo": termino["tipo"], "valor": str(valor)}
    return terminos


def validar_motivo(motivo: str | None) -> str:
    motivo = (motivo or "").strip()
    if len(motivo) > MOTIVO_MAXIMO:
        raise DomainError(f"El motivo admite como máximo {MOTIVO_MAXIMO} caracteres.", "motivo")
    return motivo


# --- events -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CampaniaCreada(DomainEvent):
    # v1 carried `presupuesto` as a bare decimal with a separate `moneda` and had no retention
    # days; v2 carries a Monto and `dias_retencion`; v3 adds the tracking links' landing page and
    # attribution window. Stored older events load through UPCASTERS.
    version = 3
    id_cliente: uuid.UUID
    nombre: str
    presupuesto: Monto
    fecha_inicio: date
    fecha_fin: date
    comisiones: dict[str, dict[str, str]]
    dias_retencion: int
    url_destino: str | None
    ventana_atribucion_dias: int


@dataclass(frozen=True, kw_only=True)
class CampaniaActualizada(DomainEvent):
    """The campaign's tracking settings after a change: both values, whichever changed."""

    url_destino: str | None
    ventana_atribucion_dias: int


@dataclass(frozen=True, kw_only=True)
class EnlaceCreado(DomainEvent):
    """An enrolment's tracking link: right after its SocioInscrito, or later for an enrolment that
    predates links. It is retired with the enrolment (SocioRetirado)."""

    id_socio: uuid.UUID
    codigo: str


@dataclass(frozen=True, kw_only=True)
class CampaniaAprobada(DomainEvent):
    id_pago: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class CampaniaCancelada(DomainEvent):
    motivo: str


@dataclass(frozen=True, kw_only=True)
class SocioInscrito(DomainEvent):
    id_socio: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class SocioRetirado(DomainEvent):
    id_socio: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class CampaniaPausada(DomainEvent):
    motivo: str


@dataclass(frozen=True, kw_only=True)
class CampaniaReanudada(DomainEvent):
    motivo: str


@dataclass(frozen=True, kw_only=True)
class CampaniaFinalizada(DomainEvent):
    motivo: str


EVENT_TYPES: dict[str, type[DomainEvent]] = {event.__name__: event for event in (
    CampaniaCreada, CampaniaAprobada, CampaniaCancelada, SocioInscrito, SocioRetirado,
    CampaniaPausada, CampaniaReanudada, CampaniaFinalizada, CampaniaActualizada, EnlaceCreado,
)}


def campania_creada_v1_a_v2(data: dict) -> dict:
    valor, moneda = data["presupuesto"], data["moneda"]
    upcast = {key: value for key, value in data.items() if key not in {"presupuesto", "moneda"}}
    return {**upcast, "presupuesto": {"valor": str(valor), "moneda": moneda}, "dias_retencion": DIAS_RETENCION_POR_DEFECTO}


def campania_creada_v2_a_v3(data: dict) -> dict:
    return {**data, "url_destino": None, "ventana_atribucion_dias": VENTANA_ATRIBUCION_POR_DEFECTO}


# {(type, stored version): function turning its data into the next version's}
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {
    ("CampaniaCreada", 1): campania_creada_v1_a_v2,
    ("CampaniaCreada", 2): campania_creada_v2_a_v3,
}


def upcast(type: str, version: int, data: dict) -> dict:
    """Bring stored event data up to the current version of its type, one step at a time."""
    while (type, version) in UPCASTERS:
        data, version = UPCASTERS[(type, version)](data), version + 1
    if version != EVENT_TYPES[type].version:
        raise ValueError(f"no upcaster from {type} v{version} to v{EVENT_TYPES[type].version}")
    return data


# --- the aggregate ------------------------------------------------------------


class Campania(Aggregate):
    SNAPSHOT_SCHEMA = 2  # bump when the snapshot's shape changes: older snapshots are then ignored

    def __init__(self, id: uuid.UUID, version: int = 0):
        super().__init__(id, version)
        self.id_cliente: uuid.UUID | None = None
        self.nombre = ""
        self.presupuesto: Monto | None = None
        self.fecha_inicio: date | None = None
        self.fecha_fin: date | None = None
        self.comisiones: dict[str, dict[str, str]] = {}
        self.dias_retencion = DIAS_RETENCION_POR_DEFECTO
        self.url_destino: str | None = None
        self.ventana_atribucion_dias = VENTANA_ATRIBUCION_POR_DEFECTO
        self.estado = EstadoCampania.PENDIENTE
        # Enrolled partners by the text of their id: a snapshot of 10,000 of them would spend most
        # of its load building UUID objects (~23 ms), and a set keeps the enrolment checks O(1).
        self._socios: set[str] = set()
        self._enlaces: dict[str, str] = {}  # the enrolled partner's id (text) → its link's code
        self.id_pago: uuid.UUID | None = None

    # --- commands ---

    @classmethod
    def crear(cls, id: uuid.UUID, *, id_cliente: uuid.UUID, estado_marca: str | None, nombre: str, presupuesto: Monto,
              fecha_inicio: date, fecha_fin: date, hoy: date, comisiones: dict | None = None,
              dias_retencion: int = DIAS_RETENCION_POR_DEFECTO, url_destino: str | None = None,
              ventana_atribucion_dias: int = VENTANA_ATRIBUCION_POR_DEFECTO) -> "Campania":
        if estado_marca is None:
            raise NotFound(f"No existe el cliente {id_cliente}.", "id_cliente")
        if estado_marca != EstadoCliente.ACTIVO:
            raise DomainError(f"La marca debe estar ACTIVA para crear una campaña; está {estado_marca}.", "id_cliente")
        validar_fechas(fecha_inicio, fecha_fin, hoy)
        campania = cls(id)
        campania._emit(CampaniaCreada(
            aggregate_id=id, id_cliente=id_cliente, nombre=validar_nombre(nombre),
            presupuesto=validar_presupuesto(presupuesto), fecha_inicio=fecha_inicio, fecha_fin=fecha_fin,
            comisiones=validar_comisiones(comisiones, presupuesto.moneda),
            dias_retencion=validar_dias_retencion(dias_retencion), url_destino=validar_url_destino(url_destino),
            ventana_atribucion_dias=validar_ventana_atribucion(ventana_atribucion_dias),
        ))
        return campania

    def actualizar(self, *, url_destino: str | None = None, ventana_atribucion_dias: int | None = None) -> None:
        """Change the tracking settings; a value not given stays. A finished or cancelled campaign
        takes no more clicks, so its settings no longer change."""
        if self.estado in ESTADOS_TERMINALES:
            raise DomainError(f"No se modifica una campaña {self.estado}.", "estado")
        if url_destino is None and ventana_atribucion_dias is None:
            raise DomainError("Indique url_destino o ventana_atribucion_dias.", "url_destino")
        nueva_url = validar_url_destino(url_destino) if url_destino is not None else self.url_destino
        nueva_ventana = (validar_ventana_atribucion(ventana_atribucion_dias) if ventana_atribucion_dias is not None
                         else self.ventana_atribucion_dias)
        if (nueva_url, nueva_ventana) == (self.url_destino, self.ventana_atribucion_dias):
            return  # nothing changes: no event
        self._emit(CampaniaActualizada(aggregate_id=self.id, url_destino=nueva_url,
                                       ventana_atribucion_dias=nueva_ventana))

    def aprobar(self, id_pago: uuid.UUID) -> None:
        self._exigir("aprobar", EstadoCampania.PENDIENTE)
        self._emit(CampaniaAprobada(aggregate_id=self.id, id_pago=id_pago))

    def cancelar(self, motivo: str, *, compensacion: bool = False) -> None:
        """PENDIENTE → CANCELADA; an approved or paused campaign only as compensation of a reverted charge."""
        permitidos = [EstadoCampania.PENDIENTE]
        if compensacion:
            permitidos += [EstadoCampania.APROBADA, EstadoCampania.PAUSADA]
        elif self.estado in (EstadoCampania.APROBADA, EstadoCampania.PAUSADA):
            raise DomainError(
                f"Una campaña {self.estado} solo se cancela si se revierte su cobro; para terminarla, finalícela.", "estado"
            )
        self._exigir("cancelar", *permitidos)
        self._emit(CampaniaCancelada(aggregate_id=self.id, motivo=validar_motivo(motivo)))

    def pausar(self, motivo: str = "") -> None:
        self._exigir("pausar", EstadoCampania.APROBADA)
        self._emit(CampaniaPausada(aggregate_id=self.id, motivo=validar_motivo(motivo)))

    def reanudar(self, motivo: str = "") -> None:
        self._exigir("reanudar", EstadoCampania.PAUSADA)
        self._emit(CampaniaReanudada(aggregate_id=self.id, motivo=validar_motivo(motivo)))

    def finalizar(self, motivo: str = "") -> None:
        self._exigir("finalizar", EstadoCampania.APROBADA, EstadoCampania.PAUSADA)
        self._emit(CampaniaFinalizada(aggregate_id=self.id, motivo=validar_motivo(motivo)))

    def inscribir_socio(self, id_socio: uuid.UUID, estado_socio: str | None, codigo_enlace: str | None = None) -> None:
        """The enrolment comes with its tracking link (`codigo_enlace`: a fresh code when not given)."""
        if self.estado in ESTADOS_TERMINALES:
            raise DomainError(f"No se inscriben socios en una campaña {self.estado}.", "estado")
        if estado_socio is None:
            raise NotFound(f"No existe el cliente {id_socio}.", "id_socio")
        if estado_socio != EstadoCliente.ACTIVO:
            raise DomainError(f"Solo un cliente ACTIVO puede inscribirse como socio; este está {estado_socio}.", "id_socio")
        if id_socio == self.id_cliente:
            raise DomainError("La marca no puede inscribirse como socio de su propia campaña.", "id_socio")
        if self.inscrito(id_socio):
            raise DomainError("El socio ya está inscrito en esta campaña.", "id_socio")
        self._emit(SocioInscrito(aggregate_id=self.id, id_socio=id_socio))
        self._emit(EnlaceCreado(aggregate_id=self.id, id_socio=id_socio, codigo=codigo_enlace or nuevo_codigo_enlace()))

    def crear_enlaces_faltantes(self, nuevo_codigo: Callable[[], str] = nuevo_codigo_enlace) -> int:
        """A link for every enrolment that predates links; how many were created."""
        if self.estado in ESTADOS_TERMINALES:
            return 0  # takes no more clicks
        sin_enlace = sorted(self._socios - set(self._enlaces))
        for id_socio in sin_enlace:
            self._emit(EnlaceCreado(aggregate_id=self.id, id_socio=uuid.UUID(id_socio), codigo=nuevo_codigo()))
        return len(sin_enlace)

    def enlace(self, id_socio: uuid.UUID) -> str | None:
        return self._enlaces.get(str(id_socio))

    def retirar_socio(self, id_socio: uuid.UUID) -> None:
        if self.estado in ESTADOS_TERMINALES:
            raise DomainError(f"No se retiran socios de una campaña {self.estado}.", "estado")
        if not self.inscrito(id_socio):
            raise DomainError("El socio no está inscrito en esta campaña.", "id_socio")
        self._emit(SocioRetirado(aggregate_id=self.id, id_socio=id_socio))

    def inscrito(self, id_socio: uuid.UUID) -> bool:
        return str(id_socio) in self._socios

    @property
    def socios(self) -> set[uuid.UUID]:
        return {uuid.UUID(socio) for socio in self._socios}

    def _exigir(self, accion: str, *permitidos: EstadoCampania) -> None:
        if self.estado not in permitidos:
            esperados = " o ".join(permitidos)
            raise DomainError(f"No se puede {accion} una campaña {self.estado}; debe estar {esperados}.", "estado")

    # --- state from events ---

    def _emit(self, event: DomainEvent) -> None:
        self.apply(event)
        self.record(event)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CampaniaCreada():
                self.id_cliente, self.nombre, self.presupuesto = event.id_cliente, event.nombre, event.presupuesto
                self.fecha_inicio, self.fecha_fin = event.fecha_inicio, event.fecha_fin
                self.comisiones, self.dias_retencion = dict(event.comisiones), event.dias_retencion
                self.url_destino, self.ventana_atribucion_dias = event.url_destino, event.ventana_atribucion_dias
            case CampaniaActualizada():
                self.url_destino, self.ventana_atribucion_dias = event.url_destino, event.ventana_atribucion_dias
            case EnlaceCreado():
                self._enlaces[str(event.id_socio)] = event.codigo
            case CampaniaAprobada():
                self.estado, self.id_pago = EstadoCampania.APROBADA, event.id_pago
            case CampaniaCancelada():
                self.estado = EstadoCampania.CANCELADA
            case CampaniaPausada():
                self.estado = EstadoCampania.PAUSADA
            case CampaniaReanudada():
                self.estado = EstadoCampania.APROBADA
            case CampaniaFinalizada():
                self.estado = EstadoCampania.FINALIZADA
            case SocioInscrito():
                self._socios.add(str(event.id_socio))
            case SocioRetirado():
                self._socios.discard(str(event.id_socio))
                self._enlaces.pop(str(event.id_socio), None)  # the link is retired with the enrolment
            case _:
                raise TypeError(f"Campania cannot apply {event.type}")

    @classmethod
    def replay(cls, id: uuid.UUID, events: Iterable[tuple[int, DomainEvent]], snapshot: dict | None = None) -> "Campania":
        """The campaign as of its last event: from a snapshot when given, then each (version, event)."""
        campania = cls.from_snapshot(id, snapshot) if snapshot else cls(id)
        for version, event in events:
            campania.apply(event)
            campania.version = version
        return campania

    def snapshot(self) -> dict[str, Any]:
        return {
            "id_cliente": str(self.id_cliente), "nombre": self.nombre, "presupuesto": self.presupuesto.as_dict(),
            "fecha_inicio": self.fecha_inicio.isoformat(), "fecha_fin": self.fecha_fin.isoformat(),
            "comisiones": self.comisiones, "dias_retencion": self.dias_retencion, "estado": self.estado.value,
            "url_destino": self.url_destino, "ventana_atribucion_dias": self.ventana_atribucion_dias,
            "socios": sorted(self._socios), "enlaces": self._enlaces, "id_pago": str(self.id_pago) if self.id_pago else None,
            "version": self.version,
        }

    @classmethod
    def from_snapshot(cls, id: uuid.UUID, state: dict[str, Any]) -> "Campania":
        campania = cls(id, state["version"])
        campania.id_cliente = uuid.UUID(state["id_cliente"])
        campania.nombre = state["nombre"]
        campania.presupuesto = Monto(Decimal(state["presupuesto"]["valor"]), state["presupuesto"]["moneda"])
        campania.fecha_inicio = date.fromisoformat(state["fecha_inicio"])
        campania.fecha_fin = date.fromisoformat(state["fecha_fin"])
        campania.comisiones = state["comisiones"]
        campania.dias_retencion = state["dias_retencion"]
        campania.estado = EstadoCampania(state["estado"])
        campania.url_destino = state["url_destino"]
        campania.ventana_atribucion_dias = state["ventana_atribucion_dias"]
        campania._socios = set(state["socios"])
        campania._enlaces = dict(state["enlaces"])
        campania.id_pago = uuid.UUID(state["id_pago"]) if state["id_pago"] else None
        return campania


# --- the approval saga --------------------------------------------------------


class EstadoSaga(StrEnum):
    ESPERANDO_COBRO = "ESPERANDO_COBRO"
    APROBADA = "APROBADA"  # the charge confirmed: the campaign runs
    CANCELADA = "CANCELADA"  # declined, timed out or cancelled by the brand before an answer
    COMPENSADA = "COMPENSADA"  # the charge of an approved campaign was reverted: campaign cancelled
    REEMBOLSO_SOLICITADO = "REEMBOLSO_SOLICITADO"  # a charge confirmed after the campaign was cancelled
    REEMBOLSADA = "REEMBOLSADA"  # ... and pagos reverted it


@dataclass
class SagaAprobacion:
    """The process manager between a new campaign and its charge in `pagos`. Each `on_…`
    returns what the campaign must do; the step history says why, for the back office."""

    id_campania: uuid.UUID
    vence_en: datetime
    plazo_segundos: int
    estado: EstadoSaga = EstadoSaga.ESPERANDO_COBRO
    id_pago: uuid.UUID | None = None
    pasos: list[dict[str, str]] = field(default_factory=list)
    version: int = 0

    @classmethod
    def iniciar(cls, id_campania: uuid.UUID, ahora: datetime, plazo: timedelta) -> "SagaAprobacion":
        saga = cls(id_campania=id_campania, vence_en=ahora + plazo, plazo_segundos=int(plazo.total_seconds()))
        saga._paso(ahora, "CobrarCampania enviado a pagos", f"plazo de respuesta {saga.plazo_segundos} s")
        return saga

    def on_pago_confirmado(self, id_pago: uuid.UUID, ahora: datetime) -> str:
        """'aprobar', 'reembolsar' or 'nada'."""
        self.id_pago = id_pago
        if self.estado is EstadoSaga.ESPERANDO_COBRO:
            return self._pasar(ahora, EstadoSaga.APROBADA, "PagoConfirmado: campaña aprobada", "aprobar")
        if self.estado is EstadoSaga.CANCELADA:
            return self._pasar(ahora, EstadoSaga.REEMBOLSO_SOLICITADO,
                               "PagoConfirmado tras cancelar la campaña: se pide revertir el cobro", "reembolsar")
        return self._ignorar(ahora, "PagoConfirmado")

    def on_pago_rechazado(self, motivo: str, ahora: datetime) -> str:
        """'cancelar' or 'nada'."""
        if self.estado is EstadoSaga.ESPERANDO_COBRO:
            return self._pasar(ahora, EstadoSaga.CANCELADA, f"PagoRechazado: {motivo}", "cancelar")
        return self._ignorar(ahora, "PagoRechazado")

    def on_pago_revertido(self, motivo: str, ahora: datetime) -> str:
        """'compensar' or 'nada'."""
        if self.estado is EstadoSaga.APROBADA:
            return self._pasar(ahora, EstadoSaga.COMPENSADA, f"PagoRevertido: {motivo}; campaña cancelada", "compensar")
        if self.estado is EstadoSaga.REEMBOLSO_SOLICITADO:
            return self._pasar(ahora, EstadoSaga.REEMBOLSADA, "PagoRevertido: reembolso hecho", "nada")
        return self._ignorar(ahora, "PagoRevertido")

    def vencida(self, ahora: datetime) -> bool:
        return self.estado is EstadoSaga.ESPERANDO_COBRO and ahora >= self.vence_en

    @property
    def motivo_vencimiento(self) -> str:
        return f"El cobro no respondió en {self.plazo_segundos} s."

    def on_vencimiento(self, ahora: datetime) -> str:
        """'cancelar' or 'nada'."""
        if not self.vencida(ahora):
            return "nada"
        return self._pasar(ahora, EstadoSaga.CANCELADA, "Sin respuesta del cobro en el plazo: campaña cancelada", "cancelar")

    def on_cancelacion(self, ahora: datetime) -> None:
        """The brand cancelled a pending campaign: a charge that confirms later gets refunded."""
        if self.estado is EstadoSaga.ESPERANDO_COBRO:
            self._pasar(ahora, EstadoSaga.CANCELADA, "CancelarCampania antes de la respuesta del cobro", "nada")

    def _pasar(self, ahora: datetime, estado: EstadoSaga, descripcion: str, accion: str) -> str:
        self.estado = estado
        self._paso(ahora, descripcion, accion)
        return accion

    def _ignorar(self, ahora: datetime, evento: str) -> str:
        self._paso(ahora, f"{evento} ignorado en estado {self.estado}", "nada")
        return "nada"

    def _paso(self, ahora: datetime, descripcion: str, detalle: str) -> None:
        self.pasos.append({"en": ahora.isoformat(), "paso": descripcion, "detalle": detalle, "estado": self.estado.value})
