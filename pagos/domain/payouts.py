"""Payouts: the cycles that pay partners their commissions, which commissions and partners a cycle
pays, the `Payout` aggregate, how the commissions it covers follow it, and its events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from alpespartners.seedwork.domain import Aggregate, DomainError, DomainEvent, Monto

from .comisiones import EstadoTransaccion
from .comun import EstadoCliente

NAMESPACE_CICLOS = uuid.UUID("5e8a1f3b-92c4-5d07-b6e1-3a7c0d4f8e92")


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


class ResultadoIntento(StrEnum):
    """What one sending of a payout came to, as its timeline shows it."""

    EXITOSO = "EXITOSO"
    RECHAZADO = "RECHAZADO"  # the gateway declined it
    SIN_RESPUESTA = "SIN_RESPUESTA"  # the gateway did not answer: the same key is asked again
    NO_ENVIADO = "NO_ENVIADO"  # failed before reaching the gateway


# Our own codes for an attempt the gateway did not decide.
SIN_MEDIO_DE_PAGO = "sin_medio_de_pago"
COMISIONES_CAMBIARON = "comisiones_cambiaron"
SIN_RESPUESTA = "sin_respuesta"


@dataclass(frozen=True)
class Envio:
    """A sending to the gateway: when it left and which payment method it went to (its mask only)."""

    enviado_en: datetime
    mascara: str = ""


@dataclass(frozen=True)
class IntentoPayout:
    """One sending of a payout and its answer, kept for its timeline (the outbox is purged)."""

    intento: int
    resultado: ResultadoIntento
    respondido_en: datetime
    enviado_en: datetime | None = None  # None: never reached the gateway
    codigo: str = ""
    mensaje: str = ""
    mascara: str = ""
    confirmacion: str = ""


# A payout not answered yet. A partner has one at a time per currency (what it covers is then still
# what it pays), so a cycle leaves out a partner with one: its rows wait for that payout's answer.
ESTADOS_EN_CURSO = (EstadoPayout.CALCULADO, EstadoPayout.EN_PROCESO)


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


# --- what a cycle pays -----------------------------------------------------------------

# Commissions and adjustments in no payout yet. PENDIENTE ones too: their retention ends by date
# (`pagable_desde`), not by a change of state.
ESTADOS_POR_PAGAR = (EstadoTransaccion.PENDIENTE, EstadoTransaccion.PAGABLE)
# A suspended partner is paid nothing: its commissions wait, whole, for a cycle after its reactivation.
SOCIO_SIN_PAGOS = EstadoCliente.SUSPENDIDO


def se_paga_en_ciclo(estado: str, pagable_desde: datetime, limite: datetime) -> bool:
    """A commission (or adjustment) a cycle pays: in no payout yet, and out of retention before the
    cycle's limit (`limite_de_pago`)."""
    return estado in ESTADOS_POR_PAGAR and pagable_desde < limite


def se_paga_al_socio(estado_socio: str | None) -> bool:
    """A cycle pays any partner but a suspended one. One pagos has no copy of is paid as well (its
    payout then fails for want of a payment method)."""
    return estado_socio != SOCIO_SIN_PAGOS


# --- how the commissions a payout covers follow it ------------------------------------


class Transicion(NamedTuple):
    """A payout's commissions in state `desde` take state `hacia`."""

    desde: EstadoTransaccion
    hacia: EstadoTransaccion


