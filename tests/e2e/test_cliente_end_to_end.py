"""POST /api/v1/clientes through a real worker, relay and Pulsar."""

import uuid

import pytest

from alpespartners.messaging.models import CommandLog, OutboxMessage
from tests.conftest import celery_worker, manage, wait_until
from tests.pulsar_helpers import TopicReader

pytestmark = pytest.mark.real_services

ENVELOPE_KEYS = {"id", "type", "version", "occurred_at", "aggregate_id", "correlation_id", "causation_id", "data"}


def test_registered_client_reaches_pulsar_once(api, processes):
    # given a worker and a relay, and a test consumer on eventos.cliente
    processes("worker", *celery_worker())
    processes("relay", *manage("relay"))
    reader = TopicReader("eventos.cliente")
    correlation_id = str(uuid.uuid4())
    try:
        # when a brand registers
        answer = api.post(
            "/api/v1/clientes",
            {"tipo": "EMPRESA", "nombre": "Alpes Café S.A.S.", "email": "ventas@alpescafe.co",
             "nit": "900123456-8", "fecha_constitucion": "2015-03-01"},
            format="json", HTTP_X_CORRELATION_ID=correlation_id,
        )
        assert answer.status_code == 202, answer.content
        command_id, client_id = answer.data["command_id"], answer.data["resource_id"]
        assert answer["Location"].endswith(f"/api/v1/comandos/{command_id}")

        # then the command completes in the worker
        status = wait_until(
            lambda: (body := api.get(f"/api/v1/comandos/{command_id}").data)["status"] != "PENDIENTE" and body,
            30, "command to leave PENDIENTE",
        )
        assert status["status"] == "COMPLETADO", status
        assert status["resource_id"] == client_id

        # and the client can be read back
        client = api.get(f"/api/v1/clientes/{client_id}").data
        assert client["nombre"] == "Alpes Café S.A.S."
        assert client["estado"] == "ACTIVO"
        assert client["numero_documento"] == "900123456-8"

        # and exactly one ClienteRegistrado for it reached eventos.cliente
        envelopes = reader.read_until(
            lambda seen: any(item["aggregate_id"] == client_id for item in seen), timeout=30, quiet_seconds=2
        )
        ours = [item for item in envelopes if item["aggregate_id"] == client_id]
        assert len(ours) == 1, ours
        (event,) = ours
        assert set(event) == ENVELOPE_KEYS
        assert event["type"] == "ClienteRegistrado" and event["version"] == 1
        assert event["correlation_id"] == correlation_id
        assert event["causation_id"] == command_id
        assert event["data"]["tipo_documento"] == "nit" and event["data"]["email"] == "ventas@alpescafe.co"
        (message,) = [m for m in reader.messages if m.partition_key() == client_id]
        # position: the outbox id, which consumers use to recognise an older redelivery (docs/ARCHITECTURE.md)
        position = str(OutboxMessage.objects.get(event_id=event["id"]).id)
        assert message.properties() == {"event_id": event["id"], "type": "ClienteRegistrado", "version": "1",
                                        "position": position}
        wait_until(lambda: not OutboxMessage.objects.filter(published_at__isnull=True).exists(), 10, "outbox marked")
        assert CommandLog.objects.get(id=command_id).source == "api"
    finally:
        reader.close()
