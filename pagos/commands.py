from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from alpespartners.seedwork.domain import Command, Monto

from .domain import Envio


@dataclass(frozen=True, kw_only=True)
class CobrarCampania(Command):
    """Sent by campanias' approval saga; its envelope id is the command id."""

    id_campania: uuid.UUID
    id_cliente: uuid.UUID
    monto: Monto


@dataclass(frozen=True, kw_only=True)
class RevertirPago(Command):
    id_pago: uuid.UUID
    motivo: str


@dataclass(frozen=True, kw_only=True)
class RegistrarConversion(Command):
    id_externo: str
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    tipo: str
    monto: Monto | None = None
    ocurrida_en: datetime
    # A postback's: the click that named campaign and partner, and when it happened (its window).
    id_click: uuid.UUID | None = None
    click_en: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class RegistrarConversiones(Command):
    """A batch (POST /pagos/conversiones/lote): decided as one set, each item gets its own result."""

    conversiones: list[RegistrarConversion]


@dataclass(frozen=True, kw_only=True)
class RevertirConversion(Command):
    id_campania: uuid.UUID
    id_externo: str
    motivo: str


@dataclass(frozen=True, kw_only=True)
class EjecutarCiclo(Command):
    fecha_corte: date
    origen: str = "api"  # api | programador | consola


@dataclass(frozen=True, kw_only=True)
class ReintentarPayout(Command):
    id_payout: uuid.UUID


# Sent by the context to itself, never accepted from outside (not in COMMANDS): the work that
# follows a cycle's or a retry's commit (uow.after_commit), the end of a payout's sending, and the
# billing of clicks and impressions.
@dataclass(frozen=True, kw_only=True)
class EnviarPayoutsDelCiclo(Command):
    id_ciclo: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class EnviarPayout(Command):
    id_payout: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class TerminarPayout(Command):
    """The gateway's answer: a confirmation, or why it failed (`codigo`: the gateway's or ours)."""

    id_payout: uuid.UUID
    confirmacion: str | None = None
    motivo: str | None = None
    codigo: str = ""
    envio: Envio | None = None  # None: it never reached the gateway


@dataclass(frozen=True, kw_only=True)
class FacturarInteracciones(Command):
    """Bill up to `limite` billable clicks and impressions, oldest first (the schedule sends it)."""

    limite: int


COMMANDS = {command.__name__: command for command in (
    CobrarCampania, RevertirPago, RegistrarConversion, RegistrarConversiones, RevertirConversion, EjecutarCiclo,
    ReintentarPayout,
)}

# The aggregates of other contexts each command is decided on: it waits until pagos has applied
# every event about them committed before it was accepted (messaging/dependencies.py).
DEPENDS_ON = {
    CobrarCampania: lambda command: {command.id_cliente},  # the brand: registration, default payment method
    RegistrarConversion: lambda command: {command.id_campania, command.id_socio},
    RegistrarConversiones: lambda command: {id for item in command.conversiones for id in (item.id_campania, item.id_socio)},
}
