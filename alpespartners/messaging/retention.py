"""Keeps the outbox and the inbox from growing without bound.

Published outbox rows are kept OUTBOX_RETENTION_DAYS for inspection; inbox rows are kept
INBOX_RETENTION_DAYS, longer than Pulsar keeps messages (7 days), so no message the broker
could still redeliver or replay finds its inbox row gone.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import InboxMessage, OutboxMessage


def purge() -> dict[str, int]:
    now = timezone.now()
    outbox_deleted, _ = OutboxMessage.objects.filter(
        published_at__lt=now - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    ).delete()
    inbox_deleted, _ = InboxMessage.objects.filter(
        received_at__lt=now - timedelta(days=settings.INBOX_RETENTION_DAYS)
    ).delete()
    return {"outbox": outbox_deleted, "inbox": inbox_deleted}
