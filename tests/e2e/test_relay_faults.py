"""The relay under faults: SIGKILLs mid-publish, a broker restart, and the outbox-id gap hazard.

Each test publishes to a topic of its own, so reading it from the start shows exactly what
the broker stored."""

import subprocess
import threading
import uuid
from collections import defaultdict

import pytest
from django.db import connection, transaction
from django.utils import timezone

from alpespartners.messaging import outbox
from alpespartners.messaging.models import OutboxMessage
from tests.conftest import ROOT, manage, wait_until
from tests.pulsar_helpers import TopicReader

pytestmark = pytest.mark.real_services


def envelopes_for(aggregates: list[uuid.UUID], rounds: range) -> list[dict]:
    """Round `n` gives every aggregate its n-th event, so aggregates interleave in the outbox."""
    return [
        outbox.envelope(event_id=uuid.uuid4(), type="PruebaOcurrida", version=1, occurred_at=timezone.now(),
                        aggregate_id=aggregate, correlation_id=None, causation_id=None,
                        data={"orden": number})
        for number in rounds
        for aggregate in aggregates
    ]


def add_committed(topic: str, envelopes: list[dict], chunk: int = 250) -> None:
    for start in range(0, len(envelopes), chunk):
        with transaction.atomic():
            outbox.add(topic, envelopes[start:start + chunk])


def published(topic: str) -> int:
    return OutboxMessage.objects.filter(topic=topic, published_at__isnull=False).count()


def pending(topic: str) -> int:
    return OutboxMessage.objects.filter(topic=topic, published_at__isnull=True).count()


def services(action: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "services.sh"), action], check=True, timeout=300)


def pulsar_answers() -> bool:
    return subprocess.run(
        ["curl", "-sf", "-m", "2", "http://127.0.0.1:8080/admin/v2/brokers/health"], capture_output=True
    ).returncode == 0


def stored_on(topic: str, count: int, timeout: float) -> list[dict]:
    """Everything the broker holds on `topic`, read from its start."""
    reader = TopicReader(topic, from_start=True)
    try:
        return reader.read_until(lambda seen: len(seen) >= count, timeout=timeout, quiet_seconds=1)
    finally:
        reader.close()


def assert_exactly_once_in_order(received: list[dict], sent: list[dict]) -> None:
    received_ids = [item["id"] for item in received]
    assert len(received_ids) == len(set(received_ids)), "some event reached the broker twice"
    assert set(received_ids) == {item["id"] for item in sent}, "some event never reached the broker"
    orders = defaultdict(list)
    for item in received:
        orders[item["aggregate_id"]].append(item["data"]["orden"])
    assert all(numbers == sorted(numbers) for numbers in orders.values()), "an aggregate's events out of order"


def test_every_event_once_and_in_order_through_kills_and_a_broker_restart(processes):
    topic = f"pruebas.relay-fallos-{uuid.uuid4().hex[:8]}"
    aggregates = [uuid.uuid4() for _ in range(250)]
    before_outage, during_outage = envelopes_for(aggregates, range(18)), envelopes_for(aggregates, range(18, 20))
    add_committed(topic, before_outage)
    assert len(before_outage) + len(during_outage) == 5000

    def relay():
        return processes("relay", *manage("relay", "--batch-size", "100"))

    # given a relay killed with SIGKILL three times while it publishes
    for kills, threshold in enumerate((600, 1800, 3000), start=1):
        running = relay()
        wait_until(lambda threshold=threshold: published(topic) >= threshold, 120, f"relay to pass {threshold} events")
        running.kill()
        assert pending(topic) > 0, f"kill {kills} came after the relay had finished"

    # and the broker stopped while events are pending, with more committed during the outage
    running = relay()
    services("pulsar-stop")
    assert not pulsar_answers(), "this Pulsar was not started by scripts/services.sh, so the test cannot stop it"
    add_committed(topic, during_outage)
    assert pending(topic) >= len(during_outage)
    services("pulsar-start")

    # when the relay carries on
    wait_until(lambda: pending(topic) == 0, 240, "outbox to drain after the broker restart")
    assert running.stop() == 0, running.log()

    # then the broker holds every event exactly once, each aggregate's events in order
    received = stored_on(topic, 5000, timeout=120)
    assert_exactly_once_in_order(received, before_outage + during_outage)


def test_a_low_outbox_id_committed_after_higher_ones_were_published_still_arrives(processes):
    topic = f"pruebas.relay-hueco-{uuid.uuid4().hex[:8]}"
    aggregate_late, aggregate_early = uuid.uuid4(), uuid.uuid4()
    late = envelopes_for([aggregate_late], range(1))
    early = envelopes_for([aggregate_early], range(10))
    inserted, release = threading.Event(), threading.Event()

    def slow_transaction():
        try:
            with transaction.atomic():
                outbox.add(topic, late)  # takes the lowest outbox id...
                inserted.set()
                release.wait(60)  # ...but commits last
        finally:
            connection.close()

    relay = processes("relay", *manage("relay"))
    slow = threading.Thread(target=slow_transaction)
    slow.start()
    assert inserted.wait(10)

    # given ten higher ids committed and published while the low one is still open
    add_committed(topic, early)
    wait_until(lambda: published(topic) == 10, 60, "the ten later events to be published")

    # when the low id commits
    release.set()
    slow.join(30)

    # then it is published too, with a sequence id above the ten, and the broker kept it
    wait_until(lambda: published(topic) == 11, 60, "the late event to be published")
    late_row = OutboxMessage.objects.get(event_id=late[0]["id"])
    early_rows = OutboxMessage.objects.filter(event_id__in=[item["id"] for item in early])
    assert late_row.id < min(row.id for row in early_rows)
    assert late_row.sequence_id > max(row.sequence_id for row in early_rows)
    received = stored_on(topic, 11, timeout=30)
    assert_exactly_once_in_order(received, early + late)
    assert received[-1]["id"] == late[0]["id"]
    assert relay.stop() == 0


def test_two_relays_at_once_publish_each_event_once_and_the_standby_takes_over(processes):
    topic = f"pruebas.relay-doble-{uuid.uuid4().hex[:8]}"
    sent = envelopes_for([uuid.uuid4() for _ in range(50)], range(40))
    add_committed(topic, sent[:1000])

    # given two relays started together: one publishes, the other stands by
    first = processes("relay-1", *manage("relay", "--batch-size", "50"))
    second = processes("relay-2", *manage("relay", "--batch-size", "50"))
    wait_until(lambda: "standing by" in first.log() + second.log(), 60, "one relay to stand by")
    active, standby = (second, first) if "standing by" in first.log() else (first, second)
    wait_until(lambda: "relay active" in active.log(), 60, "the lock holder to start publishing")
    assert "relay active" not in standby.log()
    wait_until(lambda: published(topic) >= 300, 120, "publishing to start")

    # when the active one is killed with SIGKILL and more events commit
    active.kill()
    add_committed(topic, sent[1000:])

    # then the standby takes over and every event reaches the broker once, in order
    wait_until(lambda: pending(topic) == 0, 120, "the standby to drain the outbox")
    assert "relay active" in standby.log()
    assert standby.stop() == 0
    received = stored_on(topic, len(sent), timeout=60)
    assert_exactly_once_in_order(received, sent)
