"""pagos' domain: the `Pago` aggregate (a brand charged for a campaign budget), the gateway port,
the rules that turn conversions into commissions, and payouts. No Django here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from alpespartners.seedwork.domain import MINOR_UNITS, Aggregate, DomainError, DomainEvent, Monto, TransientError

# uuid5 namespace of charges: a campaign's pago id is computed, so every retry agrees on it.
NAMESPACE_COBROS = uuid.UUID("6f1c7a52-3b8e-5d14-9a0e-2c4b8f7d1e63")
NAMESPACE_AJUSTES = uuid.UUID("0b6f3a1e-58c2-5a77-8d0e-7e4c2b9f3a15")
NAMESPACE_TRANSACCIONES = uuid.UUID("c3d9e2a4-7f10-5b6e-a1c8-4d2f9b0e6a37")
NAMESPACE_CICLOS = uuid.UUID("5e8a1f3b-92c4-5d07-b6e1-3a7c0d4f8e92")
# The write model stores DecimalField(max_digits=20, decimal_places=4): 16 integer digits.
MONTO_MAXIMO = Decimal(10) ** 16


class EstadoPago(StrEnum):
    PENDIENTE = "PENDIENTE"
    CONFIRMADO = "CONFIRMADO"
    RECHAZADO = "RECHAZADO"
    REVERTIDO = "REVERTIDO"


class EstadoCliente(StrEnum):
    """cliente's states as its events tell them (pagos keeps a local copy)."""

    ACTIVO = "ACTIVO"
    SUSPENDIDO = "SUSPENDIDO"


class CobroDuplicado(DomainError):
    """The campaign already has its one charge (the database's unique id_campania decided)."""

    code = "conflicto"


# --- the gateway port ----------------------------------------------------------


class PagoDeclinado(DomainError):
    """The gateway refused the operation for good (declined card, unknown payment method)."""

    code = "pago_declinado"

    def __init__(self, motivo: str):
        super().__init__(motivo)
        self.motivo = motivo


class ErrorTransitorioPasarela(TransientError):
    """The gateway did not answer or asked to try later: the same call, same key, may pass."""


class PasarelaPagos(Protocol):
    """A payment provider. The same idempotency key twice never moves money twice."""

    def cobrar(self, clave_idempotencia: str, token: str, monto: Monto) -> str:
        """Charge `monto` to the payment method `token`; returns the provider's confirmation code."""

    def reembolsar(self, clave_idempotencia: str, confirmacion: str, monto: Monto) -> str:
        """Refund `monto` of the charge `confirmacion`; returns the refund's confirmation code."""

    def pagar(self, clave_idempotencia: str, token: str, monto: Monto) -> str:
        """Pay `monto` out to the payment method `token` (a partner's payout); returns the confirmation code."""


def clave_cobro(id_campania: uuid.UUID) -> str:
    # From the campaign, not the command: two CobrarCampania for one campaign are one charge.
    return f"cobro:{id_campania}"


def clave_reembolso(id_pago: uuid.UUID) -> str:
    return f"reembolso:{id_pago}"


def id_pago(id_campania: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE_COBROS, str(id_campania))


# --- rules -------------------------------------------------------------------------


def unidades_menores(moneda: str) -> int:
    return MINOR_UNITS.get(moneda, 2)


def normalizar(monto: Monto) -> Monto:
    """The amount with exactly the currency's minor units, so every event writes it the same way."""
    return Monto(monto.valor.quantize(Decimal(1).scaleb(-unidades_menores(monto.moneda))), monto.moneda)


def validar_monto_a_cobrar(monto: Monto) -> Monto:
    """A malformed amount is a bad command (it fails), not a charge the brand could not pay."""
    return _validar_monto(monto, "El monto a cobrar")


def validar_monto_conversion(monto: Monto) -> Monto:
    return _validar_monto(monto, "El monto de una conversión")


