"""Conversions → commissions (the `Transaction` of the seed): what a conversion earns, the
campaign budget it consumes, how a batch of them is decided, and how a commission is reversed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cached_property

from alpespartners.seedwork.domain import DomainError, DomainEvent, Monto

from .comun import EstadoCliente, unidades_menores, validar_monto

NAMESPACE_AJUSTES = uuid.UUID("0b6f3a1e-58c2-5a77-8d0e-7e4c2b9f3a15")
NAMESPACE_TRANSACCIONES = uuid.UUID("c3d9e2a4-7f10-5b6e-a1c8-4d2f9b0e6a37")


class TipoConversion(StrEnum):
    """What a partner drove; campaigns set a commission term per type (campanias has the same set)."""

    VENTA = "VENTA"
    CONVERSION = "CONVERSION"
    CLICK = "CLICK"
    IMPRESION = "IMPRESION"


class TipoComision(StrEnum):
    """How a campaign's term for a type pays (campanias validates the terms; pagos reads them)."""

    PORCENTAJE = "PORCENTAJE"  # `valor` is a percentage of the conversion's amount
    FIJA = "FIJA"  # `valor` is an amount in the campaign's currency


# a sale or a sign-up is worth an amount; a click is not
TIPOS_CON_MONTO = (TipoConversion.VENTA, TipoConversion.CONVERSION)
AJUSTE = "AJUSTE"  # the tipo of a negative adjustment: a refund of a commission already paid
# Commissions are rounded half up to the currency's minor unit (what a partner computes by hand:
# 5 % of 10.25 = 0.5125 → 0.51; 3 % of 10.50 = 0.315 → 0.32), once per commission.
REDONDEO = ROUND_HALF_UP
TOLERANCIA_RELOJ = timedelta(minutes=5)  # a conversion dated this far in the future is still accepted


class EstadoTransaccion(StrEnum):
    PENDIENTE = "PENDIENTE"  # in retention until pagable_desde
    PAGABLE = "PAGABLE"
    EN_PAYOUT = "EN_PAYOUT"
    PAGADA = "PAGADA"
    REVERTIDA = "REVERTIDA"


class EstadoCampania(StrEnum):
    """campanias' states as its events tell them (pagos keeps a local copy)."""

    PENDIENTE = "PENDIENTE"
    APROBADA = "APROBADA"
    PAUSADA = "PAUSADA"
    FINALIZADA = "FINALIZADA"
    CANCELADA = "CANCELADA"


class Resultado(StrEnum):
    """What became of one conversion; the per-item answer of a batch."""

    REGISTRADA = "REGISTRADA"
    DUPLICADA = "DUPLICADA"  # its id_externo was already registered: the same commission, never a second
    RECHAZADA = "RECHAZADA"


@dataclass(frozen=True)
class Conversion:
    id_externo: str
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    tipo: str
    monto: Monto | None
    ocurrida_en: datetime
    # When the click that attributes it happened (a postback); None for a conversion the brand
    # attributed itself (campaign and partner named in the request).
    click_en: datetime | None = None

    @cached_property
    def id_transaccion(self) -> uuid.UUID:
        # Computed once: the handler looks it up among the registered ones, the batch decides on it.
        return id_transaccion(self.id_campania, self.id_externo)


@dataclass(frozen=True)
class CampaniaVigente:
    """What pagos knows of a campaign, from campanias' events."""

    id: uuid.UUID
    estado: str
    fecha_inicio: date
    fecha_fin: date
    moneda: str
    comisiones: dict[str, dict[str, str]]
    dias_retencion: int
    ventana_atribucion_dias: int = 30  # how long after a click a conversion is still its partner's


@dataclass(frozen=True)
class Rechazo:
    codigo: str  # stable, for machines: campania_no_aprobada, fuera_de_fechas, socio_no_inscrito, ...
    motivo: str  # for people


def validar_monto_conversion(monto: Monto) -> Monto:
    return validar_monto(monto, "El monto de una conversión")


def calcular_comision(termino: dict[str, str], monto: Monto | None, moneda: str) -> Monto:
    """PORCENTAJE × monto / 100 or FIJA, in the campaign's currency, rounded half up to its minor unit."""
    valor = Decimal(termino["valor"])
    if termino["tipo"] == TipoComision.PORCENTAJE:
        valor = monto.valor * valor / 100
    return Monto(valor.quantize(Decimal(1).scaleb(-unidades_menores(moneda)), rounding=REDONDEO), moneda)


