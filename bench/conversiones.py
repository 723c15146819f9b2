"""Benchmark of conversions → commissions end to end, for docs/PERFORMANCE.md.

API → Celery worker → transactions committed → ComisionRegistrada published to Pulsar, with
real processes started by this script against a scratch database of its own: the web server
(gunicorn, as in the Procfile), one Celery worker (concurrency 2, as tests/conftest.celery_worker)
and the relay (`manage.py relay`). In one run it measures:
1. bulk: M batches of 1,000 CLICK conversions POSTed to /api/v1/pagos/conversiones/lote by a
   few concurrent clients (no `Prefer: wait`), timed from the first request until every
   ComisionRegistrada of the phase has `published_at` (the broker acknowledged it); also until
   every batch's transaction committed, and until the API accepted the last batch;
2. single: for a fixed time, K clients POST /api/v1/pagos/conversiones one after another
   (202, no wait): requests/s accepted by the API, latency, and the rate at which the worker
   completes them; then the backlog is drained and verified.
Both phases verify their counts: transactions, published events, commands COMPLETADO.

Needs PostgreSQL (a role that may create databases), Redis and Pulsar:

    DATABASE_URL=... CELERY_BROKER_URL=... PULSAR_URL=... \\
        .venv/bin/python bench/conversiones.py [--batches 20] [--bulk-clients 4] \\
        [--single-seconds 20] [--single-clients 4] [--partners 100]

Isolation: the scratch database `alpespartners_bench_conversiones` is created, migrated and
dropped at the end (the database of DATABASE_URL is only used to create and drop it); the
Celery broker is a Redis database of its own (--redis-db, emptied at the end), so no other
worker takes these tasks; the relay publishes into a fresh Pulsar namespace
(public/bench-conversiones-<run>, deduplication on), deleted at the end with its topics.
Every child process runs in its own process group, stopped at the end even on error.
Traffic goes to 127.0.0.1 only. Progress goes to stderr; stdout gets only a Markdown summary.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

import celery  # noqa: E402
import gunicorn  # noqa: E402
import pulsar  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.access.models import Rol, UsuarioCliente  # noqa: E402
from alpespartners.messaging.models import CommandLog, OutboxMessage  # noqa: E402
from pagos.models import Transaccion  # noqa: E402
from bench.common import (BenchError, create_scratch_database, drop_scratch_database, load_average, percentile,  # noqa: E402
                          server_settings, verdict)
from tests import events  # noqa: E402

BENCH_DATABASE = "alpespartners_bench_conversiones"  # not event_store.py's, so both can run
REDIS_MARKER = "alpespartners:bench-conversiones"  # set in --redis-db while a run owns it
RELAY_PRODUCER_NAME = "alpespartners-relay-bench-conversiones"
HOST = "127.0.0.1"
TARGET_BULK_RATE = 5_000  # conversions/s end to end, the target
POLL_SECONDS = 0.25
STALL_SECONDS = 60  # give up when nothing progresses for this long
START_SECONDS = 90  # a child process must be ready within this
NOTABLE_LOG_LINE = re.compile(r"\b(ERROR|CRITICAL|FATAL|Traceback)\b")
COMISIONES = {
    "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}, "CONVERSION": {"tipo": "PORCENTAJE", "valor": "3"},
    "CLICK": {"tipo": "FIJA", "valor": "0.10"}, "IMPRESION": {"tipo": "FIJA", "valor": "0.01"},
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- set-up ---------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20, help="batches of the bulk phase")
    parser.add_argument("--batch-size", type=int, default=1_000, help="conversions per batch (at most 1,000)")
    parser.add_argument("--bulk-clients", type=int, default=4, help="concurrent client threads of the bulk phase")
    parser.add_argument("--single-seconds", type=float, default=20, help="duration of the single phase")
    parser.add_argument("--single-clients", type=int, default=4, help="concurrent client threads of the single phase")
    parser.add_argument("--partners", type=int, default=100, help="partners enrolled in each campaign")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (the Procfile's 2)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--redis-db", type=int, default=14, help="Redis database used as this run's Celery broker")
    parser.add_argument("--max-seconds", type=float, default=300,
                        help="time limit of each phase, its drain included")
    args = parser.parse_args()
    if not 1 <= args.batch_size <= 1_000 or args.batches < 1 or args.bulk_clients < 1 or args.single_clients < 1:
        parser.error("need 1 ≤ --batch-size ≤ 1000, --batches ≥ 1, --bulk-clients ≥ 1, --single-clients ≥ 1")
    if args.single_seconds < 1 or args.partners < 1 or args.max_seconds < 10:
        parser.error("need --single-seconds ≥ 1, --partners ≥ 1, --max-seconds ≥ 10")
    return args


def refuse_unless_ready() -> None:
    problem = None
    if not settings.USING_POSTGRESQL:
        problem = "DATABASE_URL must point to PostgreSQL."
    elif not settings.CELERY_BROKER_URL.startswith("redis://"):
        problem = "CELERY_BROKER_URL must point to Redis: the benchmark runs a real Celery worker."
    elif not settings.PULSAR_URL:
        problem = "PULSAR_URL is not set: without Pulsar there is no relay, and nothing is published."
    else:
        for url in (settings.CELERY_BROKER_URL, settings.PULSAR_URL, settings.PULSAR_ADMIN_URL):
            if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
                problem = f"{url} is not on this machine; the benchmark only talks to 127.0.0.1."
    if problem:
        print(f"bench/conversiones.py: {problem}", file=sys.stderr)
        sys.exit(2)


def scratch_database_url() -> str:
    database = connection.settings_dict
    return (f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or HOST}:"
            f"{database['PORT'] or 5432}/{BENCH_DATABASE}")


class BrokerDatabase:
    """A Redis database of its own for this run's Celery queue: no other worker takes its tasks."""

    def __init__(self, number: int):
        parsed = urlparse(settings.CELERY_BROKER_URL)
        self.url = f"redis://{parsed.netloc}/{number}"
        self.client = redis.Redis.from_url(self.url)
        self.owned = False

    def claim(self) -> None:
        keys = self.client.dbsize()
        if keys and not self.client.exists(REDIS_MARKER):
            raise BenchError(f"{self.url} holds {keys} keys of someone else; choose another --redis-db")
        if keys:
            print(f"emptying {self.url}, left by an earlier run", file=sys.stderr)
            self.client.flushdb()
        self.client.set(REDIS_MARKER, "1")
        self.owned = True

    def release(self) -> None:
        if self.owned:
            self.client.flushdb()
        self.client.close()

    def version(self) -> str:
        return self.client.info("server")["redis_version"]


