"""The only module that knows how to talk to Pulsar: client, topic names, message framing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pulsar
from django.conf import settings


def topic_name(topic: str) -> str:
    return f"persistent://{settings.PULSAR_TENANT_NAMESPACE}/{topic}"


def client() -> pulsar.Client:
    return pulsar.Client(
        settings.PULSAR_URL,
        operation_timeout_seconds=30,
        logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn),
    )


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode()


def decode(message: pulsar.Message) -> dict:
    return json.loads(message.data())


def properties(envelope: dict, position: int | None = None) -> dict[str, str]:
    """`position`: the outbox id, increasing along each aggregate's events (inbox.py keeps it)."""
    values = {"event_id": envelope["id"], "type": envelope["type"], "version": str(envelope["version"])}
    if position is not None:
        values["position"] = str(position)
    return values


def position(message: pulsar.Message) -> int | None:
    value = message.properties().get("position", "")
    return int(value) if value.isdigit() else None


def read_from_start(topic: str) -> Iterator[dict]:
    """Every message the broker still keeps on `topic`, oldest first, without a subscription (a
    Reader: no consumer's position moves). Unreadable ones are skipped: the consumers dead-letter them."""
    pulsar_client = client()
    try:
        reader = pulsar_client.create_reader(topic_name(topic), pulsar.MessageId.earliest)
        while reader.has_message_available():
            try:
                yield decode(reader.read_next())
            except ValueError:
                continue
    finally:
        pulsar_client.close()
