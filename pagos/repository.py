"""Loads and saves `Pago` aggregates and reads the local copy of clients; database errors become domain errors here."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from alpespartners.seedwork.domain import ConcurrencyConflict, Monto, NotFound

from .domain import CobroDuplicado, Marca, Pago, normalizar
from .models import ClienteLocal, PagoModel


def get(id_pago: uuid.UUID) -> Pago:
    row = PagoModel.objects.filter(id=id_pago).first()
    if row is None:
        raise NotFound(f"No existe el cobro {id_pago}.", "id_pago")
    return _pago(row)


def por_campania(id_campania: uuid.UUID) -> Pago | None:
    row = PagoModel.objects.filter(id_campania=id_campania).first()
    return _pago(row) if row is not None else None


def _pago(row: PagoModel) -> Pago:
    return Pago(
        row.id, id_campania=row.id_campania, id_cliente=row.id_cliente, monto=normalizar(Monto(row.valor, row.moneda)),
        estado=row.estado, motivo=row.motivo, confirmacion=row.confirmacion,
        confirmacion_reembolso=row.confirmacion_reembolso, version=row.version,
    )


def save(pago: Pago) -> None:
    values = {
        "id_campania": pago.id_campania, "id_cliente": pago.id_cliente, "valor": pago.monto.valor,
        "moneda": pago.monto.moneda, "estado": pago.estado.value, "motivo": pago.motivo,
        "confirmacion": pago.confirmacion, "confirmacion_reembolso": pago.confirmacion_reembolso,
    }
    try:
        with transaction.atomic():
            if pago.version == 0:
                PagoModel.objects.create(id=pago.id, version=1, **values)
            elif not PagoModel.objects.filter(id=pago.id, version=pago.version).update(version=pago.version + 1, **values):
                raise ConcurrencyConflict(f"pago {pago.id} changed since version {pago.version}")
    except IntegrityError as error:
        # Only a new charge inserts: its id and id_campania are both the campaign's, so either
        # constraint means a concurrent command charged this campaign first.
        raise CobroDuplicado(f"La campaña {pago.id_campania} ya tiene un cobro.", "id_campania") from error
    pago.version += 1


def marca(id_cliente: uuid.UUID) -> Marca | None:
    row = ClienteLocal.objects.filter(id=id_cliente).first()
    if row is None:
        return None
    return Marca(id=row.id, estado=row.estado, token_predeterminado=row.token_predeterminado)
