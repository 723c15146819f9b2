"""The relay: committed outbox rows → Pulsar, in order, each exactly once.

Why sequence ids are assigned here and not taken from the outbox id: an outbox id is drawn
at insert, so a transaction holding a low id can commit after higher ids were already
published, and the broker's deduplication silently drops any sequence id lower than the
last one it persisted. So the relay numbers rows in the order it publishes them, persists
those numbers before sending, and after any failure resends the unconfirmed rows with the
same numbers: whatever the broker had already stored is dropped as a duplicate.

Only one relay publishes at a time (a PostgreSQL advisory lock); others wait on standby.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass

import psycopg
import pulsar
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from . import contexts, pulsar_transport
from .listen import autocommit_connection
from .models import OutboxMessage

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 7_316_842_011  # "the relay" for pg_try_advisory_lock
NOTIFY_CHANNEL = "outbox_inserted"
DATABASE_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError, OperationalError, InterfaceError)
RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 10.0


@dataclass
class PendingRow:
    id: int
    sequence_id: int
    topic: str
    aggregate_id: str
    envelope: dict


class Relay:
    def __init__(self, *, producer_prefix: str | None = None, batch_size: int | None = None, poll_seconds: float | None = None):
        self.producer_prefix = producer_prefix or settings.RELAY_PRODUCER_NAME
        self.batch_size = batch_size or settings.RELAY_BATCH_SIZE
        self.poll_seconds = poll_seconds if poll_seconds is not None else settings.RELAY_POLL_SECONDS
        self.stopping = threading.Event()
        self.client: pulsar.Client | None = None
        self.producers: dict[str, pulsar.Producer] = {}
        self.next_sequence_id = 0
        self.published_total = 0
        self.reconnect_delay = RECONNECT_MIN_SECONDS

    # --- lifecycle --------------------------------------------------------

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop())

    def stop(self) -> None:
        logger.info("relay stopping")
        self.stopping.set()

    def run(self) -> None:
        """Until stopped. A database restart (the listener's connection or Django's) is waited out:
        reconnect with backoff and stand by for the lock again, since the restart released it and
        another relay may have taken it meanwhile."""
        while not self.stopping.is_set():
            try:
                self._run_connected()
            except DATABASE_ERRORS as error:
                logger.warning("database unavailable (%s: %s); reconnecting in %.1f s", type(error).__name__,
                               str(error).strip(), self.reconnect_delay)
                connection.close()  # Django's connection is broken too; the next query opens a new one
                self.stopping.wait(self.reconnect_delay)
                self.reconnect_delay = min(self.reconnect_delay * 2, RECONNECT_MAX_SECONDS)

    def _run_connected(self) -> None:
        with autocommit_connection() as listener:
            self._wait_for_lock(listener)
            if self.stopping.is_set():
                return
            listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            while not self.stopping.is_set():
                try:
                    self._publish_until_stopped(listener)
                except pulsar.PulsarException as error:
                    # Broker unreachable at start-up: nothing is lost, the rows wait in the outbox.
                    logger.warning("Pulsar unavailable (%s); retrying in 2 s", error)
                    self.stopping.wait(2.0)
                finally:
                    self._close()

    def _publish_until_stopped(self, listener: psycopg.Connection) -> None:
        self.client = pulsar_transport.client()
        self.next_sequence_id = (OutboxMessage.objects.aggregate(Max("sequence_id"))["sequence_id__max"] or 0) + 1
        for topic in self._known_topics():
            self._producer(topic)
        logger.info("relay active, next sequence id %s", self.next_sequence_id)
        self.reconnect_delay = RECONNECT_MIN_SECONDS
        while not self.stopping.is_set():
            if self.publish_batch() == 0:
                self._wait_for_notification(listener)

    def _wait_for_lock(self, listener: psycopg.Connection) -> None:
        announced = False
        while not self.stopping.is_set():
            if listener.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()[0]:
                return
            if not announced:
                logger.info("another relay holds the lock; standing by")
                announced = True
            self.stopping.wait(1.0)

    def _wait_for_notification(self, listener: psycopg.Connection) -> None:
        # The poll timeout is the fallback for a lost notification.
        for _ in listener.notifies(timeout=self.poll_seconds, stop_after=1):
            pass

    def _known_topics(self) -> list[str]:
        topics = []
        for context in contexts.all_contexts():
            module = contexts.integration(context)
            topics += [module.TOPIC, module.COMMAND_TOPIC]
        return [topic for topic in topics if topic is not None]  # webhooks only listens

    def _close(self) -> None:
        for producer in self.producers.values():
            close_quietly(producer)
        self.producers.clear()
        if self.client is not None:
            self.client.close()
            self.client = None

    # --- producers --------------------------------------------------------

    def _producer(self, topic: str) -> pulsar.Producer:
        producer = self.producers.get(topic)
        if producer is None:
            producer = self.client.create_producer(
                pulsar_transport.topic_name(topic),
                producer_name=f"{self.producer_prefix}.{topic}",
                send_timeout_millis=0,  # never give up: a broker outage only delays
                block_if_queue_full=True,
                max_pending_messages=self.batch_size * 2,
                # No batching: the broker deduplicates a batch by its sequence ids as a whole,
                # and a resend after a crash need not form the same batches.
                batching_enabled=False,
            )
            self.producers[topic] = producer
            self._settle_with_broker(topic, producer.last_sequence_id())
        return producer

    def _settle_with_broker(self, topic: str, last_persisted: int) -> None:
        """Rows the broker already persisted (a previous run died before marking them) are
        marked now, and new numbers start above anything the broker has seen."""
        if last_persisted >= 0:
            already = OutboxMessage.objects.filter(
                topic=topic, published_at__isnull=True, sequence_id__lte=last_persisted
            ).update(published_at=timezone.now())
            if already:
                logger.info("%s: %s rows were already on the broker", topic, already)
            self.next_sequence_id = max(self.next_sequence_id, last_persisted + 1)

    def _recreate_producers(self, topics: set[str]) -> None:
        for topic in topics:
            producer = self.producers.pop(topic, None)
            if producer is not None:
                close_quietly(producer)
        for topic in topics:
            while not self.stopping.is_set():
                try:
                    self._producer(topic)
                    break
                except pulsar.PulsarException as error:
                    logger.warning("cannot recreate producer for %s: %s", topic, error)
                    self.stopping.wait(1.0)

    # --- publishing -------------------------------------------------------

    def publish_batch(self) -> int:
        """Number and send one batch; returns how many rows the broker confirmed."""
        self._assign_sequence_ids()
        rows = self._numbered_unpublished_rows()
        if not rows:
            return 0
        confirmed, failed_topics = self._send(rows)
        if confirmed:
            OutboxMessage.objects.filter(id__in=confirmed).update(published_at=timezone.now())
            self.published_total += len(confirmed)
            log_published(rows, set(confirmed))
        if failed_topics:
            self._recreate_producers(failed_topics)
        return len(confirmed)

    def _assign_sequence_ids(self) -> None:
        with transaction.atomic():
            rows = list(
                OutboxMessage.objects.filter(published_at__isnull=True, sequence_id__isnull=True)
                .order_by("id")
                .values_list("id", "topic")[: self.batch_size]
            )
            if not rows:
                return
            for topic in {topic for _, topic in rows} - self.producers.keys():
                self._producer(topic)
            first = self.next_sequence_id
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE messaging_outboxmessage AS outbox SET sequence_id = numbered.sequence_id "
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS numbered(id, sequence_id) WHERE outbox.id = numbered.id",
                    [[row_id for row_id, _ in rows], list(range(first, first + len(rows)))],
                )
            self.next_sequence_id = first + len(rows)

    def _numbered_unpublished_rows(self) -> list[PendingRow]:
        return [
            PendingRow(*values)
            for values in OutboxMessage.objects.filter(published_at__isnull=True, sequence_id__isnull=False)
            .order_by("sequence_id")
            .values_list("id", "sequence_id", "topic", "aggregate_id", "envelope")[: self.batch_size]
        ]

    def _send(self, rows: list[PendingRow]) -> tuple[list[int], set[str]]:
        """Send all rows; returns the ids confirmed as a prefix per topic (nothing after a
        topic's first failure counts) and the topics whose producer failed."""
        results: dict[int, pulsar.Result] = {}
        done = threading.Condition()

        def on_sent(row_id: int):
            def callback(result, _message_id):
                with done:
                    results[row_id] = result
                    done.notify()
            return callback

        sent = []
        failed_topics: set[str] = set()
        for row in rows:
            if row.topic in failed_topics:
                continue
            try:
                self._producer(row.topic).send_async(
                    pulsar_transport.encode(row.envelope),
                    on_sent(row.id),
                    properties=pulsar_transport.properties(row.envelope, row.id),
                    partition_key=str(row.aggregate_id),
                    sequence_id=row.sequence_id,
                )
                sent.append(row)
            except pulsar.PulsarException as error:
                logger.warning("send to %s failed: %s", row.topic, error)
                failed_topics.add(row.topic)
        for topic in {row.topic for row in sent}:
            try:
                self.producers[topic].flush()
            except pulsar.PulsarException:
                pass
        grace_deadline = None
        with done:
            while len(results) < len(sent):
                if self.stopping.is_set():
                    grace_deadline = grace_deadline or time.monotonic() + 5
                    if time.monotonic() > grace_deadline:
                        break  # unconfirmed rows stay pending; the next relay resends them
                done.wait(0.5)
        confirmed = []
        for row in sent:
            if row.topic in failed_topics:
                continue
            if results.get(row.id) == pulsar.Result.Ok:
                confirmed.append(row.id)
            else:
                if row.id in results:
                    logger.warning("broker refused %s on %s: %s", row.envelope["id"], row.topic, results[row.id])
                failed_topics.add(row.topic)
        return confirmed, failed_topics


def log_published(rows: list[PendingRow], confirmed: set[int]) -> None:
    """One line per batch (not per event: the relay sends thousands a second), naming the
    correlation ids it carried so an operator can follow one request across processes."""
    published = [row for row in rows if row.id in confirmed]
    correlation_ids = sorted({row.envelope.get("correlation_id") for row in published} - {None})
    logger.info("published %s events to %s", len(published), ", ".join(sorted({row.topic for row in published})),
                extra={"published": len(published), "correlation_ids": correlation_ids})


def close_quietly(producer: pulsar.Producer) -> None:
    """A producer being replaced or shut down may already be broken; closing it must not fail."""
    try:
        producer.close()
    except pulsar.PulsarException:
        pass


def install_notify_trigger(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION messaging_outbox_notify() RETURNS trigger AS $$
        BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$ LANGUAGE plpgsql;
        DROP TRIGGER IF EXISTS messaging_outbox_notify ON messaging_outboxmessage;
        CREATE TRIGGER messaging_outbox_notify AFTER INSERT ON messaging_outboxmessage
        FOR EACH STATEMENT EXECUTE FUNCTION messaging_outbox_notify();
        """
    )
