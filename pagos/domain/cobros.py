"""Charges: the `Pago` aggregate (a brand charged for a campaign budget), its events, and the
gateway port it is charged through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from alpespartners.seedwork.domain import Aggregate, DomainError, DomainEvent, Monto, TransientError

from .comun import EstadoCliente, validar_monto

# uuid5 namespace of charges: a campaign's pago id is computed, so every retry agrees on it.
NAMESPACE_COBROS = uuid.UUID("6f1c7a52-3b8e-5d14-9a0e-2c4b8f7d1e63")


class EstadoPago(StrEnum):
    PENDIENTE = "PENDIENTE"
    CONFIRMADO = "CONFIRMADO"
    RECHAZADO = "RECHAZADO"
    REVERTIDO = "REVERTIDO"


class CobroDuplicado(DomainError):
    """The campaign already has its one charge (the database's unique id_campania decided)."""

    code = "conflicto"


# --- the gateway port ----------------------------------------------------------


class PagoDeclinado(DomainError):
    """The gateway refused the operation for good (declined card, unknown payment method)."""

    code = "pago_declinado"

    def __init__(self, motivo: str, codigo_pasarela: str = "declinado"):
        super().__init__(motivo)
        self.motivo = motivo
        self.codigo_pasarela = codigo_pasarela  # the provider's own code, for the payout's timeline


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


def validar_monto_a_cobrar(monto: Monto) -> Monto:
    """A malformed amount is a bad command (it fails), not a charge the brand could not pay."""
    return validar_monto(monto, "El monto a cobrar")


@dataclass(frozen=True)
class ClienteConocido:
    """What pagos knows of a client (the brand it charges, the partner it pays), from cliente's events."""

    id: uuid.UUID
    estado: str
    token_predeterminado: str
    mascara: str = ""  # of the default payment method, as the payout's timeline shows it


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
