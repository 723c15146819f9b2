"""The events still kept on a topic, oldest first: how a context fills a copy it started keeping
after the events were applied (a column added to a local read model). Over Pulsar, what its
retention keeps (7 days with scripts/services.sh); in the embedded default, the outbox, its
transport's only store."""

import uuid
from collections.abc import Iterator

from django.conf import settings

from . import inbox, pulsar_transport
from .models import OutboxMessage


def events_from_start(topic: str) -> Iterator[dict]:
    """Envelopes of the contract only (an id, a type, a UUID aggregate, a `data` object): a poison
    message on the topic, which the consumers dead-letter, is skipped."""
    if settings.PULSAR_URL:
        messages = pulsar_transport.read_from_start(topic)
    else:
        messages = OutboxMessage.objects.filter(topic=topic).order_by("id").values_list("envelope", flat=True).iterator()
    return (message for message in messages if _legible(message))


def _legible(message) -> bool:
    if not (inbox.is_envelope(message) and isinstance(message.get("data"), dict)):
        return False
    try:
        uuid.UUID(str(message["aggregate_id"]))  # every aggregate of the platform has a UUID
    except ValueError:
        return False
    return True
