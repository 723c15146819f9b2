from __future__ import annotations

import uuid
from dataclasses import dataclass

from alpespartners.seedwork.domain import Command, Monto


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


COMMANDS = {command.__name__: command for command in (CobrarCampania, RevertirPago)}
