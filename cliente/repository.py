"""Loads and saves `Cliente` aggregates; database errors become domain errors here."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from django.db import IntegrityError, transaction

from alpespartners.seedwork.domain import ConcurrencyConflict, DomainError, NotFound

from .domain import Cliente, MedioPago, TipoMedioPago
from .models import ClienteModel

UNIQUE_FIELDS = {"email": "El email ya está registrado.", "cedula": "La cédula ya está registrada.", "nit": "El NIT ya está registrado."}


def get(id_cliente: uuid.UUID) -> Cliente:
    row = ClienteModel.objects.filter(id=id_cliente).first()
    if row is None:
        raise NotFound(f"No existe el cliente {id_cliente}.", "id_cliente")
    return Cliente(
        row.id, tipo=row.tipo, nombre=row.nombre, email=row.email, cedula=row.cedula, nit=row.nit,
        fecha_nacimiento=row.fecha_nacimiento, fecha_constitucion=row.fecha_constitucion, estado=row.estado,
        medios_pago=[MedioPago(**{**medio, "id": uuid.UUID(medio["id"]), "tipo": TipoMedioPago(medio["tipo"])}) for medio in row.medios_pago],
        version=row.version,
    )


def exists(id_cliente: uuid.UUID) -> bool:
    return ClienteModel.objects.filter(id=id_cliente).exists()


def check_unique(cliente: Cliente) -> None:
    """A clear refusal before the insert; the unique constraints still decide under a race."""
    others = ClienteModel.objects.exclude(id=cliente.id)
    for field, message in UNIQUE_FIELDS.items():
        value = getattr(cliente, field)
        if value and others.filter(**{field: value}).exists():
            raise DomainError(message, field)


def save(cliente: Cliente) -> None:
    values = {
        "tipo": cliente.tipo.value, "nombre": cliente.nombre, "email": cliente.email, "cedula": cliente.cedula,
        "nit": cliente.nit, "fecha_nacimiento": cliente.fecha_nacimiento,
        "fecha_constitucion": cliente.fecha_constitucion, "estado": cliente.estado.value,
        "medios_pago": [{**asdict(medio), "id": str(medio.id), "tipo": medio.tipo.value} for medio in cliente.medios_pago],
    }
    try:
        with transaction.atomic():
            if cliente.version == 0:
                ClienteModel.objects.create(id=cliente.id, version=1, **values)
            elif not ClienteModel.objects.filter(id=cliente.id, version=cliente.version).update(version=cliente.version + 1, **values):
                raise ConcurrencyConflict(f"cliente {cliente.id} changed since version {cliente.version}")
    except IntegrityError as error:
        field = next((name for name in ("email", "cedula", "nit", "id") if name in str(error)), None)
        raise DomainError(UNIQUE_FIELDS.get(field, "Ya existe un cliente con esos datos."), field) from error
    cliente.version += 1
