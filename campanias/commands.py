from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from alpespartners.seedwork.domain import Command, Monto


@dataclass(frozen=True, kw_only=True)
class CrearCampania(Command):
    id: uuid.UUID
    id_cliente: uuid.UUID
    nombre: str
    presupuesto: Monto
    fecha_inicio: date
    fecha_fin: date
    comisiones: dict | None = None
    dias_retencion: int = 30
    url_destino: str | None = None
    ventana_atribucion_dias: int = 30


@dataclass(frozen=True, kw_only=True)
class ActualizarCampania(Command):
    """PATCH /campanias/{id}: a value left None stays as it is."""

    id_campania: uuid.UUID
    url_destino: str | None = None
    ventana_atribucion_dias: int | None = None


@dataclass(frozen=True, kw_only=True)
class CrearEnlacesFaltantes(Command):
    """A tracking link for every enrolment that predates links (manage.py create_tracking_links)."""

    id_campania: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class InscribirSocio(Command):
    id_campania: uuid.UUID
    id_socio: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class RetirarSocio(Command):
    id_campania: uuid.UUID
    id_socio: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class PausarCampania(Command):
    id_campania: uuid.UUID
    motivo: str = ""


@dataclass(frozen=True, kw_only=True)
class ReanudarCampania(Command):
    id_campania: uuid.UUID
    motivo: str = ""


@dataclass(frozen=True, kw_only=True)
class FinalizarCampania(Command):
    id_campania: uuid.UUID
    motivo: str = ""


@dataclass(frozen=True, kw_only=True)
class CancelarCampania(Command):
    id_campania: uuid.UUID
    motivo: str = ""


# Sent by the context to itself (its scheduled work), never accepted from outside: not in COMMANDS.
@dataclass(frozen=True, kw_only=True)
class VencerSaga(Command):
    id_campania: uuid.UUID
    ahora: datetime


COMMANDS = {command.__name__: command for command in (
    CrearCampania, InscribirSocio, RetirarSocio, PausarCampania, ReanudarCampania, FinalizarCampania, CancelarCampania,
    ActualizarCampania, CrearEnlacesFaltantes,
)}

# The aggregates of other contexts each command is decided on: it waits until campanias has applied
# every event about them committed before it was accepted (messaging/dependencies.py). The campaign
# itself is one: pagos' PresupuestoAgotado pauses it.
DEPENDS_ON = {
    CrearCampania: lambda command: {command.id_cliente},
    InscribirSocio: lambda command: {command.id_campania, command.id_socio},
    RetirarSocio: lambda command: {command.id_campania},
    PausarCampania: lambda command: {command.id_campania},
    ReanudarCampania: lambda command: {command.id_campania},
    FinalizarCampania: lambda command: {command.id_campania},
    CancelarCampania: lambda command: {command.id_campania},
    ActualizarCampania: lambda command: {command.id_campania},
}