class PulsarNamespace:
    """A fresh namespace (deduplication on, as the broker's default) for the relay's topics, so
    nobody else's consumer sees the benchmark's events; deleted with its topics at the end."""

    def __init__(self, run_id: str):
        self.name = f"public/bench-conversiones-{run_id}"
        self.admin = f"{settings.PULSAR_ADMIN_URL}/admin/v2"
        self.created = False

    def _request(self, method: str, path: str, body: bytes | None = None):
        request = urllib.request.Request(f"{self.admin}{path}", data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def create(self) -> None:
        self._request("PUT", f"/namespaces/{self.name}")
        self.created = True
        self._request("POST", f"/namespaces/{self.name}/deduplication", b"true")

    def delete(self) -> None:
        if not self.created:
            return
        try:
            topics = json.loads(self._request("GET", f"/namespaces/{self.name}/topics") or b"[]")
            for topic in topics:
                self._request("DELETE", f"/{topic.replace('://', '/', 1)}?force=true")
            self._request("DELETE", f"/namespaces/{self.name}")
            print(f"deleted the Pulsar namespace {self.name} ({len(topics)} topics)", file=sys.stderr)
        except (OSError, ValueError) as error:
            print(f"could not delete the Pulsar namespace {self.name}: {error}", file=sys.stderr)


# --- givens: what campanias and cliente publish, as pagos receives it ---------------


@dataclass
class Given:
    token: str
    campaigns: dict[str, uuid.UUID]  # "warm-up", "bulk", "single"
    partners: list[uuid.UUID]
    ocurrida_en: str  # every conversion's time: a minute before the set-up


def set_up(partners: int) -> Given:
    # The brand's integration reports conversions: a marca user of the brand of every campaign.
    id_marca = uuid.uuid4()
    user = get_user_model().objects.create_user(username="bench", password=uuid.uuid4().hex)
    UsuarioCliente.objects.create(user=user, id_cliente=id_marca, rol=Rol.MARCA)
    token = Token.objects.create(user=user).key
    hoy = timezone.localdate()
    campaigns = {name: uuid.uuid4() for name in ("warm-up", "bulk", "single")}
    ids_socios = [uuid.uuid4() for _ in range(partners)]
    total = len(campaigns) * (2 + partners) + partners
    with tqdm(total=total, desc="set-up: events delivered to pagos", unit="ev", file=sys.stderr) as bar:
        for id_campania in campaigns.values():
            events.deliver("pagos", "eventos.campanias", events.envelope("CampaniaCreada", id_campania, {
                "id_cliente": str(id_marca), "nombre": "Campaña de prueba",
                "presupuesto": {"valor": "100000000.00", "moneda": "COP"},
                "fecha_inicio": str(hoy - timedelta(days=10)), "fecha_fin": str(hoy + timedelta(days=30)),
                "comisiones": COMISIONES, "dias_retencion": 30,
            }))
            events.deliver("pagos", "eventos.campanias",
                           events.envelope("CampaniaAprobada", id_campania, {"id_pago": str(uuid.uuid4())}))
            bar.update(2)
        for id_socio in ids_socios:
            events.deliver("pagos", "eventos.cliente", events.cliente_registrado(id_socio, tipo="NATURAL", nombre="Socia"))
            bar.update(1)
            for id_campania in campaigns.values():
                events.deliver("pagos", "eventos.campanias",
                               events.envelope("SocioInscrito", id_campania, {"id_socio": str(id_socio)}))
                bar.update(1)
    ocurrida_en = (timezone.now() - timedelta(minutes=1)).isoformat()
    return Given(token, campaigns, ids_socios, ocurrida_en)


def conversion(given: Given, campaign: str, id_externo: str, n: int) -> dict:
    return {"id_externo": id_externo, "id_campania": str(given.campaigns[campaign]),
            "id_socio": str(given.partners[n % len(given.partners)]), "tipo": "CLICK",
            "ocurrida_en": given.ocurrida_en}


# --- child processes ------------------------------------------------------------


class Child:
    """A project process in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Child":
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchError(f"{self.name} exited with code {self.popen.returncode}; see {self.log_path}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the leader (warm shutdown), then SIGKILL to whatever is left of its group."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"{self.name} ignored SIGTERM for {timeout:.0f} s; killing its process group", file=sys.stderr)
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # its own group (start_new_session): leftovers only
        except ProcessLookupError:
            pass
        self.popen.wait()

    def notable_lines(self) -> list[str]:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [line for line in text.splitlines() if NOTABLE_LOG_LINE.search(line)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    web: Child
    worker: Child
    relay: Child
    port: int
    token: str = ""

    def new_client(self) -> "Client":
        return Client(self.port, self.token)

    @property
    def children(self) -> list[Child]:
        return [self.web, self.worker, self.relay]

    def check_alive(self) -> None:
        for child in self.children:
            child.check_alive()


def start_stack(args, env: dict, log_dir: Path, started: list[Child]) -> Stack:
    port = free_port()
    python = sys.executable
    web = Child("web", [python, "-m", "gunicorn", "alpespartners.wsgi:application", "--bind", f"{HOST}:{port}",
                        "--workers", str(args.web_workers)], env, log_dir)
    worker = Child("worker", [python, "-m", "celery", "-A", "alpespartners", "worker", "-l", "info",
                              "-c", str(args.worker_concurrency), "--without-mingle", "--without-gossip"], env, log_dir)
    relay = Child("relay", [python, "manage.py", "relay"], env, log_dir)
    for child in (web, worker, relay):
        started.append(child.start())
    stack = Stack(web, worker, relay, port)
    deadline = time.monotonic() + START_SECONDS
    while True:
        stack.check_alive()
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=5) as response:
                if response.status == 200:
                    break
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"the web server did not answer /health within {START_SECONDS} s")
        time.sleep(0.25)
    return stack


# --- HTTP client ----------------------------------------------------------------


@dataclass
class Answer:
    status: int
    sent: float  # time.time() when the request started
    received: float  # time.time() when the answer was read
    body: bytes = b""

    @property
    def ms(self) -> float:
        return (self.received - self.sent) * 1000


class Client:
    """One thread's HTTP/1.1 connection to the web server (reopened when the server closes it)."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}

    def post(self, path: str, body: bytes, headers: dict | None = None) -> Answer:
        sent = time.time()
        try:
            self.connection.request("POST", path, body, {**self.headers, **(headers or {})})
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next request opens a new one
            raise
        return Answer(response.status, sent, time.time(), content)

    def close(self) -> None:
        self.connection.close()


def warm_up(stack: Stack, given: Given, web_workers: int) -> None:
    """Every gunicorn worker and Celery process loaded and connected, the relay's producers up:
    a few conversions and one small batch through the whole path, waited for, not timed."""
    client = stack.new_client()
    try:
        for n in range(max(4, 2 * web_workers)):
            answer = client.post("/api/v1/pagos/conversiones",
                                 json.dumps(conversion(given, "warm-up", f"warm-{n}", n)).encode(),
                                 {"Prefer": "wait=10"})
            if answer.status != 201:
                raise BenchError(f"warm-up conversion answered {answer.status}: {answer.body[:500]!r}")
        lote = [conversion(given, "warm-up", f"warm-lote-{n}", n) for n in range(10)]
        answer = client.post("/api/v1/pagos/conversiones/lote", json.dumps({"conversiones": lote}).encode(),
                             {"Prefer": "wait=10"})
        if answer.status != 200:
            raise BenchError(f"warm-up batch answered {answer.status}: {answer.body[:500]!r}")
    finally:
        client.close()
    deadline = time.monotonic() + START_SECONDS
    while OutboxMessage.objects.filter(published_at__isnull=True).exists():
        stack.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"the relay did not publish the warm-up events within {START_SECONDS} s")
        time.sleep(POLL_SECONDS)


