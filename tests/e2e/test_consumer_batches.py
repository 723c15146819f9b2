"""Consumers that keep up: batches, a thread per context, exactly once through crashes, a poison
message isolated in its batch. Events are written to the outbox as their producing contexts write
them, published by the real relay and applied by real `consume` processes."""

import re
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count

from alpespartners.messaging import outbox
from alpespartners.messaging.models import DeadLetter, InboxMessage
from campanias.models import PresupuestoConsumido
from pagos.models import CampaniaLocal
from tests import events
from tests.conftest import manage, wait_until
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services

CONTEXTS = ["cliente", "campanias", "pagos", "webhooks"]  # `consume` with no argument runs them all
STATISTICS = re.compile(r"(\w+) consumer: (\d+) messages in (\d+) batches, (\d+) idle receive timeouts")


def comision_registrada(id_campania, valor: str) -> dict:
    return events.envelope("ComisionRegistrada", uuid.uuid4(), {
        "id_campania": str(id_campania), "id_socio": str(uuid.uuid4()), "id_externo": str(uuid.uuid4()),
        "tipo": "CLICK", "monto_conversion": None, "comision": {"valor": valor, "moneda": "COP"},
        "ocurrida_en": "2026-11-30T10:00:00Z", "pagable_desde": "2026-11-30T10:00:00Z",
    })


def commissions(campaigns: list[uuid.UUID], count: int) -> tuple[list[dict], dict]:
    """`count` commissions spread over `campaigns`, and what each campaign should have consumed."""
    envelopes, expected = [], {id_campania: Decimal(0) for id_campania in campaigns}
    for index in range(count):
        id_campania = campaigns[index % len(campaigns)]
        valor = Decimal(index % 97 + 1) / 100
        envelopes.append(comision_registrada(id_campania, str(valor)))
        expected[id_campania] += valor
    return envelopes, expected


def campania_creada(id_campania) -> dict:
    return events.envelope("CampaniaCreada", id_campania, {
        "id_cliente": str(uuid.uuid4()), "nombre": "Campaña", "presupuesto": {"valor": "1000000", "moneda": "COP"},
        "fecha_inicio": "2026-11-01", "fecha_fin": "2027-11-01", "comisiones": {}, "dias_retencion": 0,
    })


def paused_and_resumed(campaigns: list[uuid.UUID], times: int) -> tuple[list[dict], dict]:
    """Each campaign paused and resumed alternately `times` times, and the state its last change leaves."""
    state_changes, final_state = [], {}
    for step in range(times):
        for index, id_campania in enumerate(campaigns):
            change = "CampaniaPausada" if (step + index) % 2 == 0 else "CampaniaReanudada"
            state_changes.append(events.envelope(change, id_campania, {"motivo": f"paso {step}"}))
            final_state[id_campania] = "PAUSADA" if change == "CampaniaPausada" else "APROBADA"
    return state_changes, final_state


def publish(topic: str, envelopes: list[dict], chunk: int = 500) -> None:
    for start in range(0, len(envelopes), chunk):
        with transaction.atomic():
            outbox.add(topic, envelopes[start:start + chunk])


def consumed() -> dict:
    return {row.id_campania: row.consumido for row in PresupuestoConsumido.objects.all()}


def statistics(log: str) -> dict[str, tuple[int, int, int]]:
    return {context: (int(messages), int(batches), int(timeouts))
            for context, messages, batches, timeouts in STATISTICS.findall(log)}


def test_one_process_for_every_context_applies_a_burst_in_batches_without_waiting_on_the_idle_one(processes):
    # given one consumer process for all three contexts; pagos consumes nothing of eventos.pagos (idle)
    skip_backlog(CONTEXTS)
    processes("relay", *manage("relay"), RELAY_POLL_SECONDS="0.2")
    consumer = processes("consume", *manage("consume"))
    campaigns = [uuid.uuid4() for _ in range(10)]
    envelopes, expected = commissions(campaigns, 5_000)

    # when 5,000 commissions are committed in a burst
    publish("eventos.pagos", envelopes)

    # then campanias applies every one (cliente ignores them), in batches, paying no receive timeout per message
    wait_until(lambda: consumed() == expected, 120, "campanias to apply the 5,000 commissions",
               diagnose=lambda: consumer.log()[-2000:])
    assert consumer.stop() == 0
    messages, batches, idle_timeouts = statistics(consumer.log())["campanias"]
    assert messages == 5_000
    assert batches <= messages / 5, (messages, batches)
    assert idle_timeouts < messages / 20, idle_timeouts
    assert InboxMessage.objects.filter(consumer="campanias").count() == 5_000
    assert not InboxMessage.objects.filter(consumer="cliente").exists()  # a type it does not consume leaves no row


