"""The daily purge removes only what can no longer matter."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from alpespartners.messaging.models import InboxMessage, OutboxMessage
from alpespartners.messaging.tasks import purge_messages

pytestmark = pytest.mark.django_db


def outbox_row(published_days_ago):
    event_id = uuid.uuid4()
    published_at = None if published_days_ago is None else timezone.now() - timedelta(days=published_days_ago)
    return OutboxMessage.objects.create(
        event_id=event_id, topic="eventos.cliente", type="ClienteRegistrado", version=1, aggregate_id=uuid.uuid4(),
        envelope={"id": str(event_id)}, published_at=published_at,
    )


def inbox_row(days_ago):
    row = InboxMessage.objects.create(consumer="cliente", event_id=uuid.uuid4(), topic="comandos.cliente", type="X")
    InboxMessage.objects.filter(id=row.id).update(received_at=timezone.now() - timedelta(days=days_ago))
    return row


def test_purge_keeps_pending_and_recent_rows():
    old_published, recent_published, pending = outbox_row(8), outbox_row(1), outbox_row(None)
    old_inbox, recent_inbox = inbox_row(31), inbox_row(8)

    assert purge_messages() == {"outbox": 1, "inbox": 1}

    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {recent_published.id, pending.id}
    assert list(InboxMessage.objects.values_list("id", flat=True)) == [recent_inbox.id]
    assert not OutboxMessage.objects.filter(id=old_published.id).exists()
    assert not InboxMessage.objects.filter(id=old_inbox.id).exists()
