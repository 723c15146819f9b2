from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from alpespartners.seedwork.domain import Command


@dataclass(frozen=True, kw_only=True)
class RegistrarCliente(Command):
    id: uuid.UUID
    tipo: str
    nombre: str
    email: str
    cedula: str | None = None
    fecha_nacimiento: date | None = None
    nit: str | None = None
    fecha_constitucion: date | None = None


@dataclass(frozen=True, kw_only=True)
class ActualizarCliente(Command):
    id_cliente: uuid.UUID
    nombre: str | None = None
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class SuspenderCliente(Command):
    id_cliente: uuid.UUID
    motivo: str = ""


@dataclass(frozen=True, kw_only=True)
class ReactivarCliente(Command):
    id_cliente: uuid.UUID
    motivo: str = ""


@dataclass(frozen=True, kw_only=True)
class RegistrarMedioPago(Command):
    id_cliente: uuid.UUID
    id_medio_pago: uuid.UUID
    tipo: str
    token: str
    mascara: str
    predeterminado: bool = False


COMMANDS = {command.__name__: command for command in (
    RegistrarCliente, ActualizarCliente, SuspenderCliente, ReactivarCliente, RegistrarMedioPago,
)}