# --- CPU accounting ---------------------------------------------------------------


def cpu_by_process() -> dict[int, tuple[str, int, float]]:
    """pid → (comm, process group, user+system CPU seconds) for every process visible in /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(entry)] = (comm, int(fields[2]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    with open("/proc/stat") as file:
        values = [int(value) for value in file.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


class CpuMeter:
    """CPU seconds used during a phase by each part of the system (a process that exits during the
    phase loses what it used; the benchmark's children and the services live throughout)."""

    def __init__(self, stack: Stack):
        self.groups = {"web (gunicorn)": stack.web.pid, "worker (celery)": stack.worker.pid,
                       "relay": stack.relay.pid}
        self.before = cpu_by_process()
        self.machine_before = machine_busy_seconds()
        self.started = time.monotonic()

    def category(self, pid: int, comm: str, group: int) -> str | None:
        for name, leader in self.groups.items():
            if group == leader:
                return name
        if pid == os.getpid():
            return "bench client + poller"
        if comm.startswith("postgres"):
            return "PostgreSQL (all sessions)"
        if comm == "java":
            return "Pulsar (java)"
        if comm.startswith("redis-server"):
            return "Redis"
        return None

    def stop(self) -> dict:
        after = cpu_by_process()
        busy_after, total_after = machine_busy_seconds()
        elapsed = time.monotonic() - self.started
        used: dict[str, float] = {}
        for pid, (comm, group, seconds) in after.items():
            name = self.category(pid, comm, group)
            if name is None:
                continue
            previous = self.before.get(pid)
            start = previous[2] if previous and previous[0] == comm else 0.0
            used[name] = used.get(name, 0.0) + max(seconds - start, 0.0)
        busy = busy_after - self.machine_before[0]
        cores = (total_after - self.machine_before[1]) / elapsed if elapsed else 0
        return {"elapsed": elapsed, "used": used, "machine_busy": busy, "cores": cores}


# --- 1. bulk --------------------------------------------------------------------


@dataclass
class BulkResult:
    batches: int
    batch_size: int
    clients: int
    started: float  # time.time() of the first request
    accepted: float  # time.time() of the last answer
    committed: float  # last batch's command completed_at (inside its transaction)
    published: float  # last ComisionRegistrada's published_at (after the broker's acknowledgement)
    answers: list[Answer]
    transacciones: int
    published_events: int
    completados: int
    registradas: int
    completion_gaps_ms: list[float]  # between consecutive batch commits
    relay_lag_ms: list[float]  # outbox insert → published, per event
    cpu: dict

    @property
    def total(self) -> int:
        return self.batches * self.batch_size


def run_clients(count: int, new_client, work, label: str):
    """Run `work(client)` in `count` threads, each with its own connection; returns the answers and
    errors they collect (filled in as they go) and the threads."""
    answers: list[Answer] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target(client: Client):
        try:
            for answer in work(client):
                with lock:
                    answers.append(answer)
        except BaseException as error:  # reported by the caller
            with lock:
                errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=target, args=(client,), name=f"{label}-{n}", daemon=True)
               for n, client in enumerate(new_client() for _ in range(count))]
    for thread in threads:
        thread.start()
    return answers, errors, threads


