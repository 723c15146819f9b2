"""The Pulsar side of a consumer process: subscribe, hand each message to `consumers.handle`,
acknowledge after commit; failures are redelivered a bounded number of times, then the
client moves the message to the dead-letter topic."""

from __future__ import annotations

import logging
import signal
import threading
import time

import pulsar
from django.conf import settings
from django.db import close_old_connections

from . import consumers, contexts, dead_letters, pulsar_transport
from .tasks import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

TRANSIENT_RETRY_SECONDS = 2.0
DEAD_LETTER_CHECK_SECONDS = 1.0


def subscription_name(context: str) -> str:
    return f"alpespartners-{context}"


def dead_letter_topic(context: str) -> str:
    return pulsar_transport.topic_name(f"{subscription_name(context)}-DLQ")


class Subscriber:
    def __init__(self, context_names: list[str]):
        self.context_names = context_names
        self.stopping = threading.Event()
        self.handled = 0

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())

    def run(self) -> None:
        client = pulsar_transport.client()
        try:
            consumers_by_context = {context: self._subscribe(client, context) for context in self.context_names}
            dead_letters_by_context = {context: self._subscribe_dead_letters(client, context)
                                       for context in self.context_names}
            logger.info("consuming for %s", ", ".join(self.context_names))
            dead_letters_due = time.monotonic()
            while not self.stopping.is_set():
                idle = True
                for context, consumer in consumers_by_context.items():
                    try:
                        message = consumer.receive(timeout_millis=200)
                    except pulsar.Timeout:
                        continue
                    idle = False
                    self._process(context, consumer, message)
                if time.monotonic() >= dead_letters_due:  # not every loop: an empty DLQ costs a receive timeout
                    for context, consumer in dead_letters_by_context.items():
                        self._record_dead_letters(context, consumer)
                    dead_letters_due = time.monotonic() + DEAD_LETTER_CHECK_SECONDS
                if idle:
                    close_old_connections()
        finally:
            client.close()

    def _subscribe(self, client: pulsar.Client, context: str) -> pulsar.Consumer:
        topics = [pulsar_transport.topic_name(topic) for topic in contexts.subscriptions(context)]
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

    def _process(self, context: str, consumer: pulsar.Consumer, message: pulsar.Message) -> None:
        topic = message.topic_name().rsplit("/", 1)[-1]
        try:
            self._apply(context, topic, message)
        except Exception:
            logger.exception(
                "%s could not apply message %s from %s (delivery %s)",
                context, message.properties().get("event_id"), topic, message.redelivery_count() + 1,
            )
            consumer.negative_acknowledge(message)
            return
        consumer.acknowledge(message)
        self.handled += 1

    def _apply(self, context: str, topic: str, message: pulsar.Message) -> None:
        """A database outage or a version conflict is not the message's fault: retry here instead
        of spending the message's bounded redeliveries on it and dead-lettering a good message."""
        envelope = pulsar_transport.decode(message)
        handlers = contexts.subscriptions(context).get(topic, {})
        while True:
            try:
                consumers.handle(context, topic, envelope, handlers)
                return
            except TRANSIENT_ERRORS as error:
                close_old_connections()
                if self.stopping.is_set():
                    raise
                logger.warning("%s: transient failure (%s); retrying message %s", context, error, envelope.get("id"))
                self.stopping.wait(TRANSIENT_RETRY_SECONDS)
