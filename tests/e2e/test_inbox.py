"""A message delivered twice has one effect: a command resent on comandos.cliente by two
producers (so broker deduplication cannot help) registers one client."""

import uuid

import pulsar
import pytest
from django.conf import settings

from alpespartners.messaging import outbox, pulsar_consumer, pulsar_transport
from alpespartners.messaging.models import CommandLog, InboxMessage, OutboxMessage
from cliente.models import ClienteView
from tests.conftest import celery_worker, manage, wait_until
from tests.pulsar_helpers import TopicReader

pytestmark = pytest.mark.real_services


def test_a_command_delivered_twice_is_applied_once(processes):
    processes("worker", *celery_worker())
    consumer = processes("consumer", *manage("consume", "cliente"))
    client_id, command_id = uuid.uuid4(), uuid.uuid4()
    envelope = outbox.envelope(
        event_id=command_id, type="RegistrarCliente", version=1, occurred_at="2026-11-28T10:00:00Z",
        aggregate_id=client_id, correlation_id=uuid.uuid4(), causation_id=None,
        data={"id": str(client_id), "tipo": "NATURAL", "nombre": "Socia por Pulsar", "email": "pulsar@socios.co",
              "cedula": "98765432", "fecha_nacimiento": "1988-08-08"},
    )
    client = pulsar.Client(settings.PULSAR_URL, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    try:
        for _ in range(2):
            producer = client.create_producer(pulsar_transport.topic_name("comandos.cliente"))
            producer.send(pulsar_transport.encode(envelope), properties=pulsar_transport.properties(envelope),
                          partition_key=str(client_id))
            producer.close()
    finally:
        client.close()

    wait_until(lambda: ClienteView.objects.filter(id=client_id).exists(), 60, "the client to be registered")
    wait_until(lambda: InboxMessage.objects.filter(event_id=command_id).exists(), 10, "inbox row")
    # give the second delivery time to arrive and be skipped
    wait_until(lambda: "skipped duplicate RegistrarCliente" in consumer.log(), 30,
               "the consumer to skip the second delivery")
    command = CommandLog.objects.get(id=command_id)
    assert (command.status, command.source, command.resource_id) == ("COMPLETADO", "comandos", client_id)
    assert InboxMessage.objects.filter(event_id=command_id).count() == 1
    assert ClienteView.objects.filter(email="pulsar@socios.co").count() == 1
    assert OutboxMessage.objects.filter(aggregate_id=client_id, type="ClienteRegistrado").count() == 1


def test_a_poison_message_goes_to_the_dead_letter_topic_after_bounded_retries(processes):
    consumer = processes("consumer", *manage("consume", "cliente"),
                         CONSUMER_MAX_REDELIVERIES="2", CONSUMER_NEGATIVE_ACK_DELAY_MS="200")
    marker = f"veneno-{uuid.uuid4()}"
    dead_letters = TopicReader(pulsar_consumer.dead_letter_topic("cliente").rsplit("/", 1)[-1])
    client = pulsar.Client(settings.PULSAR_URL, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    try:
        # given a command on comandos.cliente that no handler can read
        producer = client.create_producer(pulsar_transport.topic_name("comandos.cliente"))
        producer.send(f'{{"id": "{marker}", "type": "RegistrarCliente", "data": '.encode(), partition_key=marker)
        producer.close()
        # then after the first delivery and two redeliveries it is parked on the dead-letter topic
        wait_until(lambda: any(marker.encode() in message.data() for message in dead_letters.read_more()), 60,
                   "the poison message on the dead-letter topic")
    finally:
        dead_letters.close()
        client.close()
    assert consumer.log().count("could not apply message") == 3
    assert CommandLog.objects.count() == 0 and InboxMessage.objects.count() == 0