def evaluar_conversion(conversion: Conversion, campania: CampaniaVigente | None, socio_inscrito: bool,
                       estado_socio: str | None, fecha_local: date, ahora: datetime) -> Monto | Rechazo:
    """The commission a conversion earns, or why it earns none. The budget is checked apart, in order,
    under the campaign's lock (`Presupuesto.consumir`); duplicates are `decidir_conversiones`' call."""
    if campania is None:
        return Rechazo("campania_desconocida", f"La campaña {conversion.id_campania} no existe.")
    if campania.estado != EstadoCampania.APROBADA:
        return Rechazo("campania_no_aprobada",
                       f"La campaña está {campania.estado}; solo una campaña APROBADA acepta conversiones.")
    if conversion.ocurrida_en > ahora + TOLERANCIA_RELOJ:
        return Rechazo("fecha_futura", "La conversión no puede haber ocurrido en el futuro.")
    if conversion.click_en is not None and (rechazo := _fuera_de_ventana(conversion, campania)):
        return rechazo
    if not campania.fecha_inicio <= fecha_local <= campania.fecha_fin:
        return Rechazo("fuera_de_fechas", f"La conversión ocurrió el {fecha_local}, fuera de las fechas de la campaña "
                                          f"({campania.fecha_inicio} a {campania.fecha_fin}).")
    if not socio_inscrito:
        return Rechazo("socio_no_inscrito", "El socio no está inscrito en la campaña.")
    if estado_socio != EstadoCliente.ACTIVO:
        return Rechazo("socio_suspendido", "El socio está suspendido." if estado_socio == EstadoCliente.SUSPENDIDO
                       else f"El socio {conversion.id_socio} no está registrado.")
    termino = campania.comisiones.get(conversion.tipo)
    if termino is None:
        return Rechazo("tipo_desconocido", f"Tipo de conversión desconocido: {conversion.tipo}.")
    if conversion.monto is None and (conversion.tipo in TIPOS_CON_MONTO or termino["tipo"] == TipoComision.PORCENTAJE):
        return Rechazo("monto_requerido", f"Una conversión de tipo {conversion.tipo} requiere monto.")
    if conversion.monto is not None and conversion.monto.moneda != campania.moneda:
        return Rechazo("moneda_distinta", f"El monto está en {conversion.monto.moneda}; la campaña paga en "
                                          f"{campania.moneda}.")
    comision = calcular_comision(termino, conversion.monto, campania.moneda)
    if comision.valor <= 0:
        return Rechazo("comision_cero", f"La comisión de esta conversión redondea a cero {campania.moneda}.")
    return comision


def _fuera_de_ventana(conversion: Conversion, campania: CampaniaVigente) -> Rechazo | None:
    """A click attributes the conversions that follow it within the campaign's window, as the
    window is when the conversion is decided."""
    if conversion.ocurrida_en < conversion.click_en - TOLERANCIA_RELOJ:
        return Rechazo("anterior_al_click", f"La conversión ocurrió antes que el click que la atribuye "
                                            f"({conversion.click_en.isoformat()}).")
    if conversion.ocurrida_en - conversion.click_en > timedelta(days=campania.ventana_atribucion_dias):
        return Rechazo("click_fuera_de_ventana",
                       f"El click es del {conversion.click_en.isoformat()}; la campaña atribuye conversiones hasta "
                       f"{campania.ventana_atribucion_dias} días después del click.")
    return None


def comision_minima(comisiones: dict[str, dict[str, str]], moneda: str) -> Monto:
    """The smallest commission the campaign's terms can yield: a FIJA term always yields its valor
    (rounded as any commission); a PORCENTAJE term (0 < valor ≤ 100) yields as little as one minor
    unit for a small enough monto. A term that rounds to zero yields nothing (`comision_cero`), so it
    does not count."""
    unidad = Monto(Decimal(1).scaleb(-unidades_menores(moneda)), moneda)
    posibles = [unidad if termino["tipo"] == TipoComision.PORCENTAJE else calcular_comision(termino, None, moneda)
                for termino in comisiones.values()]
    # Terms that yield nothing refuse every conversion before the budget is looked at; the default
    # only keeps the answer a Monto.
    return min((posible for posible in posibles if posible.valor > 0), key=lambda monto: monto.valor, default=unidad)


def presupuesto_agotado(disponible: Monto, minima: Monto) -> bool:
    """Exhausted when no commission of the campaign's terms fits in what is left (`comision_minima`):
    with any PORCENTAJE term, only at zero; with FIJA terms only, below the smallest one."""
    return disponible.valor < minima.valor


