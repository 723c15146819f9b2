"""The Pulsar side of a consumer process: one thread per context, each receiving batches from its
own subscription and handing them to `inbox.apply_batch`; acknowledged after commit. A failed
message is negatively acknowledged: redelivered a bounded number of times, then the client moves
it to the context's dead-letter topic.

Why a thread per context: an idle context then waits on its own subscription only (the old single
loop paid a 200 ms receive timeout on an idle topic for every message of a busy one). A batch is
whatever is already waiting, up to CONSUMER_BATCH_SIZE: the first receive blocks, the rest do not,
so an idle stream's lone message is applied at once and a backlog goes in large transactions.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter

import pulsar
from django.conf import settings
from django.db import close_old_connections, connection

from . import contexts, dead_letters, inbox, pulsar_transport
from .retries import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

TRANSIENT_RETRY_SECONDS = 2.0
DEAD_LETTER_CHECK_SECONDS = 1.0
SUBSCRIBE_RETRY_MIN_SECONDS = 0.5
SUBSCRIBE_RETRY_MAX_SECONDS = 10.0
IDLE_WAIT_MILLIS = 500  # how long a context's thread blocks for a first message; also how fast it sees a stop


def subscription_name(context: str) -> str:
    return f"alpespartners-{context}"


def dead_letter_topic(context: str) -> str:
    return pulsar_transport.topic_name(f"{subscription_name(context)}-DLQ")


class PulsarConsumer:
    def __init__(self, context_names: list[str], batch_size: int | None = None):
        self.context_names = context_names
        self.batch_size = batch_size or settings.CONSUMER_BATCH_SIZE
        self.stopping = threading.Event()
        self.handled = 0
        # Per context: messages, batches, and receives that waited IDLE_WAIT_MILLIS for nothing.
        self.statistics = {context: Counter() for context in context_names}
        self._lock = threading.Lock()

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())

    def run(self) -> None:
        client = pulsar_transport.client()
        try:
            threads = [threading.Thread(target=self._consume_context, args=(client, context), name=f"consume-{context}")
                       for context in self.context_names]
            for thread in threads:
                thread.start()
            logger.info("consuming for %s, batches of up to %s", ", ".join(self.context_names), self.batch_size)
            self._record_dead_letters_until_stopped(client)
            for thread in threads:
                thread.join()
        finally:
            client.close()
            for context, counts in self.statistics.items():
                logger.info("%s consumer: %s messages in %s batches, %s idle receive timeouts", context,
                            counts["messages"], counts["batches"], counts["idle_timeouts"],
                            extra={"consumer": context, **counts})

    def _consume_context(self, client: pulsar.Client, context: str) -> None:
        try:
            consumer = self._until_subscribed(lambda: self._subscribe(client, context), context)
            if consumer is None:
                return
            while not self.stopping.is_set():
                messages = self._receive_batch(context, consumer)
                if messages:
                    self._process(context, consumer, messages)
                else:
                    close_old_connections()
            consumer.close()
        except Exception:
            logger.exception("%s consumer thread failed; stopping the process", context)
            self.stopping.set()
            raise
        finally:
            connection.close()  # this thread's own connection

    def _receive_batch(self, context: str, consumer: pulsar.Consumer) -> list[pulsar.Message]:
        try:
            messages = [consumer.receive(timeout_millis=IDLE_WAIT_MILLIS)]
        except pulsar.Timeout:
            self.statistics[context]["idle_timeouts"] += 1
            return []
        while len(messages) < self.batch_size:
            try:
                messages.append(consumer.receive(timeout_millis=0))  # only what is already here
            except pulsar.Timeout:
                break
        return messages

    def _until_subscribed(self, subscribe, what: str) -> pulsar.Consumer | None:
        """A broker restarting or not yet up is waited out (with backoff), not a reason to exit; once
        subscribed, the client reconnects by itself. None if stopped meanwhile."""
        delay = SUBSCRIBE_RETRY_MIN_SECONDS
        while not self.stopping.is_set():
            try:
                return subscribe()
            except pulsar.PulsarException as error:
                logger.warning("%s: cannot subscribe (%s); retrying in %.1f s", what, error, delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, SUBSCRIBE_RETRY_MAX_SECONDS)
        return None

    def _record_dead_letters_until_stopped(self, client: pulsar.Client) -> None:
        dead_letters_by_context = {}
        for context in self.context_names:
            consumer = self._until_subscribed(lambda: self._subscribe_dead_letters(client, context),
                                              f"{context} dead letters")
            if consumer is None:
                return
            dead_letters_by_context[context] = consumer
        try:
            while not self.stopping.wait(DEAD_LETTER_CHECK_SECONDS):
                for context, consumer in dead_letters_by_context.items():
                    self._record_dead_letters(context, consumer)
                close_old_connections()
        finally:
            connection.close()

    def _subscribe(self, client: pulsar.Client, context: str) -> pulsar.Consumer:
        topics = [pulsar_transport.topic_name(topic) for topic in contexts.topics(context)]
        return client.subscribe(
            topics,
            subscription_name(context),
            # Key_Shared keeps each aggregate's events in order while allowing several processes.
            consumer_type=pulsar.ConsumerType.KeyShared,
            initial_position=pulsar.InitialPosition.Earliest,
            negative_ack_redelivery_delay_ms=settings.CONSUMER_NEGATIVE_ACK_DELAY_MS,
            dead_letter_policy=pulsar.ConsumerDeadLetterPolicy(
                max_redeliver_count=settings.CONSUMER_MAX_REDELIVERIES,
                dead_letter_topic=dead_letter_topic(context),
            ),
        )

    def _subscribe_dead_letters(self, client: pulsar.Client, context: str) -> pulsar.Consumer:
        """What the context's consumer gave up on, copied into the database for the admin."""
        return client.subscribe(dead_letter_topic(context), f"{subscription_name(context)}-dead-letters",
                                consumer_type=pulsar.ConsumerType.Shared,
                                initial_position=pulsar.InitialPosition.Earliest)

    def _record_dead_letters(self, context: str, consumer: pulsar.Consumer) -> None:
        """Copy whatever waits on the context's dead-letter topic into the database."""
        while True:
            try:
                message = consumer.receive(timeout_millis=10)
            except pulsar.Timeout:
                return
            properties = message.properties()
            try:
                dead_letters.record(context, properties.get("REAL_TOPIC", ""),
                                    properties.get("ORIGIN_MESSAGE_ID", str(message.message_id())), message.data(),
                                    properties)
            except TRANSIENT_ERRORS:
                close_old_connections()
                consumer.negative_acknowledge(message)  # the database is away: the DLQ keeps it
                return
            consumer.acknowledge(message)

    def _process(self, context: str, consumer: pulsar.Consumer, messages: list[pulsar.Message]) -> None:
        deliveries = [inbox.Delivery(message.topic_name().rsplit("/", 1)[-1], _decoded(message),
                                         pulsar_transport.position(message))
                      for message in messages]
        self._apply(context, deliveries)
        if self.stopping.is_set() and any(delivery.outcome == "pendiente" for delivery in deliveries):
            return  # stopped while the database was away: unacknowledged, the broker redelivers them
        for message, delivery in zip(messages, deliveries):
            if delivery.outcome == "fallido":
                logger.error("%s could not apply message %s from %s (delivery %s): %s", context,
                             message.properties().get("event_id"), delivery.topic, message.redelivery_count() + 1,
                             delivery.error)
                consumer.negative_acknowledge(message)
            else:
                consumer.acknowledge(message)
        counts = self.statistics[context]
        counts["batches"] += 1
        counts["messages"] += len(messages)
        with self._lock:
            self.handled += len(messages)

    def _apply(self, context: str, deliveries: list[inbox.Delivery]) -> None:
        """A database outage or a version conflict is not the messages' fault: retry the batch here
        instead of spending their bounded redeliveries on it and dead-lettering good messages."""
        while True:
            try:
                inbox.apply_batch(context, deliveries)
                return
            except TRANSIENT_ERRORS as error:
                close_old_connections()
                for delivery in deliveries:
                    delivery.outcome, delivery.error = "pendiente", None
                if self.stopping.is_set():
                    return
                logger.warning("%s: transient failure (%s); retrying a batch of %s", context, error, len(deliveries))
                self.stopping.wait(TRANSIENT_RETRY_SECONDS)


def _decoded(message: pulsar.Message):
    try:
        return pulsar_transport.decode(message)
    except ValueError:
        return None  # unreadable: the batch marks it failed, and it ends on the dead-letter topic
