"""The events still kept on a topic, oldest first: how a context fills a copy it started keeping
after the events were applied (a column added to a local read model). Over Pulsar, what its
retention keeps (7 days with scripts/services.sh); in the embedded default, the outbox, its
transport's only store."""

from collections.abc import Iterator

from django.conf import settings

from . import pulsar_transport
from .models import OutboxMessage


def events_from_start(topic: str) -> Iterator[dict]:
    if settings.PULSAR_URL:
        yield from pulsar_transport.read_from_start(topic)
        return
    yield from OutboxMessage.objects.filter(topic=topic).order_by("id").values_list("envelope", flat=True).iterator()