# Its first sending claims the rows it covers: those in ESTADOS_POR_PAGAR take this state and its id_payout.
ESTADO_RECLAMADA = EstadoTransaccion.EN_PAYOUT
AL_PAGARSE = Transicion(ESTADO_RECLAMADA, EstadoTransaccion.PAGADA)
# Released for a retry or a later cycle; they keep id_payout (the payout they were last in), which
# lets a retry take them back.
AL_FALLAR = Transicion(ESTADO_RECLAMADA, EstadoTransaccion.PAGABLE)
# A retry takes back those of its released rows no later cycle has claimed meanwhile.
AL_REINTENTARSE = Transicion(EstadoTransaccion.PAGABLE, ESTADO_RECLAMADA)


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
        self.intentos_nuevos: list[IntentoPayout] = []  # what this change adds to its timeline

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

    def registrar_exito(self, confirmacion: str, envio: Envio | None, ahora: datetime) -> None:
        self._exigir("confirmarse", EstadoPayout.EN_PROCESO)
        self.estado, self.confirmacion = EstadoPayout.EXITOSO, confirmacion
        self._anotar(ResultadoIntento.EXITOSO, ahora, envio, confirmacion=confirmacion)
        self.record(PayoutExitoso(aggregate_id=self.id, id_socio=self.id_socio, monto_total=self.monto_total,
                                  confirmacion=confirmacion))

    def registrar_fallo(self, motivo: str, codigo: str, ahora: datetime, envio: Envio | None = None) -> None:
        """`envio` None: it never reached the gateway, or (`codigo` SIN_RESPUESTA) the sending task gave
        up on a gateway that never answered."""
        self._exigir("fallar", EstadoPayout.EN_PROCESO)
        self.estado, self.motivo_fallo = EstadoPayout.FALLIDO, motivo
        resultado = ResultadoIntento.NO_ENVIADO if envio is None else ResultadoIntento.RECHAZADO
        if codigo == SIN_RESPUESTA:
            resultado = ResultadoIntento.SIN_RESPUESTA
        self._anotar(resultado, ahora, envio, codigo=codigo, mensaje=motivo)
        self.record(PayoutFallido(aggregate_id=self.id, id_socio=self.id_socio, monto_total=self.monto_total,
                                  motivo=motivo))

    def anotar_sin_respuesta(self, mensaje: str, envio: Envio, ahora: datetime) -> None:
        """The gateway did not answer; the payout stays EN_PROCESO and its key is asked again."""
        self._exigir("esperar respuesta", EstadoPayout.EN_PROCESO)
        self._anotar(ResultadoIntento.SIN_RESPUESTA, ahora, envio, codigo=SIN_RESPUESTA, mensaje=mensaje)

    def _anotar(self, resultado: ResultadoIntento, ahora: datetime, envio: Envio | None, **detalle: str) -> None:
        self.intentos_nuevos.append(IntentoPayout(
            intento=self.intentos, resultado=resultado, respondido_en=ahora,
            enviado_en=envio.enviado_en if envio else None, mascara=envio.mascara if envio else "", **detalle))

    def estados_de_sus_comisiones(self) -> Transicion | None:
        """How the commissions it claimed follow its answer: paid when EXITOSO, released when
        FALLIDO; None while it has no answer."""
        if self.estado is EstadoPayout.EXITOSO:
            return AL_PAGARSE
        if self.estado is EstadoPayout.FALLIDO:
            return AL_FALLAR
        return None

    @property
    def primer_envio(self) -> bool:
        """Sent for the first time: it has yet to claim the commissions it covers."""
        return self.estado is EstadoPayout.EN_PROCESO and self.intentos == 1

    def verificar_reclamo(self, transacciones: int, total: Monto, ahora: datetime) -> None:
        """What its first sending claimed must be what its cycle calculated, or it is not sent: it
        fails and the commissions wait for the next cycle. (Refunds of covered commissions are
        refused and a cycle waits for commissions being written, so only a writer outside these
        rules could cause it.)"""
        if (transacciones, total) != (self.transacciones, self.monto_total):
            self.registrar_fallo(f"Sus comisiones cambiaron desde el cálculo ({self.transacciones} por "
                                 f"{self.monto_total.valor} {self.monto_total.moneda}; ahora {transacciones} por "
                                 f"{total.valor} {total.moneda}); el próximo ciclo las paga.",
                                 COMISIONES_CAMBIARON, ahora)

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
