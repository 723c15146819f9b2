"""The embedded default: without PULSAR_URL, committed outbox rows go straight to the local
consumers, with the same envelopes and inbox as over Pulsar."""

import uuid

import pytest
from django.db import transaction

from alpespartners.messaging import contexts, inbox, outbox
from alpespartners.messaging.models import CommandLog, InboxMessage, OutboxMessage
from cliente.models import ClienteView
from tests.factories import ClienteNaturalBody

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_commands")]


@pytest.fixture(autouse=True)
def in_process(settings):
    settings.PULSAR_URL = ""


def command_envelope(client_id, command_id):
    body = ClienteNaturalBody()
    return outbox.envelope(
        event_id=command_id, type="RegistrarCliente", version=1, occurred_at="2026-11-28T10:00:00Z",
        aggregate_id=client_id, correlation_id=uuid.uuid4(), causation_id=None, data={"id": str(client_id), **body},
    )


def test_an_event_is_marked_published_once_delivered(api):
    api.post("/api/v1/clientes", ClienteNaturalBody(), format="json")
    row = OutboxMessage.objects.get()
    assert row.type == "ClienteRegistrado" and row.published_at is not None


def test_a_command_sent_on_comandos_cliente_runs_through_the_command_log():
    # given another context sending RegistrarCliente on comandos.cliente through its outbox
    client_id, command_id = uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        outbox.add("comandos.cliente", [command_envelope(client_id, command_id)])
    # then, once committed, cliente has logged and executed it
    command = CommandLog.objects.get(id=command_id)
    assert (command.status, command.source, command.resource_id) == ("COMPLETADO", "comandos", client_id)
    assert ClienteView.objects.filter(id=client_id).exists()
    assert InboxMessage.objects.get(event_id=command_id).consumer == "cliente"


def test_a_rolled_back_transaction_sends_nothing():
    client_id = uuid.uuid4()
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.add("comandos.cliente", [command_envelope(client_id, uuid.uuid4())])
        raise RuntimeError("the handler failed")
    assert OutboxMessage.objects.count() == 0 and CommandLog.objects.count() == 0
    assert not ClienteView.objects.filter(id=client_id).exists()


def test_the_same_envelope_handled_twice_has_one_effect():
    client_id, command_id = uuid.uuid4(), uuid.uuid4()
    envelope = command_envelope(client_id, command_id)
    handlers = contexts.subscriptions("cliente")["comandos.cliente"]
    assert inbox.handle("cliente", "comandos.cliente", envelope, handlers) is True
    assert inbox.handle("cliente", "comandos.cliente", envelope, handlers) is False
    # the command's envelope once in cliente's inbox (its ClienteRegistrado also reaches the other contexts' inboxes)
    assert CommandLog.objects.count() == 1 and InboxMessage.objects.filter(consumer="cliente").count() == 1
    assert ClienteView.objects.filter(id=client_id).count() == 1
