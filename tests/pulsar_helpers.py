"""A test consumer: what actually reached the broker, read with a Pulsar reader."""

import json
import time
import urllib.error
import urllib.request

import pulsar
from django.conf import settings

from alpespartners.messaging import pulsar_transport


class TopicReader:
    """Reads a topic from the moment it was opened (or from its start), keeping every message."""

    def __init__(self, topic: str, from_start: bool = False):
        self.client = pulsar.Client(settings.PULSAR_URL, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
        self.reader = self.client.create_reader(
            pulsar_transport.topic_name(topic),
            pulsar.MessageId.earliest if from_start else pulsar.MessageId.latest,
        )
        self.messages: list[pulsar.Message] = []

    def read_until(self, condition, timeout: float, quiet_seconds: float = 1.0) -> list[dict]:
        """Read until `condition(envelopes)` holds and then `quiet_seconds` pass with nothing new."""
        deadline = time.monotonic() + timeout
        satisfied_at = None
        while time.monotonic() < deadline:
            try:
                self.messages.append(self.reader.read_next(timeout_millis=200))
                satisfied_at = None
                continue
            except pulsar.Timeout:
                pass
            if condition(self.envelopes()):
                satisfied_at = satisfied_at or time.monotonic()
                if time.monotonic() - satisfied_at >= quiet_seconds:
                    break
        return self.envelopes()

    def read_more(self) -> list[pulsar.Message]:
        """Whatever arrived since the last read, without waiting long."""
        while True:
            try:
                self.messages.append(self.reader.read_next(timeout_millis=200))
            except pulsar.Timeout:
                return self.messages

    def envelopes(self) -> list[dict]:
        return [json.loads(message.data()) for message in self.messages]

    def close(self) -> None:
        self.reader.close()
        self.client.close()


def skip_backlog(context_names: list[str]) -> None:
    """Start the given contexts' subscriptions at the end of their topics, so a consumer under
    test does not first work through what earlier runs (other test databases) left unread."""
    from alpespartners.messaging import contexts
    from alpespartners.messaging.pulsar_consumer import subscription_name

    for context in context_names:
        for topic in contexts.topics(context):
            path = pulsar_transport.topic_name(topic).replace("persistent://", "persistent/")
            url = f"{settings.PULSAR_ADMIN_URL}/admin/v2/{path}/subscription/{subscription_name(context)}/skip_all"
            _post_admin(url)


def _post_admin(url: str, patience_seconds: float = 30) -> None:
    # Loading a topic makes the broker open its ledger; on a busy machine the standalone's one
    # bookie can refuse that for a few seconds (HTTP 500), which is the broker's hiccup, not the
    # system under test's. Anything still refused after `patience_seconds` fails the test.
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10).close()
            return
        except urllib.error.HTTPError as error:
            if error.code == 404:  # no such subscription or topic yet: nothing to skip
                return
            if error.code < 500 or time.monotonic() > deadline:
                raise
        time.sleep(1)
