"""The bounded contexts this deployment runs, read from three modules of each.

Messaging never imports a context by name: the composition root lists them in
settings.BOUNDED_CONTEXTS, and each context declares

in `integration.py`, its contract with the rest of the company:
  TOPIC           the topic its integration events go to (eventos.<contexto>); None if it publishes none
  COMMAND_TOPIC   the topic it takes commands from (comandos.<contexto>); None if it takes none
  COMMANDS        {command type name: command class}
  DEPENDS_ON      optional, {command class: function(command) -> ids of the aggregates it is decided on}

in `bootstrap.py`, its wiring:
  unit_of_work()    a fresh Unit of Work of the context
  COMMAND_HANDLERS  {command class: handler(command, uow)}
  CONSUMES          {topic: {event type: handler(envelope, uow)}}
  BATCH_CONSUMES    optional, {topic: {event type: handler(envelopes, uow)}}: applied set-based per batch
  ORDERED           optional, {topic: {event type: slot(envelope)}}: the piece of state the event overwrites
  DECIDED_TOGETHER  optional, {command class: handler([(command, Origin)], uow) -> [Outcome]} (together.py)
  rebuild_projections  optional, replays an event store into the read models

in `tasks.py`, `ejecutar_comando`: the Celery task that executes a logged command of the context.
"""

from functools import cache
from importlib import import_module
from types import ModuleType

from django.conf import settings


@cache
def integration(context: str) -> ModuleType:
    return _module(context, "integration")


@cache
def wiring(context: str) -> ModuleType:
    return _module(context, "bootstrap")


@cache
def command_task(context: str):
    return _module(context, "tasks").ejecutar_comando


def _module(context: str, name: str) -> ModuleType:
    if context not in settings.BOUNDED_CONTEXTS:
        raise LookupError(f"unknown context {context!r}")
    return import_module(f"{context}.{name}")


def all_contexts() -> list[str]:
    return list(settings.BOUNDED_CONTEXTS)


@cache  # read for every delivered message; the wiring does not change while a process runs
def subscriptions(context: str) -> dict[str, dict]:
    """{topic: {type: handler}} for one context: the events it consumes and its command topic."""
    topics = {topic: dict(handlers) for topic, handlers in wiring(context).CONSUMES.items()}
    if integration(context).COMMAND_TOPIC is not None:  # None: a context that takes no commands (webhooks)
        topics.setdefault(integration(context).COMMAND_TOPIC, {})
    return topics


@cache
def batch_subscriptions(context: str) -> dict[str, dict]:
    """{topic: {type: handler(envelopes, uow)}}: the event types a context applies set-based."""
    return {topic: dict(handlers) for topic, handlers in getattr(wiring(context), "BATCH_CONSUMES", {}).items()}


def topics(context: str) -> list[str]:
    """Every topic a context subscribes to."""
    return sorted(set(subscriptions(context)) | set(batch_subscriptions(context)))


@cache  # asked for every delivered message
def consumed_types(context: str, topic: str) -> frozenset[str]:
    """The event types of `topic` a context applies (and so records in its inbox)."""
    return frozenset(subscriptions(context).get(topic, {})) | frozenset(batch_subscriptions(context).get(topic, {}))


@cache
def ordered(context: str) -> dict[str, dict]:
    """{topic: {type: slot(envelope)}}: events that overwrite state, applied only in position order."""
    return {topic: dict(slots) for topic, slots in getattr(wiring(context), "ORDERED", {}).items()}
