"""Causal consistency: a command is decided only once its context has applied every event the
command's sender could already have read about the aggregates the command names.

At acceptance the command log row stores `outbox_horizon`, the highest outbox id committed then.
Any integration event committed before the command was accepted has an outbox id at or below it
(an id drawn earlier but committed later is below it too: waiting for it as well is harmless).
Before the handler runs, one query asks whether an outbox row at or below the horizon, about one of
the aggregates the context declares for that command (DEPENDS_ON), of a type the context consumes,
is still missing from the context's inbox. PostgreSQL gives one commit order to every context, so
this holds whoever produced the event: an API command, the saga, a schedule, PresupuestoAgotado.

Waiting holds nothing: the task is enqueued again with a short countdown (see tasks.run_command)
until the events arrive, or until COMMAND_DEPENDENCY_TIMEOUT_SECONDS, when the command fails as
`dependencia_pendiente` (re-driven from the admin like any failed command).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import Exists, Max, Min, OuterRef, Q

from alpespartners.seedwork.domain import Command, DomainError

from . import contexts
from .models import CommandLog, InboxMessage, OutboxMessage


class DependenciaPendiente(DomainError):
    """Events the command depends on did not reach its context in time."""

    code = "dependencia_pendiente"


def timeout_message(aggregate_ids: set[uuid.UUID]) -> str:
    return (f"Este contexto no recibió a tiempo ({settings.COMMAND_DEPENDENCY_TIMEOUT_SECONDS} s) eventos anteriores "
            "al comando sobre " + ", ".join(sorted(str(id) for id in aggregate_ids)) + "; puede reenviarse desde el admin.")


def timeout_error(aggregate_ids: set[uuid.UUID]) -> dict:
    """The command log's error of a command that waited too long (decided together, see together.py)."""
    return {"code": DependenciaPendiente.code, "message": timeout_message(aggregate_ids), "field": None}


def aggregates(context: str, command: Command) -> set[uuid.UUID]:
    """The aggregates `command` is decided on, as its context declares them (none: no wait)."""
    declared = getattr(contexts.integration(context), "DEPENDS_ON", {}).get(type(command))
    return {id for id in declared(command) if id is not None} if declared else set()


def horizon() -> int:
    return OutboxMessage.objects.aggregate(horizon=Max("id"))["horizon"] or 0


def pending(entry: CommandLog, aggregate_ids: set[uuid.UUID]) -> bool:
    """True while an event of the horizon about `aggregate_ids` waits to be applied by the context."""
    if entry.outbox_horizon is None or not aggregate_ids:
        return False
    return _unapplied(entry.context, entry.outbox_horizon, aggregate_ids).exists()


def _unapplied(context: str, horizon: int, aggregate_ids: set[uuid.UUID]):
    """Outbox rows up to `horizon` about `aggregate_ids` that `context` consumes and has not applied."""
    consumed = Q(pk__in=[])
    for topic in contexts.topics(context):
        if topic != contexts.integration(context).COMMAND_TOPIC:
            consumed |= Q(topic=topic, type__in=sorted(contexts.consumed_types(context, topic)))
    applied = InboxMessage.objects.filter(consumer=context, event_id=OuterRef("event_id"))
    return (OutboxMessage.objects.filter(consumed, id__lte=horizon, aggregate_id__in=aggregate_ids)
            .filter(~Exists(applied)))


def pending_among(context: str, waiting: dict[uuid.UUID, tuple[int | None, set[uuid.UUID]]]) -> set[uuid.UUID]:
    """Of several commands ({command id: (outbox_horizon, aggregate ids)}), those still waiting for
    events: one query, for the oldest unapplied event of each aggregate named."""
    named = {id for horizon, ids in waiting.values() if horizon is not None for id in ids}
    if not named:
        return set()
    highest = max(horizon for horizon, ids in waiting.values() if horizon is not None and ids)
    oldest_unapplied = dict(
        _unapplied(context, highest, named).values("aggregate_id").annotate(first=Min("id"))
        .values_list("aggregate_id", "first")
    )
    return {command_id for command_id, (horizon, ids) in waiting.items()
            if horizon is not None and any(oldest_unapplied.get(id, horizon + 1) <= horizon for id in ids)}