def test_consumers_killed_mid_batch_apply_everything_once_in_order_and_dead_letter_only_the_poison(processes):
    # given the relay, and consumers that give up on a message after two redeliveries
    skip_backlog(CONTEXTS)
    processes("relay", *manage("relay"), RELAY_POLL_SECONDS="0.2")
    quick_dead_letters = {"CONSUMER_MAX_REDELIVERIES": "2", "CONSUMER_NEGATIVE_ACK_DELAY_MS": "200"}
    consumer = processes("consume", *manage("consume"), **quick_dead_letters)

    # campaigns pagos knows, each paused and resumed many times (its last event decides its state)
    campaigns = [uuid.uuid4() for _ in range(20)]
    publish("eventos.campanias", [campania_creada(id_campania) for id_campania in campaigns])
    wait_until(lambda: CampaniaLocal.objects.filter(id__in=campaigns).count() == 20, 60, "pagos to know the campaigns")
    state_changes, final_state = paused_and_resumed(campaigns, times=25)
    envelopes, expected = commissions(campaigns, 4_499)
    poison = comision_registrada(campaigns[0], "no-es-un-numero")
    envelopes.insert(2_000, poison)

    # when 5,000 events are committed while the consumer is killed three times mid-batch
    publish("eventos.campanias", state_changes)
    publish("eventos.pagos", envelopes)
    for applied_at_least in (1_000, 2_500, 4_000):
        wait_until(lambda: InboxMessage.objects.filter(consumer="campanias").count() >= applied_at_least, 120,
                   f"campanias to apply {applied_at_least} events", interval=0.02)
        consumer.kill()
        consumer = processes("consume", *manage("consume"), **quick_dead_letters)

    # then every effect happened exactly once, and each campaign's last change is its state
    wait_until(lambda: consumed() == expected, 120, "every commission applied once",
               diagnose=lambda: f"{consumed()} != {expected}\n{consumer.log()[-3000:]}")
    # (pagos applies the state changes on its own subscription: it may still be behind campanias)
    def states() -> dict:
        return dict(CampaniaLocal.objects.filter(id__in=campaigns).values_list("id", "estado"))

    wait_until(lambda: states() == final_state, 60, "pagos to apply every state change",
               diagnose=lambda: f"{states()} != {final_state}\n{consumer.log()[-3000:]}")
    assert states() == final_state
    duplicated = InboxMessage.objects.values("consumer", "event_id").annotate(times=Count("id")).filter(times__gt=1)
    assert not duplicated.exists()
    # and only the poison message was dead-lettered (recorded from the dead-letter topic for the admin)
    wait_until(lambda: DeadLetter.objects.filter(event_id=poison["id"]).exists(), 60, "the poison dead-lettered",
               diagnose=lambda: consumer.log()[-3000:])
    assert list(DeadLetter.objects.values_list("event_id", flat=True)) == [uuid.UUID(poison["id"])]
    assert InboxMessage.objects.filter(consumer="campanias", type="ComisionRegistrada").count() == 4_499


def test_two_processes_per_context_share_the_work_and_keep_each_aggregate_in_order(processes):
    # given two consumer processes for every context on the same Key_Shared subscriptions
    skip_backlog(CONTEXTS)
    processes("relay", *manage("relay"), RELAY_POLL_SECONDS="0.2")
    consumers = [processes(f"consume-{n}", *manage("consume")) for n in range(2)]
    campaigns = [uuid.uuid4() for _ in range(20)]
    publish("eventos.campanias", [campania_creada(id_campania) for id_campania in campaigns])

    # when each campaign is paused and resumed 25 times, and 3,000 commissions arrive
    state_changes, final_state = paused_and_resumed(campaigns, times=25)
    envelopes, expected = commissions(campaigns, 3_000)
    publish("eventos.campanias", state_changes)
    publish("eventos.pagos", envelopes)

    # then every commission counts once, every campaign ends in its last state, and both processes worked
    wait_until(lambda: consumed() == expected, 120, "every commission applied once")
    wait_until(lambda: dict(CampaniaLocal.objects.filter(id__in=campaigns).values_list("id", "estado")) == final_state,
               60, "every campaign in its last state")
    for consumer in consumers:
        assert consumer.stop() == 0
    applied_by = [statistics(consumer.log())["campanias"][0] for consumer in consumers]
    assert sum(applied_by) >= 3_000 and min(applied_by) > 0, applied_by