def measure_bulk(args, stack: Stack, given: Given) -> BulkResult:
    baseline = OutboxMessage.objects.aggregate(Max("id"))["id__max"] or 0
    bodies = [
        json.dumps({"conversiones": [conversion(given, "bulk", f"bulk-{b:04d}-{n:04d}", b * args.batch_size + n)
                                     for n in range(args.batch_size)]}).encode()
        for b in range(args.batches)
    ]
    total = args.batches * args.batch_size
    next_batch = iter(range(args.batches))
    take = threading.Lock()

    def work(client: Client):
        while True:
            with take:
                b = next(next_batch, None)
            if b is None:
                return
            yield client.post("/api/v1/pagos/conversiones/lote", bodies[b])

    id_campania = given.campaigns["bulk"]
    transacciones = Transaccion.objects.filter(id_campania=id_campania)
    published = OutboxMessage.objects.filter(id__gt=baseline, type="ComisionRegistrada", published_at__isnull=False)
    meter = CpuMeter(stack)
    started = time.time()
    answers, errors, threads = run_clients(args.bulk_clients, stack.new_client, work, "bulk")
    bars = {
        "accepted": tqdm(total=total, desc="bulk: accepted by the API", unit="conv", file=sys.stderr, position=0),
        "committed": tqdm(total=total, desc="bulk: committed", unit="conv", file=sys.stderr, position=1),
        "published": tqdm(total=total, desc="bulk: published", unit="conv", file=sys.stderr, position=2),
    }
    try:
        wait_for(stack, started, args.max_seconds, threads, errors, bars, lambda: {
            "accepted": sum(args.batch_size for a in answers if a.status == 202),
            "committed": transacciones.count(),
            "published": published.count(),
        }, expected=lambda: sum(args.batch_size for a in answers if a.status == 202))
    finally:
        for bar in bars.values():
            bar.close()
    cpu = meter.stop()
    refused = [a for a in answers if a.status != 202]
    if refused:
        raise BenchError(f"the API refused {len(refused)} batches, e.g. {refused[0].status}: {refused[0].body[:500]!r}")
    rows = list(CommandLog.objects.filter(id__in=command_ids(answers)).values_list("status", "completed_at", "result"))
    if len(rows) != args.batches:
        raise BenchError(f"{len(rows)} batch commands in the command log, {args.batches} sent")
    completed_at = sorted(completed for status, completed, _ in rows if completed)
    lags = [(p - c).total_seconds() * 1000
            for c, p in OutboxMessage.objects.filter(id__gt=baseline, type="ComisionRegistrada")
            .values_list("created_at", "published_at") if p]
    return BulkResult(
        batches=args.batches, batch_size=args.batch_size, clients=args.bulk_clients, started=started,
        accepted=max(a.received for a in answers), committed=completed_at[-1].timestamp(),
        published=published.aggregate(Max("published_at"))["published_at__max"].timestamp(),
        answers=answers, transacciones=transacciones.count(), published_events=published.count(),
        completados=sum(1 for status, _, _ in rows if status == "COMPLETADO"),
        registradas=sum((result or {}).get("registradas", 0) for _, _, result in rows),
        completion_gaps_ms=[(b - a).total_seconds() * 1000 for a, b in zip(completed_at, completed_at[1:])],
        relay_lag_ms=sorted(lags), cpu=cpu,
    )