def consumir_presupuesto(disponible: Monto, comision: Monto, minima: Monto) -> Monto | Rechazo:
    """What remains after paying this commission, or why it cannot be paid. A commission that does
    not fit is refused whole: the budget never goes below zero. It is `presupuesto_agotado` only when
    no commission of the terms fits any more; otherwise `presupuesto_insuficiente` (a smaller later
    one may still fit, so the campaign keeps running)."""
    if comision.valor > disponible.valor:
        if presupuesto_agotado(disponible, minima):
            return Rechazo("presupuesto_agotado", f"Presupuesto agotado: quedan {disponible.valor} {disponible.moneda} "
                                                  f"y la comisión es {comision.valor} {comision.moneda}.")
        return Rechazo("presupuesto_insuficiente", f"Presupuesto insuficiente: quedan {disponible.valor} "
                                                   f"{disponible.moneda} y la comisión es {comision.valor} "
                                                   f"{comision.moneda}.")
    return Monto(disponible.valor - comision.valor, disponible.moneda)


@dataclass
class Presupuesto:
    """A campaign's budget as a batch of conversions finds it, under the campaign's lock: what is
    left of it, and whether its exhaustion has been announced (once per campaign)."""

    campania: CampaniaVigente
    presupuesto: Monto
    disponible: Monto
    agotado_publicado: bool

    @cached_property
    def menor_comision(self) -> Monto:
        # The terms do not change during a batch: computed once per campaign, not per conversion.
        return comision_minima(self.campania.comisiones, self.campania.moneda)

    @property
    def agotado(self) -> bool:
        """No commission of the campaign's terms fits in what is left."""
        return presupuesto_agotado(self.disponible, self.menor_comision)

    def consumir(self, comision: Monto) -> Rechazo | None:
        """Pays the commission out of what is left, or says why it cannot (and the budget stays as it
        was): `presupuesto_insuficiente` while smaller commissions still fit, else `presupuesto_agotado`."""
        restante = consumir_presupuesto(self.disponible, comision, self.menor_comision)
        if isinstance(restante, Rechazo):
            return restante
        self.disponible = restante
        return None

    def anunciar_agotado(self) -> PresupuestoAgotado | None:
        """The event that pauses the campaign (campanias consumes it): once, when the budget is
        exhausted; None before, and after it was announced (the flag is saved with the budget)."""
        if self.agotado_publicado or not self.agotado:
            return None
        self.agotado_publicado = True
        return PresupuestoAgotado(aggregate_id=self.campania.id, id_campania=self.campania.id,
                                  presupuesto=self.presupuesto, disponible=self.disponible)


def pagable_desde(ocurrida_en: datetime, dias_retencion: int) -> datetime:
    return ocurrida_en + timedelta(days=dias_retencion)


def id_transaccion(id_campania: uuid.UUID, id_externo: str) -> uuid.UUID:
    # Computed from what makes a conversion unique, so a repeated one lands on the same row.
    return uuid.uuid5(NAMESPACE_TRANSACCIONES, f"{id_campania}/{id_externo}")


def id_ajuste(id_transaccion: uuid.UUID) -> uuid.UUID:
    # One adjustment per paid commission: a second refund of it computes the same id and is refused.
    return uuid.uuid5(NAMESPACE_AJUSTES, str(id_transaccion))


# --- a batch of conversions ----------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What became of one conversion of a batch: the per-item result of the command."""

    conversion: Conversion
    resultado: Resultado
    id_transaccion: uuid.UUID | None = None
    comision: Monto | None = None
    rechazo: Rechazo | None = None
    registrada: ComisionRegistrada | None = None  # the event of a REGISTRADA one

    def as_result(self) -> dict:
        return {
            "id_externo": self.conversion.id_externo, "id_campania": str(self.conversion.id_campania),
            "resultado": self.resultado.value,
            "id_transaccion": str(self.id_transaccion) if self.id_transaccion else None,
            "comision": self.comision.as_dict() if self.comision else None,
            "codigo": self.rechazo.codigo if self.rechazo else None,
            "motivo": self.rechazo.motivo if self.rechazo else None,
        }


@dataclass(frozen=True)
class ConversionesDecididas:
    """A batch decided: one decision per conversion, in their order, and what is to be written."""

    decisiones: list[Decision]
    comisiones: list[ComisionRegistrada]  # in the order of their conversions
    agotados: list[PresupuestoAgotado]  # budgets announced exhausted now
    presupuestos: list[Presupuesto]  # to save: those that paid a commission or ran out


