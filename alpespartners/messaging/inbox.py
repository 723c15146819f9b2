"""Applying inbound messages in batches: the inbox rows and effects of a whole batch in one
transaction, each message isolated in a savepoint, duplicates skipped.

A batch's messages come in the order the broker delivered them. What can go wrong:
- a duplicate (a redelivery, a second producer): its inbox row already exists, it is skipped;
- a message whose handler fails: its savepoint and its inbox row are undone, the rest of the batch
  applies, and only it is returned as failed (the Pulsar consumer nacks it: redelivered, at last
  dead-lettered). A later event of the same aggregate may then apply first, and a consumer killed
  mid-batch may see a key's messages redelivered out of order: so for the event types a context
  declares ORDERED ({topic: {type: slot(envelope)}}, the piece of state the event overwrites), the
  outbox position of the last applied event is kept per slot (AppliedPosition), and an older event
  arriving later is skipped instead of overwriting what a newer one wrote;
- a transient error (the database away, a version conflict): nothing of the batch is kept and the
  caller retries the whole batch.

A context may apply some event types set-based (`BATCH_CONSUMES`: {topic: {type: handler(envelopes, uow)}}):
sums and counters, whose result does not depend on order, are applied once per batch.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Callable

from django.db import connection, transaction
from django.utils import timezone

from alpespartners import correlation
from alpespartners.seedwork.domain import DomainError, from_envelope, from_payload

from . import command_log, contexts
from .models import AppliedPosition, InboxMessage
from .retries import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    """One inbound message for one context. `outcome` is set by `apply_batch`."""

    topic: str
    envelope: dict
    position: int | None = None  # its outbox id, when the transport knows it
    outcome: str = "pendiente"  # aplicado | duplicado | ignorado | obsoleto | fallido
    error: Exception | None = field(default=None, repr=False)

    @property
    def event_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.envelope["id"]))


def typed(handlers: dict[str, dict[type, Callable]]) -> dict[str, dict[str, Callable]]:
    """A context's {topic: {event class: handler(event, uow)}} as messaging reads it ({topic: {type:
    handler(envelope, uow)}}): each envelope is parsed into the handler's event class at the edge."""
    return _by_type_name(handlers, lambda event_type, handler: lambda envelope, uow: handler(
        from_envelope(event_type, envelope), uow))


def typed_batches(handlers: dict[str, dict[type, Callable]]) -> dict[str, dict[str, Callable]]:
    """The same for handlers applied set-based: handler([event, ...], uow)."""
    return _by_type_name(handlers, lambda event_type, handler: lambda envelopes, uow: handler(
        [from_envelope(event_type, envelope) for envelope in envelopes], uow))


def _by_type_name(handlers: dict[str, dict[type, Callable]], parsing: Callable) -> dict[str, dict[str, Callable]]:
    return {topic: {event_type.__name__: parsing(event_type, handler) for event_type, handler in by_type.items()}
            for topic, by_type in handlers.items()}


def handle(context: str, topic: str, envelope: dict, handlers: dict | None = None) -> bool:
    """Apply one message. Returns False when it was already applied; raises what its handler raised."""
    [delivery] = apply_batch(context, [Delivery(topic, envelope)])
    if delivery.outcome == "fallido":
        raise delivery.error
    return delivery.outcome != "duplicado"


def apply_batch(context: str, deliveries: list[Delivery]) -> list[Delivery]:
    """Apply `deliveries` for `context` in one transaction and set each one's outcome. Transient
    errors propagate with nothing written (retry the batch)."""
    module = contexts.integration(context)
    subscriptions = contexts.subscriptions(context)
    batch_handlers = contexts.batch_subscriptions(context)
    wanted = []
    for delivery in deliveries:
        if not _readable(delivery):
            delivery.outcome, delivery.error = "fallido", ValueError("not an envelope of the event contract")
        elif delivery.topic == module.COMMAND_TOPIC or \
                delivery.envelope["type"] in contexts.consumed_types(context, delivery.topic):
            wanted.append(delivery)
        else:
            delivery.outcome = "ignorado"  # a type this context does not consume: nothing to apply or remember
    if not wanted:
        return deliveries
    with transaction.atomic():
        fresh_ids = _record_in_inbox(context, wanted)
        fresh = []
        for delivery in wanted:
            if delivery.event_id not in fresh_ids:
                delivery.outcome = "duplicado"
                logger.info("%s skipped duplicate %s %s", context, delivery.envelope["type"], delivery.event_id)
                continue
            fresh_ids.discard(delivery.event_id)  # the same id later in this batch is a duplicate
            fresh.append(delivery)
        slots = _slots(context, fresh)
        positions = _applied_positions(context, set(slots.values()))
        advanced: dict[str, int] = {}
        grouped: dict[tuple[str, str], list[Delivery]] = {}
        for delivery in fresh:
            slot = slots.get(id(delivery))
            if slot is not None and delivery.position < positions.get(slot, 0):
                delivery.outcome = "obsoleto"  # a newer event of the same slot was applied first
                logger.info("%s skipped %s %s: older than what it already applied", context,
                            delivery.envelope["type"], delivery.event_id)
                continue
            key = (delivery.topic, delivery.envelope["type"])
            if key[1] in batch_handlers.get(key[0], {}):
                grouped.setdefault(key, []).append(delivery)
                continue
            _apply_one(context, module, delivery, subscriptions)
            if slot is not None and delivery.outcome == "aplicado":
                positions[slot] = advanced[slot] = delivery.position
        for (topic, type), group in grouped.items():
            _apply_group(context, module, batch_handlers[topic][type], group)
        _save_positions(context, advanced)
        failed = [delivery.event_id for delivery in wanted if delivery.outcome == "fallido"]
        if failed:
            InboxMessage.objects.filter(consumer=context, event_id__in=failed).delete()
    return deliveries


