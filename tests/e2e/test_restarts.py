"""Every process of `make stack` rides out a restart of PostgreSQL, Redis or Pulsar, and a Celery
broker that forgets its queue: 300 client registrations sent without waiting; after the 100th the
service is stopped, kept down until /ready reports it, and started again (the load goes on
meanwhile); afterwards every accepted command completed exactly once and no process exited."""

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.authtoken.models import Token

from alpespartners.messaging.models import CommandLog, CommandStatus, OutboxMessage
from campanias.models import ClienteLocal as ClienteEnCampanias
from pagos.models import ClienteLocal as ClienteEnPagos
from tests.conftest import ROOT, celery_worker, manage, wait_until
from tests.e2e.test_web_metrics import free_port
from tests.factories import ClienteNaturalBody
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services

REGISTRATIONS = 300
SWEEP_TASK = "messaging: reenviar comandos pendientes"  # messaging/migrations/0008


class Load:
    """Registrations over HTTP, paced, each with its own Idempotency-Key: a 503 is retried with the
    same key after its Retry-After, as a client is told to; anything else but 202 is a failure."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.accepted = 0
        self.unavailable: list[dict] = []
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._send_all, daemon=True)

    def _send_all(self) -> None:
        for _ in range(REGISTRATIONS):
            body, key = json.dumps(ClienteNaturalBody()).encode(), str(uuid.uuid4())
            for _attempt in range(60):
                status, answer, retry_after = self._post(body, key)
                if status == 202:
                    self.accepted += 1
                    break
                if status == 503 and retry_after:
                    self.unavailable.append(answer)
                    time.sleep(min(int(retry_after), 1))  # bounded test time; the header is what counts
                    continue
                self.failures.append(f"{status}: {answer}")
                break
            time.sleep(0.02)

    def _post(self, body: bytes, key: str):
        request = urllib.request.Request(f"{self.base}/api/v1/clientes", data=body, method="POST", headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json", "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read()), None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null"), error.headers.get("Retry-After")
        except OSError as error:
            return None, repr(error), None


class ReadyProbe:
    """/ready every 50 ms: what each check said, to show the outage was reported while it lasted."""

    def __init__(self, base: str):
        self.base = base
        self.reports: list[tuple[int, dict]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.stopping.wait(0.05):
            try:
                with urllib.request.urlopen(f"{self.base}/ready", timeout=5) as answer:
                    self.reports.append((answer.status, json.loads(answer.read())))
            except urllib.error.HTTPError as error:
                self.reports.append((error.code, json.loads(error.read())))
            except OSError:
                pass

    def saw_down(self, check: str) -> bool:
        return any(status == 503 and not report["checks"][check]["ok"] for status, report in self.reports)


def services(action: str, service: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "services.sh"), action, service], check=True, timeout=300)


def restart(service: str, reported_by: str):
    """Stop the service, keep it down until /ready has said so, start it again."""
    def fault(probe: "ReadyProbe") -> None:
        services("stop", service)
        wait_until(lambda: probe.saw_down(reported_by), 60, f"/ready to report {reported_by} down")
        services("start", service)
    return fault


def flush_broker(probe: "ReadyProbe") -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # what a Redis restart without persistence does


FAULTS = {  # the fault, after how many accepted registrations
    "broker-flushed": (flush_broker, 150),
    "postgresql": (restart("postgresql", "database"), 100),
    "redis": (restart("redis", "broker"), 100),
    "pulsar": (restart("pulsar", "pulsar"), 100),
}


def sweep_every_second() -> None:
    """The migration's row, every second instead of every minute (an earlier e2e test's flush may
    have removed it)."""
    PeriodicTask.objects.update_or_create(name=SWEEP_TASK, defaults={
        "task": "messaging.reenqueue_stranded_commands",
        "interval": IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)[0]})


@pytest.mark.parametrize("fault", FAULTS)
def test_every_process_rides_out_the_fault_and_every_command_completes_once(fault, processes, user):
    inject, after = FAULTS[fault]
    sweep_every_second()
    skip_backlog(["webhooks"])  # what other tests' databases left on its topics: campaigns this one never heard of
    token = Token.objects.create(user=user).key
    port = free_port()

    def start_worker():
        return processes("worker", *celery_worker(), COMMAND_SWEEP_AFTER_SECONDS="3")

    # A flush loses only what is queued: with the worker started after it, the first 150 tasks are lost for sure.
    worker_after_fault = fault == "broker-flushed"
    stack = [
        processes("web", "-m", "gunicorn", "alpespartners.wsgi:application", "-c", "python:alpespartners.gunicorn_conf",
                  "--bind", f"127.0.0.1:{port}", "--workers", "2"),
        processes("beat", "-m", "celery", "-A", "alpespartners", "beat", "-l", "info"),
        processes("relay", *manage("relay")),
        processes("consumer", *manage("consume")),
    ]
    if not worker_after_fault:
        stack.append(start_worker())
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: ready(base), 60, "the stack to be ready", diagnose=stack[0].log)

    load, probe = Load(base, token), ReadyProbe(base)
    probe.thread.start()
    load.thread.start()
    wait_until(lambda: load.accepted >= after or load.failures, 60, f"{after} registrations accepted")
    inject(probe)
    if worker_after_fault:
        stack.append(start_worker())
    load.thread.join(timeout=300)
    connection.close()  # a PostgreSQL restart broke this test's own connection too

    def all_done() -> bool:
        return CommandLog.objects.filter(type="RegistrarCliente", status=CommandStatus.COMPLETADO).count() == REGISTRATIONS

    def statuses() -> str:
        counts = {status: CommandLog.objects.filter(type="RegistrarCliente", status=status).count()
                  for status in CommandStatus.values}
        return f"commands by status: {counts}; failures: {load.failures[:3]}"

    try:
        assert not load.failures, load.failures[:5]
        assert load.accepted == REGISTRATIONS
        wait_until(all_done, 180, "every registration completed", interval=0.5, diagnose=statuses)
        # Counted by id: the topics may still hold clients of earlier tests, whose rows are gone.
        ids = list(CommandLog.objects.filter(type="RegistrarCliente").values_list("resource_id", flat=True))
        in_pagos = ClienteEnPagos.objects.filter(id__in=ids, estado="ACTIVO")
        in_campanias = ClienteEnCampanias.objects.filter(id__in=ids)
        wait_until(lambda: in_pagos.count() == in_campanias.count() == REGISTRATIONS, 120,
                   "both consumers applied every registration", interval=0.5,
                   diagnose=lambda: f"pagos {in_pagos.count()}, campanias {in_campanias.count()}")
    finally:
        probe.stopping.set()
    # Exactly once: one command per Idempotency-Key, one event per command, each published.
    assert CommandLog.objects.filter(type="RegistrarCliente").count() == REGISTRATIONS
    registered = OutboxMessage.objects.filter(type="ClienteRegistrado")
    assert registered.count() == registered.values("aggregate_id").distinct().count() == REGISTRATIONS
    wait_until(lambda: not OutboxMessage.objects.filter(published_at__isnull=True).exists(), 60, "outbox published")
    for answer in load.unavailable:
        assert answer["error"]["code"] == "servicio_no_disponible", answer
    exited = {process.name: process.popen.returncode for process in stack if process.popen.poll() is not None}
    assert not exited, f"processes exited: {exited}"
    if worker_after_fault:
        assert "re-enqueued" in stack[-1].log(), "the sweep had nothing to do: the test proves nothing"


def ready(base: str) -> bool:
    try:
        return urllib.request.urlopen(f"{base}/ready", timeout=2).status == 200
    except OSError:
        return False


def test_beat_stops_on_sigterm_even_in_the_middle_of_a_query(processes):
    """Beat's SIGTERM handler saves the schedule from inside the signal; with psycopg 3 a signal
    landing in a query made that save wait for the interrupted query's connection forever."""
    sweep_every_second()
    beat = processes("beat", "-m", "celery", "-A", "alpespartners", "beat", "-l", "info")
    wait_until(lambda: "Sending due task" in beat.log(), 60, "beat to run", diagnose=beat.log)

    with transaction.atomic(), connection.cursor() as cursor:
        # Beat reads this table at every tick: its next read waits on the lock, inside a query.
        cursor.execute("LOCK TABLE django_celery_beat_periodictasks IN ACCESS EXCLUSIVE MODE")

        def beat_waits_on_the_lock() -> bool:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND query LIKE %s", ["%django_celery_beat_periodictasks%"])
            return cursor.fetchone()[0] > 0

        # Up to a minute: this runs right after the Pulsar restart above, whose broker may still be
        # booting on both cores (a clean-clone run timed out at 30 s while it did).
        wait_until(beat_waits_on_the_lock, 60, "beat to wait inside its query", diagnose=lambda: beat.log()[-3000:])
        beat.popen.terminate()
        time.sleep(1)
    assert beat.popen.wait(timeout=20) is not None  # raises TimeoutExpired if it hangs
