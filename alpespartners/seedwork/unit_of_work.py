"""Unit of Work: one database transaction for the aggregate's new state, the context's own
read models, the outbox rows of its integration events and the status of the command."""

from __future__ import annotations

import uuid
from typing import Callable, Iterable

from django.db import transaction

from alpespartners.messaging import command_log, outbox

from .domain import Aggregate, DomainEvent


class CommandAlreadyExecuted(Exception):
    """The command log entry is no longer PENDIENTE: a redelivered task must not apply it twice."""


class UnitOfWork:
    def __init__(
        self,
        *,
        topic: str,
        project: Callable[[DomainEvent], None],
        command_id: uuid.UUID | None = None,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ):
        self.topic = topic
        self.project = project
        self.command_id = command_id
        self.correlation_id = correlation_id or uuid.uuid4()
        self.causation_id = causation_id or command_id
        self.events: list[DomainEvent] = []
        self.committed = False

    def __enter__(self) -> "UnitOfWork":
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.events, self.committed = [], False
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None and not self.committed:
            transaction.set_rollback(True)  # leaving without commit() writes nothing
        return self._atomic.__exit__(exc_type, exc, traceback)

    def collect(self, aggregate: Aggregate) -> None:
        self.events.extend(aggregate.pull_events())

    def commit(self, resource_id: uuid.UUID | None = None, result: dict | None = None) -> None:
        for event in self.events:
            self.project(event)
        outbox.add(self.topic, self.envelopes(self.events))
        if self.command_id is not None and not command_log.complete(self.command_id, resource_id, result):
            raise CommandAlreadyExecuted(str(self.command_id))
        self.committed = True

    def envelopes(self, events: Iterable[DomainEvent]) -> list[dict]:
        return [outbox.event_envelope(event, self.correlation_id, self.causation_id) for event in events]