def command_ids(answers: list[Answer]) -> list[str]:
    return [json.loads(answer.body)["command_id"] for answer in answers if answer.status == 202]


def wait_for(stack: Stack, started: float, max_seconds: float, threads, errors, bars: dict, counts, expected) -> None:
    """Poll the database until the clients are done and every count reaches what they sent."""
    last_progress, last_values = time.monotonic(), None
    while True:
        if errors:
            raise BenchError(f"a client failed: {errors[0]!r}")
        stack.check_alive()
        values = counts()
        for name, bar in bars.items():
            bar.update(values[name] - bar.n)
        clients_done = not any(thread.is_alive() for thread in threads)
        if clients_done and all(value >= expected() for value in values.values()):
            return
        now = time.monotonic()
        if values != last_values:
            last_progress, last_values = now, values
        elif now - last_progress > STALL_SECONDS:
            raise BenchError(f"nothing progressed for {STALL_SECONDS} s: {values}")
        if time.time() - started > max_seconds:
            raise BenchError(f"the phase took longer than --max-seconds {max_seconds:g}: {values}")
        time.sleep(POLL_SECONDS)


# --- 2. single ------------------------------------------------------------------


@dataclass
class SingleResult:
    seconds: float
    clients: int
    started: float
    window_end: float  # time.time() when the clients stopped sending
    last_answer: float
    answers: list[Answer]
    completed_in_window: int
    completed_total: int
    last_completed: float
    last_published: float
    transacciones: int
    published_events: int
    cpu: dict  # during the window only

    @property
    def accepted(self) -> int:
        return sum(1 for a in self.answers if a.status == 202)


