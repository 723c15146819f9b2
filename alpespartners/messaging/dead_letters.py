"""Dead letters: what a consumer gave up on, recorded from its dead-letter topic, then re-driven
(published again through the outbox) or discarded by an operator in the admin."""

from __future__ import annotations

import json
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import outbox
from .models import DeadLetter, DeadLetterStatus

logger = logging.getLogger(__name__)


def record(consumer: str, topic: str, origin_message_id: str, payload: bytes, properties: dict) -> bool:
    """Store one dead letter; False when it was already recorded (the DLQ redelivered it)."""
    try:
        with transaction.atomic():
            DeadLetter.objects.create(
                consumer=consumer, topic=topic.rsplit("/", 1)[-1], origin_message_id=origin_message_id,
                event_id=properties.get("event_id") or None, type=properties.get("type", ""),
                payload=payload.decode("utf-8", errors="replace"), properties=properties,
            )
    except IntegrityError:
        return False
    logger.warning("%s dead-lettered %s %s from %s", consumer, properties.get("type", "an unreadable message"),
                   properties.get("event_id", origin_message_id), topic)
    return True


def envelope_of(dead_letter: DeadLetter) -> dict | None:
    """The integration-event envelope it carried, or None for a message no consumer can read."""
    try:
        envelope = json.loads(dead_letter.payload)
    except ValueError:
        return None
    return envelope if isinstance(envelope, dict) and {"id", "type"} <= envelope.keys() else None


def redrive(dead_letters, user) -> tuple[int, list[str]]:
    """Publish each pending dead letter again through the outbox (every subscription of its topic
    gets it; those that applied it already skip it by their inbox). Returns (re-driven, refusals)."""
    redriven, refusals = 0, []
    with transaction.atomic():
        for dead_letter in dead_letters.select_for_update(of=("self",)):
            if dead_letter.status != DeadLetterStatus.PENDIENTE:
                refusals.append(f"{dead_letter}: ya está {dead_letter.status}.")
                continue
            envelope = envelope_of(dead_letter)
            if envelope is None:
                refusals.append(f"{dead_letter}: no es un evento legible; solo puede descartarse.")
                continue
            outbox.republish(dead_letter.topic, envelope)
            resolve(dead_letter, DeadLetterStatus.REENVIADO, user)
            redriven += 1
    return redriven, refusals


def discard(dead_letters, user) -> int:
    discarded = 0
    with transaction.atomic():
        for dead_letter in dead_letters.select_for_update(of=("self",)).filter(status=DeadLetterStatus.PENDIENTE):
            resolve(dead_letter, DeadLetterStatus.DESCARTADO, user)
            discarded += 1
    return discarded


def resolve(dead_letter: DeadLetter, status: str, user) -> None:
    dead_letter.status, dead_letter.resolved_at, dead_letter.resolved_by = status, timezone.now(), user
    dead_letter.save(update_fields=["status", "resolved_at", "resolved_by"])
