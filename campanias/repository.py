"""The event store of campaigns and the persistence of approval sagas.

Appends run inside the caller's Unit of Work, so a campaign's events, its read model, the
outbox rows and the command's status commit together or not at all. Database errors become
domain errors (or a ConcurrencyConflict, which is retried) here.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any, Callable, Iterator

from django.conf import settings
from django.db import IntegrityError, connection

from alpespartners.seedwork.domain import ConcurrencyConflict, DomainEvent, NotFound, from_payload

from .domain import EVENT_TYPES, Campania, EstadoSaga, SagaAprobacion, upcast
from .models import ClienteLocal, EventoCampania, SagaAprobacionModel, SnapshotCampania

# --- the event store --------------------------------------------------------------


def get(id_campania: uuid.UUID, *, use_snapshot: bool = True) -> Campania:
    """The campaign from its snapshot (when written by this shape of the aggregate) and the
    events after it, read in one statement: a command's load is one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(_load_statement(use_snapshot), _load_parameters(id_campania, use_snapshot))
        rows = cursor.fetchall()
    snapshot = None
    if rows and rows[0][0] == _SNAPSHOT_ROW:
        snapshot = _column("state", SnapshotCampania)(rows.pop(0)[4])
    if snapshot is None and not rows:
        raise NotFound(f"No existe la campaña {id_campania}.", "id_campania")
    event_id, occurred_at, data = _column("event_id"), _column("occurred_at"), _column("data")
    events = [
        (version, stored_event(version, type, schema_version, data(payload), id_campania, event_id(event), occurred_at(at)))
        for _, version, type, schema_version, payload, event, at in rows
    ]
    return Campania.replay(id_campania, events, snapshot)


_SNAPSHOT_ROW, _EVENT_ROW = 0, 1


@functools.cache
def _load_statement(use_snapshot: bool) -> str:
    events, snapshots = EventoCampania._meta.db_table, SnapshotCampania._meta.db_table
    if not use_snapshot:
        return (f"SELECT {_EVENT_ROW}, version, type, schema_version, data, event_id, occurred_at FROM {events} "
                "WHERE aggregate_id = %s ORDER BY version")
    return f"""
        WITH snapshot AS (SELECT version, state FROM {snapshots} WHERE aggregate_id = %s AND schema_version = %s)
        SELECT {_SNAPSHOT_ROW}, version, NULL, NULL, state, NULL, NULL FROM snapshot
        UNION ALL
        SELECT {_EVENT_ROW}, version, type, schema_version, data, event_id, occurred_at FROM {events}
        WHERE aggregate_id = %s AND version > COALESCE((SELECT version FROM snapshot), 0)
        ORDER BY 1, 2"""


def _load_parameters(id_campania: uuid.UUID, use_snapshot: bool) -> list:
    # The id as the backend stores it (a uuid on PostgreSQL, 32 hex characters on SQLite).
    stored_id = EventoCampania._meta.get_field("aggregate_id").get_db_prep_value(id_campania, connection)
    return [stored_id, Campania.SNAPSHOT_SCHEMA, stored_id] if use_snapshot else [stored_id]


@functools.cache
def _column(name: str, model=EventoCampania) -> Callable[[Any], Any]:
    """Turns one raw column value into what the ORM would return (JSON text → dict, SQLite's
    text → UUID / aware datetime), with the same converters Django applies to a queryset."""
    field = model._meta.get_field(name)
    expression = field.get_col(model._meta.db_table)
    converters = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)

    def convert(value):
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert


def exists(id_campania: uuid.UUID) -> bool:
    return EventoCampania.objects.filter(aggregate_id=id_campania).exists()


def save(campania: Campania, *, correlation_id: uuid.UUID | None = None, causation_id: uuid.UUID | None = None) -> None:
    """Append the pending events after the version the campaign was loaded at."""
    events = campania.pending_events
    rows = [
        EventoCampania(
            aggregate_id=campania.id, version=campania.version + position, event_id=event.event_id, type=event.type,
            schema_version=event.version, data=event.data(), occurred_at=event.occurred_at,
            correlation_id=correlation_id, causation_id=causation_id,
        )
        for position, event in enumerate(events, start=1)
    ]
    # No savepoint of its own: a conflict aborts the whole Unit of Work, which rolls back and is retried.
    try:
        EventoCampania.objects.bulk_create(rows)
    except IntegrityError as error:
        raise ConcurrencyConflict(f"campaña {campania.id}: otra escritura pasó de la versión {campania.version}") from error
    before, campania.version = campania.version, campania.version + len(rows)
    every = settings.CAMPANIAS_SNAPSHOT_EVERY
    if every and campania.version // every > before // every:
        SnapshotCampania.objects.update_or_create(
            aggregate_id=campania.id,
            defaults={"version": campania.version, "schema_version": Campania.SNAPSHOT_SCHEMA, "state": campania.snapshot()},
        )


STORED_FIELDS = ("version", "type", "schema_version", "data", "aggregate_id", "event_id", "occurred_at")


def to_event(row: EventoCampania) -> DomainEvent:
    return stored_event(*(getattr(row, field) for field in STORED_FIELDS))


def stored_event(version, type, schema_version, data, aggregate_id, event_id, occurred_at) -> DomainEvent:
    """A stored row as the current version of its event type."""
    return from_payload(EVENT_TYPES[type], {
        **upcast(type, schema_version, data), "aggregate_id": aggregate_id, "event_id": event_id, "occurred_at": occurred_at,
    })


def stored_events(id_campania: uuid.UUID | None = None) -> Iterator[EventoCampania]:
    """Every stored event (of one campaign, or all) in the order it was appended per campaign."""
    rows = EventoCampania.objects.order_by("id")
    if id_campania is not None:
        rows = rows.filter(aggregate_id=id_campania)
    return rows.iterator(chunk_size=2000)


# --- local copy of clients -------------------------------------------------------


def estado_cliente(id_cliente: uuid.UUID) -> str | None:
    """ACTIVO, SUSPENDIDO, or None when campanias has not heard of the client."""
    return ClienteLocal.objects.filter(id=id_cliente).values_list("estado", flat=True).first()


def guardar_cliente(id_cliente: uuid.UUID, **values) -> None:
    """ClienteRegistrado creates the row; later events of the same client (ordered by key) update it."""
    if "tipo" in values:
        ClienteLocal.objects.update_or_create(id=id_cliente, defaults=values)
    else:
        ClienteLocal.objects.filter(id=id_cliente).update(**values)


# --- approval sagas --------------------------------------------------------------


def saga(id_campania: uuid.UUID) -> SagaAprobacion | None:
    row = SagaAprobacionModel.objects.select_for_update().filter(id_campania=id_campania).first()
    if row is None:
        return None
    return SagaAprobacion(id_campania=row.id_campania, vence_en=row.vence_en, plazo_segundos=row.plazo_segundos,
                          estado=EstadoSaga(row.estado),
                          id_pago=row.id_pago, pasos=list(row.pasos), version=row.version)


def save_saga(saga: SagaAprobacion) -> None:
    values = {"estado": saga.estado.value, "id_pago": saga.id_pago, "vence_en": saga.vence_en,
              "plazo_segundos": saga.plazo_segundos, "pasos": saga.pasos}
    if saga.version == 0:
        SagaAprobacionModel.objects.create(id_campania=saga.id_campania, version=1, **values)
    elif not SagaAprobacionModel.objects.filter(id_campania=saga.id_campania, version=saga.version).update(
        version=saga.version + 1, **values
    ):
        raise ConcurrencyConflict(f"saga {saga.id_campania} changed since version {saga.version}")
    saga.version += 1

