"""Writing integration events to the outbox, in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Callable, Iterable

from django.db import transaction

from alpespartners import bulk
from alpespartners.seedwork.domain import DomainEvent, to_json_value

from .models import OutboxMessage

# What delivers committed rows, chosen at start-up (apps.py): the in-process transport's
# deliver(event_ids), or None when a relay reads the table (Pulsar).
_deliver: Callable[[list], None] | None = None


def use_transport(deliver: Callable[[list], None] | None) -> None:
    global _deliver
    _deliver = deliver


def envelope(
    *, event_id: uuid.UUID, type: str, version: int, occurred_at, aggregate_id: uuid.UUID,
    correlation_id: uuid.UUID | None, causation_id: uuid.UUID | None, data: dict,
) -> dict:
    """The integration event contract (DESIGN §4)."""
    return {
        "id": str(event_id),
        "type": type,
        "version": version,
        "occurred_at": to_json_value(occurred_at),
        "aggregate_id": str(aggregate_id),
        "correlation_id": str(correlation_id) if correlation_id else None,
        "causation_id": str(causation_id) if causation_id else None,
        "data": data,
    }


def event_envelope(event: DomainEvent, correlation_id, causation_id) -> dict:
    return envelope(
        event_id=event.event_id, type=event.type, version=event.version, occurred_at=event.occurred_at,
        aggregate_id=event.aggregate_id, correlation_id=correlation_id, causation_id=causation_id,
        data=event.data(),
    )


def add(topic: str, envelopes: Iterable[dict]) -> None:
    """Store envelopes for `topic`; they leave only once the surrounding transaction commits."""
    rows = [
        {"event_id": item["id"], "topic": topic, "type": item["type"], "version": item["version"],
         "aggregate_id": item["aggregate_id"], "envelope": item}
        for item in envelopes
    ]
    if not rows:
        return
    bulk.insert(OutboxMessage, rows)
    if _deliver is not None:
        deliver, event_ids = _deliver, [row["event_id"] for row in rows]
        transaction.on_commit(lambda: deliver(event_ids))


def republish(topic: str, envelope: dict) -> None:
    """Publish an event again (an operator re-driving a dead letter): its outbox row goes back to
    pending and the relay sends it with a new sequence id; a row already purged is written anew.
    (Only Pulsar has dead letters: the in-process transport raises instead.)"""
    if not OutboxMessage.objects.filter(event_id=envelope["id"]).update(published_at=None, sequence_id=None):
        add(topic, [envelope])