def measure_single(args, stack: Stack, given: Given) -> SingleResult:
    baseline = OutboxMessage.objects.aggregate(Max("id"))["id__max"] or 0
    counter = iter(range(10**9))
    take = threading.Lock()
    deadline_box = {}

    def work(client: Client):
        while time.time() < deadline_box["end"]:
            with take:
                n = next(counter)
            body = json.dumps(conversion(given, "single", f"single-{n:07d}", n)).encode()
            yield client.post("/api/v1/pagos/conversiones", body)

    transacciones = Transaccion.objects.filter(id_campania=given.campaigns["single"])
    published = OutboxMessage.objects.filter(id__gt=baseline, type="ComisionRegistrada", published_at__isnull=False)
    meter = CpuMeter(stack)
    started = time.time()
    deadline_box["end"] = started + args.single_seconds
    answers, errors, threads = run_clients(args.single_clients, stack.new_client, work, "single")
    with tqdm(total=int(args.single_seconds), desc="single: sending", unit="s", file=sys.stderr) as bar:
        while time.time() < deadline_box["end"]:
            if errors:
                raise BenchError(f"a client failed: {errors[0]!r}")
            stack.check_alive()
            bar.set_postfix(accepted=len(answers))
            bar.update(min(int(time.time() - started), bar.total) - bar.n)
            time.sleep(POLL_SECONDS)
        bar.update(bar.total - bar.n)
    for thread in threads:
        thread.join(timeout=60)
    cpu = meter.stop()  # the sending window: what the API and the worker used side by side
    window_end = deadline_box["end"]
    accepted = sum(1 for a in answers if a.status == 202)
    commands = CommandLog.objects.filter(id__in=command_ids(answers))
    bars = {
        "committed": tqdm(total=accepted, desc="single: drain, committed", unit="conv", file=sys.stderr, position=0),
        "published": tqdm(total=accepted, desc="single: drain, published", unit="conv", file=sys.stderr, position=1),
    }
    try:
        wait_for(stack, started, args.max_seconds, threads, errors, bars, lambda: {
            "committed": commands.filter(status="COMPLETADO").count(),
            "published": published.count(),
        }, expected=lambda: accepted)
    finally:
        for bar in bars.values():
            bar.close()
    refused = [a for a in answers if a.status != 202]
    if refused:
        raise BenchError(f"the API refused {len(refused)} conversions, e.g. {refused[0].status}: "
                         f"{refused[0].body[:500]!r}")
    window = (datetime.fromtimestamp(started).astimezone(), datetime.fromtimestamp(window_end).astimezone())
    return SingleResult(
        seconds=args.single_seconds, clients=args.single_clients, started=started, window_end=window_end,
        last_answer=max(a.received for a in answers), answers=answers,
        completed_in_window=commands.filter(status="COMPLETADO", completed_at__range=window).count(),
        completed_total=commands.filter(status="COMPLETADO").count(),
        last_completed=commands.aggregate(Max("completed_at"))["completed_at__max"].timestamp(),
        last_published=published.aggregate(Max("published_at"))["published_at__max"].timestamp(),
        transacciones=transacciones.count(), published_events=published.count(), cpu=cpu,
    )


# --- report ---------------------------------------------------------------------


def broker_version() -> str:
    try:
        with urllib.request.urlopen(f"{settings.PULSAR_ADMIN_URL}/admin/v2/brokers/version", timeout=5) as response:
            return response.read().decode().strip()
    except OSError:
        return "unknown"


def command_line(args) -> str:
    return (f"python bench/conversiones.py --batches {args.batches} --batch-size {args.batch_size} "
            f"--bulk-clients {args.bulk_clients} --single-seconds {args.single_seconds:g} "
            f"--single-clients {args.single_clients} --partners {args.partners} --web-workers {args.web_workers} "
            f"--worker-concurrency {args.worker_concurrency}")


def cpu_table(bulk: BulkResult, single: SingleResult) -> list[str]:
    names = ["web (gunicorn)", "worker (celery)", "relay", "PostgreSQL (all sessions)", "Pulsar (java)", "Redis",
             "bench client + poller"]

    def cell(cpu: dict, name: str) -> str:
        seconds = cpu["used"].get(name, 0.0)
        return f"{seconds:.1f} CPU-s ({seconds / cpu['elapsed'] * 100:.0f} % of a core)"

    lines = [
        f"| Process | Bulk phase ({bulk.cpu['elapsed']:.1f} s, first request → last published) "
        f"| Single phase ({single.cpu['elapsed']:.1f} s sending window) |",
        "|---|---|---|",
    ]
    for name in names:
        lines.append(f"| {name} | {cell(bulk.cpu, name)} | {cell(single.cpu, name)} |")

    def machine(cpu: dict) -> str:
        return (f"{cpu['machine_busy']:.1f} CPU-s = {cpu['machine_busy'] / cpu['elapsed']:.2f} of "
                f"{cpu['cores']:.0f} cores busy")

    lines.append(f"| whole machine (everyone's processes) | {machine(bulk.cpu)} | {machine(single.cpu)} |")
    return lines


