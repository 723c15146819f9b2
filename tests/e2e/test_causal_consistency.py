"""No command refused because another context is behind: on the real stack (API, worker, relay and a
consumer process per context), a command is decided on the state its sender could already read.
Each context's lag is made deterministic by stopping its consumer process (SIGSTOP) and letting it
go on (SIGCONT)."""

import signal
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from alpespartners.messaging.models import CommandLog
from pagos.models import CampaniaLocal, SocioCampaniaLocal, Transaccion
from tests.conftest import celery_worker, manage, wait_until
from tests.e2e.test_campania_saga import estado, marca
from tests.factories import CampaniaBody, ClienteNaturalBody
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services

CONTEXTS = ["cliente", "campanias", "pagos"]
WAIT = {"HTTP_PREFER": "wait=10"}
STILL_PENDING_SECONDS = 1.5  # how long a command is watched staying PENDIENTE while its context is stopped


@pytest.fixture
def stack(processes):
    """Worker, relay and one consumer process per context, so each can be stopped on its own."""
    skip_backlog(CONTEXTS)
    processes("worker", *celery_worker())
    processes("relay", *manage("relay"), RELAY_POLL_SECONDS="0.2")
    return {context: processes(f"consume-{context}", *manage("consume", context)) for context in CONTEXTS}


@contextmanager
def stopped(process):
    process.popen.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.popen.send_signal(signal.SIGCONT)


def ok(answer) -> None:
    """A command sent with `Prefer: wait` and completed in time."""
    assert answer.status_code in (200, 201), answer.content


def done(answer) -> CommandLog:
    """The command a 202 answer accepted, once it left PENDIENTE."""
    command_id = answer.json()["command_id"]
    return wait_until(lambda: (entry := CommandLog.objects.filter(id=command_id).exclude(status="PENDIENTE").first())
                      and entry, 60, f"command {command_id} to finish")


def still_pending(answer) -> None:
    assert answer.status_code == 202, answer.content
    time.sleep(STILL_PENDING_SECONDS)
    entry = CommandLog.objects.get(id=answer.json()["command_id"])
    assert entry.status == "PENDIENTE", (entry.status, entry.error, entry.result)


def socio(api) -> str:
    answer = api.post("/api/v1/clientes", ClienteNaturalBody(), format="json", **WAIT)
    ok(answer)
    return answer.json()["id"]


def conversion(api, id_campania: str, id_socio: str, **headers):
    body = {"id_externo": str(uuid.uuid4()), "id_campania": id_campania, "id_socio": id_socio, "tipo": "CLICK",
            "ocurrida_en": (timezone.now() - timedelta(seconds=5)).isoformat()}
    return api.post("/api/v1/pagos/conversiones", body, format="json", **headers)


def campania_aprobada(api) -> tuple[str, str]:
    """A brand's campaign, approved; pagos knows it approved."""
    id_marca = marca(api, "tok_ok")
    answer = api.post("/api/v1/campanias", CampaniaBody(id_cliente=id_marca), format="json", **WAIT)
    ok(answer)
    id_campania = answer.json()["id"]
    estado(id_campania, "APROBADA")
    wait_until(lambda: CampaniaLocal.objects.filter(id=id_campania, estado="APROBADA").exists(), 30,
               "pagos to hear of the approval")
    return id_marca, id_campania


