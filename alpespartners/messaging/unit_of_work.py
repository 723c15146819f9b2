"""Unit of Work: one database transaction for the aggregate's new state, the context's own
read models, the outbox rows of its integration events and the status of the command.

Each context builds its own in bootstrap.py: its topic, its projections, its repository (which
handlers reach as `uow.repository`, so a test can hand them an in-memory one) and how follow-up
work it asks for with `after_commit` is started."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any, Callable, Iterable

from django.db import transaction
from django.utils import timezone

from alpespartners.seedwork.domain import Aggregate, DomainEvent

from . import command_log, outbox
from .together import Origin


class UnitOfWork:
    def __init__(
        self,
        *,
        topic: str,
        project: Callable[[DomainEvent], None],
        repository: Any = None,
        start: Callable[[Any], None] | None = None,
        command_id: uuid.UUID | None = None,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ):
        self.topic = topic
        self.project = project
        self.repository = repository
        self.start = start
        self.command_id = command_id
        self.correlation_id = correlation_id or uuid.uuid4()
        self.causation_id = causation_id or command_id
        self.events: list[DomainEvent] = []
        self.origins: dict[uuid.UUID, Origin] = {}
        self.commands: dict[str, list[dict]] = {}
        self.follow_ups: list[Any] = []
        self.committed = False

    def __enter__(self) -> "UnitOfWork":
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.events, self.origins, self.commands, self.follow_ups, self.committed = [], {}, {}, [], False
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None and not self.committed:
            transaction.set_rollback(True)  # leaving without commit() writes nothing
        return self._atomic.__exit__(exc_type, exc, traceback)

    def collect(self, aggregate: Aggregate) -> None:
        self.events.extend(aggregate.pull_events())

    def record(self, events: Iterable[DomainEvent]) -> None:
        """Events decided without loading an aggregate (set-based work, e.g. a batch of conversions).
        When one Unit of Work decides several commands, `origins[event_id]` names each event's command."""
        self.events.extend(events)

    def send(self, topic: str, type: str, *, key: uuid.UUID, data: dict, command_id: uuid.UUID | None = None) -> uuid.UUID:
        """A command for another context (`comandos.<contexto>`), leaving through the outbox with
        this transaction. Its envelope id is the command id, so the receiver logs it once."""
        command_id = command_id or uuid.uuid4()
        self.commands.setdefault(topic, []).append(outbox.envelope(
            event_id=command_id, type=type, version=1, occurred_at=timezone.now(), aggregate_id=key,
            correlation_id=self.correlation_id, causation_id=self.causation_id, data=data,
        ))
        return command_id

    def after_commit(self, message: Any) -> None:
        """Follow-up work (a message of the context, e.g. pagos' EnviarPayout), started by the
        context's `start` once this transaction has committed; never if it rolls back."""
        self.follow_ups.append(message)

    def commit(self, resource_id: uuid.UUID | None = None, result: dict | None = None) -> None:
        for event in self.events:
            self.project(event)
        outbox.add(self.topic, self.envelopes(self.events))
        for topic, envelopes in self.commands.items():
            outbox.add(topic, envelopes)
        if self.command_id is not None and not command_log.complete(self.command_id, resource_id, result):
            raise command_log.CommandAlreadyExecuted(str(self.command_id))
        for message in self.follow_ups:
            transaction.on_commit(partial(self.start, message))
        self.committed = True

    def envelopes(self, events: Iterable[DomainEvent]) -> list[dict]:
        envelopes = []
        for event in events:
            origin = self.origins.get(event.event_id)
            correlation_id, causation_id = (origin.correlation_id, origin.command_id) if origin else (
                self.correlation_id, self.causation_id)
            envelopes.append(outbox.event_envelope(event, correlation_id, causation_id))
        return envelopes