def summary(args, env_info: dict, bulk: BulkResult, single: SingleResult, log_lines: dict[str, list[str]]) -> str:
    total = bulk.total
    e2e_seconds = bulk.published - bulk.started
    committed_seconds = bulk.committed - bulk.started
    accepted_seconds = bulk.accepted - bulk.started
    e2e_rate, committed_rate, accepted_rate = total / e2e_seconds, total / committed_seconds, total / accepted_seconds
    bulk_ms = sorted(a.ms for a in bulk.answers)
    gaps = sorted(bulk.completion_gaps_ms)
    lag = bulk.relay_lag_ms

    single_ms = sorted(a.ms for a in single.answers if a.status == 202)
    sending = single.last_answer - single.started
    api_rate = single.accepted / sending
    worker_rate = single.completed_in_window / single.seconds
    drained_rate = single.completed_total / (single.last_completed - single.started)
    single_e2e_rate = single.published_events / (single.last_published - single.started)
    backlog = single.accepted - single.completed_in_window
    drain = max(single.last_completed - single.window_end, 0)
    errors = sum(len(lines) for lines in log_lines.values())

    def count(got: int, want: int) -> tuple[str, str, str]:
        return f"{got:,}", f"{want:,}", verdict(got == want)

    rows = [
        ("**Bulk end to end** (first request → last ComisionRegistrada published)",
         f"**{e2e_rate:,.0f} conversions/s** ({total:,} in {e2e_seconds:.2f} s)", f"≥ {TARGET_BULK_RATE:,} conversions/s",
         verdict(e2e_rate >= TARGET_BULK_RATE)),
        ("Bulk to committed (first request → last batch's transaction committed)",
         f"{committed_rate:,.0f} conversions/s ({committed_seconds:.2f} s)", "", ""),
        ("Bulk accepted by the API (first request → last 202)",
         f"{accepted_rate:,.0f} conversions/s ({accepted_seconds:.2f} s, {bulk.batches} requests)", "", ""),
        ("Bulk request latency p50 / p95 / max (1 batch, no wait)",
         f"{percentile(bulk_ms, .5):.0f} / {percentile(bulk_ms, .95):.0f} / {bulk_ms[-1]:.0f} ms", "", ""),
        ("Worker: interval between consecutive batch commits, median / p95",
         (f"{percentile(gaps, .5):.0f} / {percentile(gaps, .95):.0f} ms per {bulk.batch_size:,} conversions "
          f"(= {bulk.batch_size / max(percentile(gaps, .5) / 1000, 1e-3):,.0f} conversions/s)") if gaps else "–", "", ""),
        ("Relay lag, outbox insert → published, p50 / p95 / max",
         f"{percentile(lag, .5):.0f} / {percentile(lag, .95):.0f} / {lag[-1]:.0f} ms", "", ""),
        ("Bulk: transactions (Transaccion rows)", *count(bulk.transacciones, total)),
        ("Bulk: ComisionRegistrada published", *count(bulk.published_events, total)),
        ("Bulk: batch commands COMPLETADO", *count(bulk.completados, bulk.batches)),
        ("Bulk: conversions REGISTRADA in the commands' results", *count(bulk.registradas, total)),
        ("**Single: requests accepted by the API** (202, no wait)",
         f"**{api_rate:,.0f} requests/s** ({single.accepted:,} in {sending:.1f} s, {single.clients} clients)", "", ""),
        ("Single: request latency p50 / p95 / max",
         f"{percentile(single_ms, .5):.1f} / {percentile(single_ms, .95):.1f} / {single_ms[-1]:.1f} ms", "", ""),
        ("**Single: completed by the worker during the window**",
         f"**{worker_rate:,.0f} commands/s** ({single.completed_in_window:,} COMPLETADO in {single.seconds:g} s)", "", ""),
        ("Single: backlog when the clients stopped; time to drain it",
         f"{backlog:,} commands; {drain:.1f} s", "", ""),
        ("Single: worker rate over the whole run, drain included",
         f"{drained_rate:,.0f} commands/s", "", ""),
        ("Single: end to end, first request → last published",
         f"{single_e2e_rate:,.0f} conversions/s ({single.last_published - single.started:.1f} s)", "", ""),
        ("Single: transactions (Transaccion rows) = accepted", *count(single.transacciones, single.accepted)),
        ("Single: ComisionRegistrada published = accepted", *count(single.published_events, single.accepted)),
        ("Single: commands COMPLETADO = accepted", *count(single.completed_total, single.accepted)),
        ("Errors in the child processes' logs (ERROR, CRITICAL, Traceback)", f"{errors}", "0", verdict(errors == 0)),
    ]
    lines = [
        f"### Conversions benchmark, {datetime.now().astimezone().isoformat(timespec='seconds')}",
        "",
        f"`{command_line(args)}`: nproc {len(os.sched_getaffinity(0))}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, gunicorn {gunicorn.__version__} ({args.web_workers} sync workers), "
        f"Celery {celery.__version__} (1 worker, prefork concurrency {args.worker_concurrency}, prefetch multiplier "
        f"{settings.CELERY_WORKER_PREFETCH_MULTIPLIER}, acks_late, log level info), Redis {env_info['redis']} as broker, "
        f"PostgreSQL {env_info['postgres']['server_version']} (synchronous_commit "
        f"{env_info['postgres']['synchronous_commit']}, fsync {env_info['postgres']['fsync']}, shared_buffers "
        f"{env_info['postgres']['shared_buffers']}), Pulsar broker {broker_version()} (pulsar-client "
        f"{pulsar.__version__}), relay batch size {settings.RELAY_BATCH_SIZE}, relay poll "
        f"{settings.RELAY_POLL_SECONDS:g} s (woken by NOTIFY), DATABASE_CONN_MAX_AGE "
        f"{settings.DATABASES['default'].get('CONN_MAX_AGE')}; one campaign per phase, {args.partners} partners "
        f"enrolled, CLICK conversions (fixed 0.10 COP); real HTTP to gunicorn on 127.0.0.1; scratch database "
        f"`{BENCH_DATABASE}`; 1-minute load average {env_info['load_before']} before the run, {load_average()} "
        "after it.",
        "",
        "| Measure | Result | Target | |",
        "|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows),
        "",
        "CPU used during each phase (from /proc; PostgreSQL, Pulsar and the machine total include other "
        "people's processes):",
        "",
        *cpu_table(bulk, single),
        "",
        "Same-run comparison:",
        "",
        f"- bulk end to end gives ×{e2e_rate / worker_rate:,.1f} the conversions/s of single requests completed by "
        f"the worker ({e2e_rate:,.0f} vs {worker_rate:,.0f}/s), and ×{e2e_rate / api_rate:,.1f} the rate at which the "
        f"API accepts single requests ({api_rate:,.0f}/s)",
        f"- bulk: publishing adds {e2e_seconds - committed_seconds:.2f} s after the last commit "
        f"({(e2e_seconds - committed_seconds) / e2e_seconds * 100:.0f} % of the end-to-end time); committed-only "
        f"rate is ×{committed_rate / e2e_rate:.2f} the end-to-end rate",
        f"- bulk: the API had accepted every batch {accepted_seconds:.2f} s after the first request "
        f"({accepted_seconds / e2e_seconds * 100:.0f} % of the end-to-end time)",
        f"- single: the worker completes {worker_rate / api_rate * 100:.0f} % of what the API accepts "
        f"({worker_rate:,.0f} vs {api_rate:,.0f}/s)",
    ]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------