def test_commands_wait_for_the_lagging_context_and_then_decide_right(api, stack):
    _, id_campania = campania_aprobada(api)
    id_socio = socio(api)
    ok(api.post(f"/api/v1/campanias/{id_campania}/socios", {"id_socio": id_socio}, format="json", **WAIT))
    ok(api.post(f"/api/v1/campanias/{id_campania}/pausar", {}, format="json", **WAIT))

    # a paused campaign resumed while pagos is behind: the conversion waits, never refused
    with stopped(stack["pagos"]):
        ok(api.post(f"/api/v1/campanias/{id_campania}/reanudar", {}, format="json", **WAIT))
        answer = conversion(api, id_campania, id_socio)
        still_pending(answer)
    registered = done(answer)
    assert registered.status == "COMPLETADO" and Transaccion.objects.filter(id=registered.resource_id).exists()

    # an approved campaign paused while pagos is behind: the conversion is never registered
    with stopped(stack["pagos"]):
        ok(api.post(f"/api/v1/campanias/{id_campania}/pausar", {}, format="json", **WAIT))
        answer = conversion(api, id_campania, id_socio)
        still_pending(answer)
    refused = done(answer)
    assert (refused.status, refused.error["code"]) == ("FALLIDO", "campania_no_aprobada")
    ok(api.post(f"/api/v1/campanias/{id_campania}/reanudar", {}, format="json", **WAIT))

    # a partner enrolled while pagos is behind: its conversion waits, then counts
    nuevo = socio(api)
    with stopped(stack["pagos"]):
        ok(api.post(f"/api/v1/campanias/{id_campania}/socios", {"id_socio": nuevo}, format="json", **WAIT))
        answer = conversion(api, id_campania, nuevo)
        still_pending(answer)
    assert done(answer).status == "COMPLETADO"

    # that partner suspended while pagos is behind: its conversion is refused once pagos knows
    with stopped(stack["pagos"]):
        ok(api.post(f"/api/v1/clientes/{nuevo}/suspender", {}, format="json", **WAIT))
        answer = conversion(api, id_campania, nuevo)
        still_pending(answer)
    refused = done(answer)
    assert (refused.status, refused.error["code"]) == ("FALLIDO", "socio_suspendido")

    # a brand registered while campanias is behind: its campaign, created at once, waits and is approved
    with stopped(stack["campanias"]):
        id_marca = marca(api, "tok_ok")
        answer = api.post("/api/v1/campanias", CampaniaBody(id_cliente=id_marca), format="json")
        still_pending(answer)
    assert done(answer).status == "COMPLETADO"
    estado(answer.json()["resource_id"], "APROBADA")


def test_a_hundred_rounds_of_changes_and_conversions_without_a_wrong_decision(api, stack):
    # given an approved campaign with one partner
    _, id_campania = campania_aprobada(api)
    id_socio = socio(api)
    ok(api.post(f"/api/v1/campanias/{id_campania}/socios", {"id_socio": id_socio}, format="json", **WAIT))
    wrong = []

    def expect(answer, status: int, what: str):
        if answer.status_code != status:
            wrong.append((what, answer.status_code, answer.json()))

    # when, a hundred times and with no sleeps, each step waits only for the previous command's answer
    for round in range(100):
        expect(api.post(f"/api/v1/campanias/{id_campania}/pausar", {}, format="json", **WAIT), 200, "pause")
        expect(conversion(api, id_campania, id_socio, **WAIT), 422, f"{round}: conversion on a paused campaign")
        expect(api.post(f"/api/v1/campanias/{id_campania}/reanudar", {}, format="json", **WAIT), 200, "resume")
        expect(conversion(api, id_campania, id_socio, **WAIT), 201, f"{round}: conversion after resuming")
        nuevo = socio(api)
        expect(api.post(f"/api/v1/campanias/{id_campania}/socios", {"id_socio": nuevo}, format="json", **WAIT), 200,
               "enrol")
        expect(conversion(api, id_campania, nuevo, **WAIT), 201, f"{round}: conversion of a partner just enrolled")
        expect(api.post(f"/api/v1/clientes/{nuevo}/suspender", {}, format="json", **WAIT), 200, "suspend")
        expect(conversion(api, id_campania, nuevo, **WAIT), 422, f"{round}: conversion of a partner just suspended")

    # then not one decision was wrong
    assert wrong == []
    assert SocioCampaniaLocal.objects.filter(id_campania=id_campania).count() == 101