def decidir_conversiones(conversiones: list[Conversion], *, presupuestos: dict[uuid.UUID, Presupuesto],
                         inscritos: set[tuple[uuid.UUID, uuid.UUID]], estados_socios: dict[uuid.UUID, str],
                         registradas: set[uuid.UUID], ahora: datetime, zona: tzinfo) -> ConversionesDecididas:
    """Decides a batch in arrival order on what was loaded for it: the campaigns' budgets (locked),
    the (campaign, partner) enrolments, the partners' states and the transaction ids already
    registered. A conversion already registered, before the batch or earlier in it, is a duplicate;
    each commission is paid out of its budget before the next conversion is looked at. `zona`: the
    platform's time zone, where a conversion's date is checked against the campaign's dates."""
    registradas = set(registradas)  # grows with the batch: the same id_externo later in it is a duplicate
    decisiones: list[Decision] = []
    sin_presupuesto: dict[uuid.UUID, Presupuesto] = {}
    for conversion in conversiones:
        if conversion.id_transaccion in registradas:
            decisiones.append(Decision(conversion, Resultado.DUPLICADA, conversion.id_transaccion))
            continue
        presupuesto = presupuestos.get(conversion.id_campania)
        evaluacion = evaluar_conversion(
            conversion, presupuesto.campania if presupuesto else None,
            (conversion.id_campania, conversion.id_socio) in inscritos, estados_socios.get(conversion.id_socio),
            conversion.ocurrida_en.astimezone(zona).date(), ahora,
        )
        if isinstance(evaluacion, Rechazo):
            decisiones.append(Decision(conversion, Resultado.RECHAZADA, rechazo=evaluacion))
            continue
        rechazo = presupuesto.consumir(evaluacion)
        if presupuesto.agotado:
            # Only a budget no commission of its terms fits in pauses the campaign: one commission
            # too large for what is left (presupuesto_insuficiente) leaves it running.
            sin_presupuesto[conversion.id_campania] = presupuesto
        if rechazo is not None:
            decisiones.append(Decision(conversion, Resultado.RECHAZADA, rechazo=rechazo))
            continue
        registradas.add(conversion.id_transaccion)
        decisiones.append(Decision(conversion, Resultado.REGISTRADA, conversion.id_transaccion, evaluacion,
                                   registrada=_comision_registrada(conversion, evaluacion, presupuesto.campania)))
    comisiones = [decision.registrada for decision in decisiones if decision.registrada is not None]
    agotados = [evento for presupuesto in sin_presupuesto.values() if (evento := presupuesto.anunciar_agotado())]
    cambiados = {evento.id_campania: presupuestos[evento.id_campania] for evento in comisiones} | sin_presupuesto
    return ConversionesDecididas(decisiones, comisiones, agotados, list(cambiados.values()))


def _comision_registrada(conversion: Conversion, comision: Monto, campania: CampaniaVigente) -> ComisionRegistrada:
    return ComisionRegistrada(
        aggregate_id=conversion.id_transaccion, id_campania=conversion.id_campania, id_socio=conversion.id_socio,
        id_externo=conversion.id_externo, tipo=conversion.tipo, monto_conversion=conversion.monto, comision=comision,
        ocurrida_en=conversion.ocurrida_en, pagable_desde=pagable_desde(conversion.ocurrida_en, campania.dias_retencion),
    )


@dataclass(frozen=True)
class Transaccion:
    """A commission as stored; refunds decide on it."""

    id: uuid.UUID
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    id_externo: str
    comision: Monto
    estado: str
    revertida_tras_pago: bool  # a PAGADA commission already refunded by an adjustment


def verificar_reversible(transaccion: Transaccion, payout_que_la_cubre: uuid.UUID | None) -> None:
    """PENDIENTE or PAGABLE ⇒ REVERTIDA; PAGADA ⇒ a negative adjustment; in a payout (sent, or
    calculated and about to be) it must wait for that payout's answer."""
    if transaccion.estado == EstadoTransaccion.REVERTIDA or transaccion.revertida_tras_pago:
        raise DomainError("La conversión ya fue revertida.", "id_externo")
    if transaccion.estado == EstadoTransaccion.EN_PAYOUT:
        raise DomainError("La comisión está en un payout en proceso; se puede revertir cuando el payout termine.",
                          "id_externo")
    if payout_que_la_cubre is not None:
        raise DomainError(f"La comisión está en el payout {payout_que_la_cubre}, calculado y por enviarse; se puede "
                          "revertir cuando el payout termine.", "id_externo")


# --- events of commissions ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ComisionRegistrada(DomainEvent):
    """aggregate_id: the transaction."""

    id_campania: uuid.UUID
    id_socio: uuid.UUID
    id_externo: str
    tipo: str
    monto_conversion: Monto | None
    comision: Monto
    ocurrida_en: datetime
    pagable_desde: datetime


@dataclass(frozen=True, kw_only=True)
class ComisionRevertida(DomainEvent):
    """aggregate_id: the transaction. `ajuste` is the negative adjustment when it had been paid."""

    id_campania: uuid.UUID
    id_socio: uuid.UUID
    id_externo: str
    comision: Monto
    motivo: str
    ajuste: Monto | None


@dataclass(frozen=True, kw_only=True)
class PresupuestoAgotado(DomainEvent):
    """aggregate_id: the campaign. Published once, when no commission of its terms fits in what is
    left of its budget (`presupuesto_agotado`)."""

    id_campania: uuid.UUID
    presupuesto: Monto
    disponible: Monto
