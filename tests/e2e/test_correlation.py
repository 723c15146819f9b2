"""One correlation id from a `POST /api/v1/campanias` to the consumer that approves the campaign,
in the JSON log lines of every process on the way."""

import json
import logging
import uuid

import pytest

from tests.conftest import celery_worker, manage, wait_until
from tests.e2e.test_campania_saga import estado, marca
from tests.factories import CampaniaBody
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services


def json_lines(log: str) -> list[dict]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def carrying(log: str, correlation_id: str) -> list[dict]:
    return [line for line in json_lines(log)
            if line.get("correlation_id") == correlation_id or correlation_id in line.get("correlation_ids", [])]


def test_one_request_s_correlation_id_is_in_the_logs_of_api_task_relay_and_consumer(api, processes, caplog):
    # given the whole system running
    skip_backlog(["cliente", "campanias", "pagos", "webhooks"])
    worker = processes("worker", *celery_worker())
    relay = processes("relay", *manage("relay"))
    consumer = processes("consumer", *manage("consume"))
    id_marca = marca(api, "tok_ok")
    from campanias.models import ClienteLocal
    from pagos.models import ClienteLocal as MarcaEnPagos

    wait_until(lambda: ClienteLocal.objects.filter(id=id_marca).exists() and
               MarcaEnPagos.objects.filter(id=id_marca).exclude(token_predeterminado="").exists(),
               60, "campanias and pagos to know the brand")

    # when the brand creates a campaign with its own correlation id
    correlation_id = str(uuid.uuid4())
    with caplog.at_level(logging.INFO, logger="alpespartners.requests"):
        answer = api.post("/api/v1/campanias", CampaniaBody(id_cliente=id_marca), format="json",
                          HTTP_X_CORRELATION_ID=correlation_id)
    assert answer.status_code == 202 and answer["X-Correlation-ID"] == correlation_id
    estado(answer.json()["resource_id"], "APROBADA")

    # then the API, the task that ran the command, the relay and the consumer that approved it logged it
    api_lines = [record.getMessage() for record in caplog.records
                 if record.name == "alpespartners.requests" and record.correlation_id == correlation_id]
    assert api_lines == ["POST /api/v1/campanias 202"]
    wait_until(lambda: any("campanias applied PagoConfirmado" in line["message"]
                           for line in carrying(consumer.log(), correlation_id)), 30,
               "the consumer's approval line", diagnose=consumer.log)
    executed = {line["message"].split()[1] for line in carrying(worker.log(), correlation_id)
                if line["message"].startswith("command ")}
    assert {"CrearCampania", "CobrarCampania"} <= executed, worker.log()[-3000:]
    assert carrying(relay.log(), correlation_id), relay.log()[-3000:]
    assert all(line["level"] in {"INFO", "WARNING"} for line in carrying(consumer.log(), correlation_id))


def test_a_task_enqueued_by_a_command_carries_its_correlation_id(api, processes):
    # given a worker
    worker = processes("worker", *celery_worker())
    correlation_id = str(uuid.uuid4())

    # when staff runs a payout cycle with its own correlation id
    answer = api.post("/api/v1/pagos/ciclos", {"fecha_corte": "2026-01-31"}, format="json",
                      HTTP_X_CORRELATION_ID=correlation_id)
    assert answer.status_code == 202

    # then the fan-out task the command enqueued (not a command itself) logs under the same id
    wait_until(lambda: any("payouts sent to be paid" in line["message"] for line in carrying(worker.log(), correlation_id)),
               30, "the cycle's fan-out task to log", diagnose=worker.log)