def _validar_monto(monto: Monto, nombre: str) -> Monto:
    """Positive, within the stored range, with the currency's minor units; returned normalised."""
    if monto.valor <= 0:
        raise DomainError(f"{nombre} debe ser mayor que cero.", "monto")
    if monto.valor >= MONTO_MAXIMO:
        raise DomainError(f"{nombre} excede el máximo admitido.", "monto")
    normalizado = normalizar(monto)
    if normalizado.valor != monto.valor:
        raise DomainError(
            f"El monto tiene más decimales de los que admite {monto.moneda} ({unidades_menores(monto.moneda)}).", "monto"
        )
    return normalizado


@dataclass(frozen=True)
class ClienteConocido:
    """What pagos knows of a client (the brand it charges, the partner it pays), from cliente's events."""

    id: uuid.UUID
    estado: str
    token_predeterminado: str


def motivo_para_no_cobrar(id_cliente: uuid.UUID, marca: ClienteConocido | None) -> str | None:
    """Why this brand cannot be charged, or None. These are answers (a RECHAZADO charge), not failures."""
    if marca is None or marca.estado not in (EstadoCliente.ACTIVO, EstadoCliente.SUSPENDIDO):
        return f"La marca {id_cliente} no está registrada."
    if marca.estado == EstadoCliente.SUSPENDIDO:
        return "La marca está suspendida."
    if not marca.token_predeterminado:
        return "La marca no tiene un medio de pago predeterminado."
    return None


# --- events --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PagoConfirmado(DomainEvent):
    id_campania: uuid.UUID
    id_cliente: uuid.UUID
    monto: Monto
    confirmacion: str


@dataclass(frozen=True, kw_only=True)
class PagoRechazado(DomainEvent):
    id_campania: uuid.UUID
    id_cliente: uuid.UUID
    monto: Monto
    motivo: str


@dataclass(frozen=True, kw_only=True)
class PagoRevertido(DomainEvent):
    id_campania: uuid.UUID
    id_cliente: uuid.UUID
    monto: Monto
    motivo: str


# --- the aggregate ---------------------------------------------------------------------


class Pago(Aggregate):
    """The one charge of a campaign's budget: PENDIENTE → CONFIRMADO | RECHAZADO; CONFIRMADO → REVERTIDO."""

    def __init__(self, id, *, id_campania, id_cliente, monto, estado=EstadoPago.PENDIENTE, motivo=None,
                 confirmacion=None, confirmacion_reembolso=None, version=0):
        super().__init__(id, version)
        self.id_campania = id_campania
        self.id_cliente = id_cliente
        self.monto: Monto = monto
        self.estado = EstadoPago(estado)
        self.motivo: str | None = motivo
        self.confirmacion: str | None = confirmacion
        self.confirmacion_reembolso: str | None = confirmacion_reembolso

    @classmethod
    def iniciar(cls, *, id_campania: uuid.UUID, id_cliente: uuid.UUID, monto: Monto) -> "Pago":
        return cls(id_pago(id_campania), id_campania=id_campania, id_cliente=id_cliente,
                   monto=validar_monto_a_cobrar(monto))

    def confirmar(self, confirmacion: str) -> None:
        self._exigir(EstadoPago.PENDIENTE, "confirmarse")
        if not confirmacion:
            raise DomainError("La confirmación de la pasarela es obligatoria.", "confirmacion")
        self.estado, self.confirmacion = EstadoPago.CONFIRMADO, confirmacion
        self.record(PagoConfirmado(aggregate_id=self.id, id_campania=self.id_campania, id_cliente=self.id_cliente,
                                   monto=self.monto, confirmacion=confirmacion))

    def rechazar(self, motivo: str) -> None:
        self._exigir(EstadoPago.PENDIENTE, "rechazarse")
        self.estado, self.motivo = EstadoPago.RECHAZADO, motivo
        self.record(PagoRechazado(aggregate_id=self.id, id_campania=self.id_campania, id_cliente=self.id_cliente,
                                  monto=self.monto, motivo=motivo))

    def verificar_reversible(self) -> None:
        """Checked before asking the gateway for a refund, and again by `revertir`."""
        self._exigir(EstadoPago.CONFIRMADO, "revertirse")

    def revertir(self, motivo: str, confirmacion_reembolso: str) -> None:
        self.verificar_reversible()
        self.estado, self.motivo, self.confirmacion_reembolso = EstadoPago.REVERTIDO, motivo, confirmacion_reembolso
        self.record(PagoRevertido(aggregate_id=self.id, id_campania=self.id_campania, id_cliente=self.id_cliente,
                                  monto=self.monto, motivo=motivo))

    def _exigir(self, estado: EstadoPago, accion: str) -> None:
        if self.estado is not estado:
            raise DomainError(f"Solo un cobro {estado.value} puede {accion}; este está {self.estado.value}.", "estado")


