"""The embedded transport: committed outbox rows go straight to the local consumers, as one
batch per context, with the same envelopes, the same inbox and the same batch path as over Pulsar.
Chosen at start-up when PULSAR_URL is unset (apps.py)."""

import logging

from django.utils import timezone

from . import contexts, inbox
from .models import OutboxMessage

logger = logging.getLogger(__name__)


def deliver(event_ids) -> None:
    rows = list(OutboxMessage.objects.filter(event_id__in=event_ids, published_at__isnull=True).order_by("id"))
    for context in contexts.all_contexts():
        subscribed = set(contexts.topics(context))
        deliveries = [inbox.Delivery(row.topic, row.envelope, row.id) for row in rows if row.topic in subscribed]
        if not deliveries:
            continue
        for delivery in inbox.apply_batch(context, deliveries):
            if delivery.outcome == "fallido":
                raise delivery.error
    OutboxMessage.objects.filter(id__in=[row.id for row in rows]).update(published_at=timezone.now())
