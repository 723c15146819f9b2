"""The bounded contexts this deployment runs, read from each context's `integration.py`.

Messaging never imports a context by name: the composition root lists them in
settings.BOUNDED_CONTEXTS and each one's integration module declares
  TOPIC           the topic its integration events go to (eventos.<contexto>)
  COMMAND_TOPIC   the topic it takes commands from (comandos.<contexto>)
  COMMANDS        {command type name: command class}
  COMMAND_TASK    the Celery task that executes a logged command of this context
  CONSUMES        {topic: {event type: handler(envelope, uow)}}
  unit_of_work()  a fresh Unit of Work of the context
"""

from functools import cache
from importlib import import_module
from types import ModuleType

from django.conf import settings


@cache
def integration(context: str) -> ModuleType:
    if context not in settings.BOUNDED_CONTEXTS:
        raise LookupError(f"unknown context {context!r}")
    return import_module(f"{context}.integration")


def all_contexts() -> list[str]:
    return list(settings.BOUNDED_CONTEXTS)


@cache  # read for every delivered message; the wiring does not change while a process runs
def subscriptions(context: str) -> dict[str, dict]:
    """{topic: {type: handler}} for one context: the events it consumes and its command topic."""
    module = integration(context)
    topics = {topic: dict(handlers) for topic, handlers in module.CONSUMES.items()}
    topics.setdefault(module.COMMAND_TOPIC, {})
    return topics
