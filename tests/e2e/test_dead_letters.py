"""A message a consumer gives up on lands in the admin; once the cause is fixed an operator re-drives
it and it is applied — over real Pulsar, with the relay and a consumer running."""

import pytest
from django.db import connection
from django.urls import reverse

from alpespartners.messaging.models import DeadLetter, OutboxMessage
from pagos.models import ClienteLocal
from tests.api.test_admin import registrar_cliente
from tests.conftest import manage, wait_until
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services

# The "bug": pagos' copy of a client cannot be written (a constraint no row meets).
BREAK = "ALTER TABLE pagos_cliente_local ADD CONSTRAINT prueba_mensajes_muertos CHECK (id IS NULL) NOT VALID"
FIX = "ALTER TABLE pagos_cliente_local DROP CONSTRAINT IF EXISTS prueba_mensajes_muertos"


@pytest.fixture
def fixed_afterwards():
    yield
    with connection.cursor() as cursor:
        cursor.execute(FIX)  # whatever the test's outcome, later tests get the table as it was


def test_a_dead_letter_is_recorded_then_redriven_and_applied_once_fixed(processes, admin_client, eager_commands,
                                                                       fixed_afterwards):
    # given pagos' consumer failing on every client event, with two redeliveries before it gives up
    skip_backlog(["pagos"])
    with connection.cursor() as cursor:
        cursor.execute(BREAK)
    processes("relay", *manage("relay"))
    consumer = processes("consumer", *manage("consume", "pagos"),
                         CONSUMER_MAX_REDELIVERIES="2", CONSUMER_NEGATIVE_ACK_DELAY_MS="200")

    # when a client is registered
    id_cliente = registrar_cliente()
    event = OutboxMessage.objects.get(aggregate_id=id_cliente, type="ClienteRegistrado")

    # then after three deliveries its event is a dead letter in the admin, and nothing was applied
    dead = wait_until(lambda: DeadLetter.objects.filter(event_id=event.event_id).first(), 60,
                      "the dead letter to be recorded", diagnose=consumer.log)
    assert (dead.consumer, dead.topic, dead.type, dead.status) == ("pagos", "eventos.cliente", "ClienteRegistrado", "PENDIENTE")
    assert consumer.log().count("could not apply message") == 3
    assert not ClienteLocal.objects.filter(id=id_cliente).exists()
    page = admin_client.get(reverse("admin:messaging_deadletter_change", args=[dead.id])).content.decode()
    assert event.envelope["correlation_id"] in page

    # when the cause is fixed and an operator re-drives it
    with connection.cursor() as cursor:
        cursor.execute(FIX)
    admin_client.post(reverse("admin:messaging_deadletter_changelist"),
                      {"action": "redrive", "_selected_action": [str(dead.id)]})

    # then the relay publishes it again and pagos applies it, once
    wait_until(lambda: ClienteLocal.objects.filter(id=id_cliente).exists(), 60, "pagos to apply the re-driven event",
               diagnose=consumer.log)
    dead.refresh_from_db()
    assert dead.status == "REENVIADO" and dead.resolved_by is not None
    assert DeadLetter.objects.filter(event_id=event.event_id).count() == 1