def run(args, log_dir: Path, started: list[Child], env_info: dict, broker: BrokerDatabase,
        namespace: PulsarNamespace) -> str:
    env_info["postgres"] = server_settings("synchronous_commit", "fsync", "shared_buffers")
    env_info["redis"] = broker.version()
    given = set_up(args.partners)
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database_url(),
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PULSAR_NAMESPACE": namespace.name,
        "RELAY_PRODUCER_NAME": RELAY_PRODUCER_NAME,
        "PYTHONUNBUFFERED": "1",
    }
    connections.close_all()
    print(f"starting web, worker and relay (logs in {log_dir})", file=sys.stderr)
    stack = start_stack(args, env, log_dir, started)
    stack.token = given.token
    warm_up(stack, given, args.web_workers)
    bulk = measure_bulk(args, stack, given)
    single = measure_single(args, stack, given)
    log_lines = {child.name: child.notable_lines() for child in stack.children}
    for name, lines in log_lines.items():
        for line in lines[:20]:
            print(f"{name} log: {line}", file=sys.stderr)
    return summary(args, env_info, bulk, single, log_lines)


def main() -> int:
    args = parse_args()
    refuse_unless_ready()
    env_info = {"load_before": load_average()}
    run_id = uuid.uuid4().hex[:8]
    log_dir = Path(tempfile.mkdtemp(prefix="bench-conversiones-"))
    started: list[Child] = []
    broker = BrokerDatabase(args.redis_db)
    namespace = PulsarNamespace(run_id)
    home = None
    failed = True
    try:
        broker.claim()
        namespace.create()
        home = create_scratch_database(BENCH_DATABASE)
        print(run(args, log_dir, started, env_info, broker, namespace))
        failed = False
    except BenchError as error:
        print(f"bench/conversiones.py: {error} (child logs kept in {log_dir})", file=sys.stderr)
    except BaseException:
        print(f"bench/conversiones.py: failed (child logs kept in {log_dir})", file=sys.stderr)
        raise
    finally:
        for child in reversed(started):
            child.stop()
        if home is not None:
            drop_scratch_database(BENCH_DATABASE, home)
        broker.release()
        namespace.delete()
    if failed:
        return 1
    for path in log_dir.iterdir():
        path.unlink()
    log_dir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