def _slots(context: str, deliveries: list[Delivery]) -> dict[int, str]:
    """{id(delivery): slot} for the deliveries whose type overwrites a piece of state (ORDERED)."""
    ordered = contexts.ordered(context)
    slots = {}
    for delivery in deliveries:
        slot_of = ordered.get(delivery.topic, {}).get(delivery.envelope["type"])
        if slot_of is not None and delivery.position is not None:
            slots[id(delivery)] = slot_of(delivery.envelope)
    return slots


def _applied_positions(context: str, slots: set[str]) -> dict[str, int]:
    if not slots:
        return {}
    rows = AppliedPosition.objects.select_for_update().filter(consumer=context, slot__in=slots)
    return dict(rows.values_list("slot", "position"))


def _save_positions(context: str, advanced: dict[str, int]) -> None:
    if advanced:
        AppliedPosition.objects.bulk_create(
            [AppliedPosition(consumer=context, slot=slot, position=position) for slot, position in advanced.items()],
            update_conflicts=True, unique_fields=["consumer", "slot"], update_fields=["position"],
        )


def _readable(delivery: Delivery) -> bool:
    return is_envelope(delivery.envelope)


def is_envelope(envelope) -> bool:
    """An event of the contract's envelope, whatever its type: a poison message is not one."""
    if not (isinstance(envelope, dict) and isinstance(envelope.get("type"), str) and envelope.get("aggregate_id")):
        return False
    try:
        uuid.UUID(str(envelope["id"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def _record_in_inbox(context: str, deliveries: list[Delivery]) -> set[uuid.UUID]:
    """Insert the batch's inbox rows in one statement; the ids returned are the ones not seen before."""
    table = connection.ops.quote_name(InboxMessage._meta.db_table)
    event_id_field = InboxMessage._meta.get_field("event_id")
    now = InboxMessage._meta.get_field("received_at").get_db_prep_value(timezone.now(), connection)
    values, parameters = [], []
    for delivery in deliveries:
        values.append("(%s, %s, %s, %s, %s)")
        parameters += [context, event_id_field.get_db_prep_value(delivery.event_id, connection), delivery.topic,
                       delivery.envelope["type"], now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (consumer, event_id, topic, type, received_at) VALUES {', '.join(values)} "
            "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id", parameters,
        )
        return {uuid.UUID(str(row[0])) for row in cursor.fetchall()}


def _apply_one(context: str, module, delivery: Delivery, subscriptions: dict) -> None:
    envelope = delivery.envelope
    with correlation.bound(envelope.get("correlation_id")):
        try:
            with transaction.atomic():
                if delivery.topic == module.COMMAND_TOPIC:
                    _submit_command(context, module, envelope)
                else:
                    handler = subscriptions[delivery.topic][envelope["type"]]
                    uow = contexts.wiring(context).unit_of_work(correlation_id=envelope.get("correlation_id"),
                                                                causation_id=envelope["id"])
                    handler(envelope, uow)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:  # the message's own fault: isolated, the rest of the batch goes on
            delivery.outcome, delivery.error = "fallido", error
            logger.exception("%s could not apply %s %s from %s", context, envelope["type"], envelope["id"],
                             delivery.topic)
            return
        delivery.outcome = "aplicado"
        logger.info("%s applied %s %s from %s", context, envelope["type"], envelope["id"], delivery.topic,
                    extra={"consumer": context, "event_type": envelope["type"], "event_id": envelope["id"]})


def _apply_group(context: str, module, handler, group: list[Delivery]) -> None:
    """Set-based: one call for the whole group; if it fails, one by one to find the culprit."""
    try:
        with transaction.atomic():
            handler([delivery.envelope for delivery in group], contexts.wiring(context).unit_of_work())
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.warning("%s: a batch of %s %s failed; applying them one by one", context, len(group),
                       group[0].envelope["type"])
        for delivery in group:
            _apply_one(context, module, delivery, {delivery.topic: {delivery.envelope["type"]: _single(handler)}})
        return
    for delivery in group:
        delivery.outcome = "aplicado"
    logger.info("%s applied %s %s", context, len(group), group[0].envelope["type"],
                extra={"consumer": context, "event_type": group[0].envelope["type"]})


def _single(batch_handler):
    return lambda envelope, uow: batch_handler([envelope], uow)


def _submit_command(context: str, module, envelope: dict) -> None:
    """A command from Pulsar takes the API's path: command log, then the context's task.
    Its envelope id is the command id, so a resent command is logged once."""
    command_class = module.COMMANDS.get(envelope["type"])
    if command_class is None:
        raise DomainError(f"Comando desconocido para {context}: {envelope['type']}.")
    command = from_payload(command_class, envelope["data"])
    command_log.submit(
        context, command, source="comandos", command_id=envelope["id"], correlation_id=envelope.get("correlation_id")
    )
