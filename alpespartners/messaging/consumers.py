"""Applying one inbound message: inbox row and effect in one transaction, duplicates skipped."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from alpespartners import correlation
from alpespartners.seedwork.domain import DomainError, from_payload

from . import command_log, contexts
from .models import InboxMessage

logger = logging.getLogger(__name__)


def handle(context: str, topic: str, envelope: dict, handlers: dict) -> bool:
    """Apply `envelope` for `context`. Returns False when it was already applied."""
    with correlation.bound(envelope.get("correlation_id")):
        applied = _handle(context, topic, envelope, handlers)
        if applied:
            logger.info("%s applied %s %s from %s", context, envelope["type"], envelope["id"], topic,
                        extra={"consumer": context, "event_type": envelope["type"], "event_id": envelope["id"]})
        return applied


def _handle(context: str, topic: str, envelope: dict, handlers: dict) -> bool:
    module = contexts.integration(context)
    with transaction.atomic():
        try:
            with transaction.atomic():
                InboxMessage.objects.create(
                    consumer=context, event_id=envelope["id"], topic=topic, type=envelope["type"]
                )
        except IntegrityError:
            logger.info("%s skipped duplicate %s %s", context, envelope["type"], envelope["id"])
            return False
        if topic == module.COMMAND_TOPIC:
            _submit_command(context, module, envelope)
        elif (handler := handlers.get(envelope["type"])) is not None:
            handler(envelope, module.unit_of_work(correlation_id=envelope.get("correlation_id"), causation_id=envelope["id"]))
    return True


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