# === Conversions → commissions (the `Transaction` of the seed) =====================

class TipoConversion(StrEnum):
    """What a partner drove; campaigns set a commission term per type (campanias has the same set)."""

    VENTA = "VENTA"
    CONVERSION = "CONVERSION"
    CLICK = "CLICK"
    IMPRESION = "IMPRESION"


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


@dataclass(frozen=True)
class Rechazo:
    codigo: str  # stable, for machines: campania_no_aprobada, fuera_de_fechas, socio_no_inscrito, ...
    motivo: str  # for people


def calcular_comision(termino: dict[str, str], monto: Monto | None, moneda: str) -> Monto:
    """PORCENTAJE × monto / 100 or FIJA, in the campaign's currency, rounded half up to its minor unit."""
    valor = Decimal(termino["valor"])
    if termino["tipo"] == "PORCENTAJE":
        valor = monto.valor * valor / 100
    return Monto(valor.quantize(Decimal(1).scaleb(-unidades_menores(moneda)), rounding=REDONDEO), moneda)


def evaluar_conversion(conversion: Conversion, campania: CampaniaVigente | None, socio_inscrito: bool,
                       estado_socio: str | None, fecha_local: date, ahora: datetime) -> Monto | Rechazo:
    """The commission a conversion earns, or why it earns none. The budget is checked apart, in order,
    under the campaign's lock (`consumir_presupuesto`); duplicates are the database's call."""
    if campania is None:
        return Rechazo("campania_desconocida", f"La campaña {conversion.id_campania} no existe.")
    if campania.estado != EstadoCampania.APROBADA:
        return Rechazo("campania_no_aprobada",
                       f"La campaña está {campania.estado}; solo una campaña APROBADA acepta conversiones.")
    if conversion.ocurrida_en > ahora + TOLERANCIA_RELOJ:
        return Rechazo("fecha_futura", "La conversión no puede haber ocurrido en el futuro.")
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
    if conversion.monto is None and (conversion.tipo in TIPOS_CON_MONTO or termino["tipo"] == "PORCENTAJE"):
        return Rechazo("monto_requerido", f"Una conversión de tipo {conversion.tipo} requiere monto.")
    if conversion.monto is not None and conversion.monto.moneda != campania.moneda:
        return Rechazo("moneda_distinta", f"El monto está en {conversion.monto.moneda}; la campaña paga en "
                                          f"{campania.moneda}.")
    comision = calcular_comision(termino, conversion.monto, campania.moneda)
    if comision.valor <= 0:
        return Rechazo("comision_cero", f"La comisión de esta conversión redondea a cero {campania.moneda}.")
    return comision


