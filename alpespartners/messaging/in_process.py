"""The embedded transport: committed outbox rows go straight to the local consumers,
with the same envelopes and the same inbox as over Pulsar."""

import logging

from django.utils import timezone

from . import consumers, contexts
from .models import OutboxMessage

logger = logging.getLogger(__name__)


def deliver(event_ids) -> None:
    rows = list(OutboxMessage.objects.filter(event_id__in=event_ids, published_at__isnull=True).order_by("id"))
    for row in rows:
        for context in contexts.all_contexts():
            handlers = contexts.subscriptions(context).get(row.topic)
            if handlers is not None:
                consumers.handle(context, row.topic, row.envelope, handlers)
        OutboxMessage.objects.filter(id=row.id).update(published_at=timezone.now())