def comision_minima(comisiones: dict[str, dict[str, str]], moneda: str) -> Monto:
    """The smallest commission the campaign's terms can yield: a FIJA term always yields its valor
    (rounded as any commission); a PORCENTAJE term (0 < valor ≤ 100) yields as little as one minor
    unit for a small enough monto. A term that rounds to zero yields nothing (`comision_cero`), so it
    does not count."""
    unidad = Monto(Decimal(1).scaleb(-unidades_menores(moneda)), moneda)
    posibles = [unidad if termino["tipo"] == "PORCENTAJE" else calcular_comision(termino, None, moneda)
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


def pagable_desde(ocurrida_en: datetime, dias_retencion: int) -> datetime:
    return ocurrida_en + timedelta(days=dias_retencion)


def id_transaccion(id_campania: uuid.UUID, id_externo: str) -> uuid.UUID:
    # Computed from what makes a conversion unique, so a repeated one lands on the same row.
    return uuid.uuid5(NAMESPACE_TRANSACCIONES, f"{id_campania}/{id_externo}")


def id_ajuste(id_transaccion: uuid.UUID) -> uuid.UUID:
    # One adjustment per paid commission: a second refund of it computes the same id and is refused.
    return uuid.uuid5(NAMESPACE_AJUSTES, str(id_transaccion))


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


# === Payouts ==========================================================================


class EstadoCiclo(StrEnum):
    """A payout cycle: EN_CURSO while it calculates (inside its transaction), CALCULADO once its payouts exist."""

    EN_CURSO = "EN_CURSO"
    CALCULADO = "CALCULADO"


class EstadoPayout(StrEnum):
    PENDIENTE = "PENDIENTE"
    CALCULADO = "CALCULADO"
    EN_PROCESO = "EN_PROCESO"
    EXITOSO = "EXITOSO"
    FALLIDO = "FALLIDO"


def clave_payout(id_payout: uuid.UUID, intento: int) -> str:
    # The payout id is the key of its first sending; a retry after FALLIDO is a new request to the
    # provider (the partner may have fixed the payment method), numbered so it is idempotent too.
    return f"payout:{id_payout}" if intento <= 1 else f"payout:{id_payout}:{intento}"


def id_ciclo(fecha_corte: date) -> uuid.UUID:
    # From the cut-off: running a cut-off again, or from two schedulers, finds the same cycle.
    return uuid.uuid5(NAMESPACE_CICLOS, fecha_corte.isoformat())


def id_payout(id_ciclo: uuid.UUID, id_socio: uuid.UUID, moneda: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE_CICLOS, f"{id_ciclo}/{id_socio}/{moneda}")


def fin_del_corte(fecha_corte: date, zona) -> datetime:
    """Commissions payable before the end of the cut-off day (in the platform's time zone) enter the cycle."""
    return datetime.combine(fecha_corte + timedelta(days=1), time.min, tzinfo=zona)


def limite_de_pago(fecha_corte: date, zona, ahora: datetime) -> datetime:
    """What a cycle may pay: commissions payable by the end of its cut-off day, and never one still in
    retention now, whatever the cut-off (a cut-off in the future pays only what is payable today)."""
    return min(fin_del_corte(fecha_corte, zona), ahora)


def supera_minimo(total: Decimal, moneda: str, minimos: dict[str, Decimal]) -> bool:
    """A partner is paid when the net total reaches the currency's minimum (and is positive: adjustments
    may leave nothing to pay); below it, the commissions wait for a later cycle."""
    return total > 0 and total >= minimos.get(moneda, Decimal(0))


class Payout(Aggregate):
    """CALCULADO → EN_PROCESO → EXITOSO | FALLIDO; FALLIDO → CALCULADO when retried (PENDIENTE is the
    instant between its creation and its calculation, inside the cycle's transaction).

    A cycle only writes its payouts; each one announces itself (PayoutCreado, ComisionesCalculadas)
    with its first sending, in the transaction where it claims the commissions it covers: the
    cycle, which holds writers of commissions back while it runs, stays as short as it can."""

    def __init__(self, id: uuid.UUID, *, id_socio: uuid.UUID, id_ciclo: uuid.UUID, fecha_corte: date,
                 monto_total: Monto, transacciones: int, estado: str, intentos: int, confirmacion: str = "",
                 motivo_fallo: str = "", version: int = 1):
        super().__init__(id, version)
        self.id_socio = id_socio
        self.id_ciclo = id_ciclo
        self.fecha_corte = fecha_corte
        self.monto_total = monto_total
        self.transacciones = transacciones
        self.estado = EstadoPayout(estado)
        self.intentos = intentos
        self.confirmacion = confirmacion
        self.motivo_fallo = motivo_fallo

    @property
    def clave(self) -> str:
        return clave_payout(self.id, self.intentos)

    def procesar(self) -> None:
        self._exigir("enviarse", EstadoPayout.CALCULADO)
        if self.intentos == 0:
            self.record(PayoutCreado(aggregate_id=self.id, id_socio=self.id_socio, id_ciclo=self.id_ciclo,
                                     fecha_corte=self.fecha_corte, moneda=self.monto_total.moneda))
            self.record(ComisionesCalculadas(aggregate_id=self.id, id_socio=self.id_socio, id_ciclo=self.id_ciclo,
                                             monto_total=self.monto_total, transacciones=self.transacciones))
        self.estado, self.intentos = EstadoPayout.EN_PROCESO, self.intentos + 1
        self.record(PayoutProcesado(aggregate_id=self.id, id_socio=self.id_socio, monto_total=self.monto_total,
                                    intento=self.intentos))

    def registrar_exito(self, confirmacion: str) -> None:
        self._exigir("confirmarse", EstadoPayout.EN_PROCESO)
        self.estado, self.confirmacion = EstadoPayout.EXITOSO, confirmacion
        self.record(PayoutExitoso(aggregate_id=self.id, id_socio=self.id_socio, monto_total=self.monto_total,
                                  confirmacion=confirmacion))

    def registrar_fallo(self, motivo: str) -> None:
        self._exigir("fallar", EstadoPayout.EN_PROCESO)
        self.estado, self.motivo_fallo = EstadoPayout.FALLIDO, motivo
        self.record(PayoutFallido(aggregate_id=self.id, id_socio=self.id_socio, monto_total=self.monto_total,
                                  motivo=motivo))

    @property
    def primer_envio(self) -> bool:
        """Sent for the first time: it has yet to claim the commissions it covers."""
        return self.estado is EstadoPayout.EN_PROCESO and self.intentos == 1

    def verificar_reclamo(self, transacciones: int, total: Monto) -> None:
        """What its first sending claimed must be what its cycle calculated, or it is not sent: it
        fails and the commissions wait for the next cycle. (Refunds of covered commissions are
        refused and a cycle waits for commissions being written, so only a writer outside these
        rules could cause it.)"""
        if (transacciones, total) != (self.transacciones, self.monto_total):
            self.registrar_fallo(f"Sus comisiones cambiaron desde el cálculo ({self.transacciones} por "
                                 f"{self.monto_total.valor} {self.monto_total.moneda}; ahora {transacciones} por "
                                 f"{total.valor} {total.moneda}); el próximo ciclo las paga.")

    def reintentar(self, transacciones_recuperadas: int) -> None:
        """Only with every one of its commissions back: a later cycle may have paid some, or a refund
        reverted them, and the total it announced would no longer be what it pays."""
        self._exigir("reintentarse", EstadoPayout.FALLIDO)
        if transacciones_recuperadas != self.transacciones:
            raise DomainError("No se puede reintentar este payout: alguna de sus comisiones ya no está libre "
                              "(la tomó un ciclo posterior o se revirtió).", "estado")
        self.estado, self.motivo_fallo = EstadoPayout.CALCULADO, ""

    def _exigir(self, accion: str, estado: EstadoPayout) -> None:
        if self.estado is not estado:
            raise DomainError(f"Solo un payout {estado.value} puede {accion}; este está {self.estado.value}.", "estado")


@dataclass(frozen=True, kw_only=True)
class PayoutCreado(DomainEvent):
    """aggregate_id: the payout."""

    id_socio: uuid.UUID
    id_ciclo: uuid.UUID
    fecha_corte: date
    moneda: str


@dataclass(frozen=True, kw_only=True)
class ComisionesCalculadas(DomainEvent):
    id_socio: uuid.UUID
    id_ciclo: uuid.UUID
    monto_total: Monto
    transacciones: int


@dataclass(frozen=True, kw_only=True)
class PayoutProcesado(DomainEvent):
    """Sent to the gateway (EN_PROCESO)."""

    id_socio: uuid.UUID
    monto_total: Monto
    intento: int


@dataclass(frozen=True, kw_only=True)
class PayoutExitoso(DomainEvent):
    id_socio: uuid.UUID
    monto_total: Monto
    confirmacion: str


@dataclass(frozen=True, kw_only=True)
class PayoutFallido(DomainEvent):
    id_socio: uuid.UUID
    monto_total: Monto
    motivo: str
