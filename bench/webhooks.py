"""Benchmark of webhook deliveries with the whole stack running, for docs/PERFORMANCE.md (issue 15).

Conversions POSTed to /api/v1/pagos/conversiones/lote as a brand's integration sends them → Celery
worker → commission committed with its ComisionRegistrada in the outbox → relay → Pulsar →
`consume webhooks` (a delivery per subscribed endpoint, NOTIFY) → `entregar_webhooks` → three
receivers this script serves on 127.0.0.1. Every long-running process of the Procfile runs as a
child against a scratch database of its own: gunicorn (the Procfile's gthread workers and conf), a
Celery worker, beat, the relay, one `manage.py consume <context>` per context (webhooks included)
and the dispatcher `manage.py entregar_webhooks`.

The routing table sends a ComisionRegistrada to the brand paying it and to the partner earning it,
so the three endpoints are three clients' (registered through POST /api/v1/webhooks with each
client's token, ComisionRegistrada only): the brand's ("marca", every event) and two partners'
("socio-lento" and "socio-caido", each the events of its own conversions: 1 in --partners). Each
receiver is a ThreadingHTTPServer (HTTP/1.1, keep-alive) that checks every request's signature
(X-Alpes-Signature, v1= HMAC-SHA256 of "timestamp.body" with the endpoint's secret; a bad one is
answered 401 and counted) and records the event id, the time it received the request and the time it
answered. A receiver answers in one of three modes, switched between phases: ok (200 at once), slow
(200 after --slow-seconds) or dead (reads the request, never answers, holds the connection until the
dispatcher gives up after WEBHOOKS_TIMEOUT_SEGUNDOS = --timeout-seconds). In one run:
0. warm-up: a few conversions through the whole path, waited for until delivered everywhere;
1. burst: --burst conversions in batches of 1,000 from 2 clients, all three receivers ok: deliveries/s
   from the first request to the last delivery (what the dispatcher sustains with a backlog);
2. healthy: a paced source of --rate conversions/s (a batch every 100 ms) for --seconds, all three
   receivers ok: every endpoint's deliveries/s and latency from commit (the outbox row's created_at,
   written in the committing transaction) to the receiver writing the event's first 200;
3. degraded: the same source and length, "marca" ok, "socio-lento" slow, "socio-caido" dead; the
   phase waits until "marca" has every event of the phase (not the others: they fall behind by
   design). The point: "marca"'s latency here against phase 2's, as ratios (same run, same rate);
4. recovery (--recovery-seconds, 0 skips it): both partners' receivers back to ok; how long until
   every event of phase 3 reached them too (the dead one's come back after Reintentos' backoff).
Reported per phase and endpoint: deliveries/s, p50 / p99 / max latency, requests received and
attempts the dispatcher recorded (Intento) with their outcomes; bad signatures, duplicate 2xx
deliveries of one event, missing deliveries, the endpoints' state at the end (WEBHOOKS_FALLOS_PARA_
DESHABILITAR = --disable-after, set high so the dead one is not disabled unless that is what is
measured), and CPU by process.

Needs PostgreSQL (a role that may create databases), Redis and Pulsar:

    DATABASE_URL=... CACHE_URL=redis://127.0.0.1:6379/12 CELERY_BROKER_URL=redis://127.0.0.1:6379/12 \\
        PULSAR_URL=... .venv/bin/python bench/webhooks.py \\
        [--rate 30] [--seconds 30] [--burst 2000] [--partners 5] [--slow-seconds 2] [--timeout-seconds 3] \\
        [--recovery-seconds 90] [--per-endpoint N] [--redis-db 12]

Set-up, in this process against the scratch database (not measured): bench/conversiones.set_up's
brand, campaigns and partners as pagos knows them; the campaigns' CampaniaCreada delivered to
webhooks (its read model of brands); the brand and the two partners as the cliente context's read
model has them (ClienteView rows, what registering an endpoint checks), and a SOCIO user with a token
for each partner (CACHE_URL and CELERY_BROKER_URL on the --redis-db database, as above, so whatever
the set-up caches or enqueues lands in the run's own database). The receivers listen on 127.0.0.1
only and the dispatcher runs with WEBHOOKS_PERMITIR_LOOPBACK=true, so no traffic leaves the machine.

Isolation: the scratch database `alpespartners_bench_webhooks` is created, migrated and dropped at the
end; the Celery broker and the web processes' cache are a Redis database of its own (--redis-db,
emptied at the end); relay and consumers use a fresh Pulsar namespace (public/bench-webhooks-<run>),
deleted with its topics at the end. Every child runs in its own process group, stopped at the end
even on error. Progress goes to stderr; stdout gets only a Markdown summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # before bench/: `webhooks` is the project's app, not this file
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

# First: importing conversiones.py runs django.setup().
from bench.conversiones import COMISIONES, Given, conversion, set_up, warm_up  # noqa: E402

import celery  # noqa: E402
import gunicorn  # noqa: E402
import pulsar  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.access.models import Rol, UsuarioCliente  # noqa: E402
from alpespartners.messaging import contexts  # noqa: E402
from alpespartners.seedwork.firmas import firma_valida  # noqa: E402
from bench.common import (COMMISSION_EVENT as EVENT, HOST, POLL_SECONDS, START_SECONDS, Answer,  # noqa: E402
                          BenchError, BrokerDatabase, Child, Client, CpuColumn, CpuMeter, PulsarNamespace, Stack,
                          beat_command, broker_version, consuming_contexts, cpu_cell, cpu_table, cpu_total, free_port,
                          heading, inbox_table, load_average, load_note, measure_table, outbox_table, percentile,
                          platform_facts, refuse_unless_stack_ready, report_log_lines, run_clients, run_with_stack,
                          server_settings, settle, stack_env, start_stack, verdict, web_command, work_left,
                          worker_command)
from cliente.models import ClienteView  # noqa: E402
from tests import events  # noqa: E402
from webhooks.models import Endpoint, Entrega, Intento  # noqa: E402

DATABASE = "alpespartners_bench_webhooks"
REDIS_MARKER = "alpespartners:bench-webhooks"  # set in --redis-db while a run owns it
RELAY_PRODUCER_NAME = "alpespartners-relay-bench-webhooks"
STALL_SECONDS = 60  # a phase gives up when nothing it waits for progresses for this long
STEADY_INTERVAL = 0.1  # seconds between the paced source's batches
BURST_BATCH = 1_000
BURST_CLIENTS = 2
# "marca"'s latency in the degraded phase against the healthy phase, same run, same rate: on this
# shared 2-core machine two phases of one run differ by some tens of per cent without any cause.
TARGET_RATIO = 1.5
HEALTHY, SLOW, DEAD = "ok", "slow", "dead"
MARCA, LENTO, CAIDO = "marca", "socio-lento", "socio-caido"
ENDPOINTS = (MARCA, LENTO, CAIDO)
PHASE_CAMPAIGN = {"burst": "bulk", "healthy": "single", "degraded": "postbacks"}  # set_up's campaigns, renamed
BENCH_CPU = "bench (source, receivers, poller)"
PROJECT_CPU = ["web (gunicorn)", "worker (celery)", "beat (celery)", "relay", "consumer-cliente",
               "consumer-campanias", "consumer-pagos", "consumer-webhooks", "webhooks dispatcher"]
CPU_CATEGORIES = [*PROJECT_CPU, "PostgreSQL (all sessions)", "Pulsar (java)", "Redis", BENCH_CPU]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=30, help="conversions/s of the paced phases (healthy, degraded)")
    parser.add_argument("--seconds", type=float, default=30, help="length of the healthy and degraded phases' source")
    parser.add_argument("--burst", type=int, default=2_000, help="conversions of the burst phase (0 skips it)")
    parser.add_argument("--partners", type=int, default=5,
                        help="partners the conversions rotate over; each partner endpoint gets 1 in --partners")
    parser.add_argument("--slow-seconds", type=float, default=2.0, help="how long the slow receiver waits to answer")
    parser.add_argument("--timeout-seconds", type=float, default=3.0, help="WEBHOOKS_TIMEOUT_SEGUNDOS of the dispatcher")
    parser.add_argument("--disable-after", type=int, default=100_000, help="WEBHOOKS_FALLOS_PARA_DESHABILITAR")
    parser.add_argument("--per-endpoint", type=int, default=None,
                        help="WEBHOOKS_POR_ENDPOINT of the dispatcher (default: the settings')")
    parser.add_argument("--recovery-seconds", type=float, default=90,
                        help="time limit of the recovery phase (0 skips it)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (the Procfile's 2)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--redis-db", type=int, default=12, help="Redis database of this run's broker and cache")
    parser.add_argument("--max-seconds", type=float, default=120,
                        help="time limit of each phase's wait after its source stops (and of each wait for a backlog)")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds < 1 or args.burst < 0 or args.partners < 2:
        parser.error("need --rate > 0, --seconds ≥ 1, --burst ≥ 0, --partners ≥ 2")
    if args.slow_seconds <= 0 or args.timeout_seconds <= args.slow_seconds:
        parser.error("need 0 < --slow-seconds < --timeout-seconds: the slow receiver must answer within the timeout")
    if args.max_seconds < 10 or args.recovery_seconds < 0 or args.disable_after < 1:
        parser.error("need --max-seconds ≥ 10, --recovery-seconds ≥ 0, --disable-after ≥ 1")
    if args.per_endpoint is not None and args.per_endpoint < 1:
        parser.error("need --per-endpoint ≥ 1")
    return args


# --- the receivers ------------------------------------------------------------------


@dataclass
class Received:
    """One request a receiver got."""

    event_id: str
    id_campania: str
    attempt: str  # X-Alpes-Delivery-Attempt
    mode: str
    signed: bool  # the signature checked out with the endpoint's secret
    received: float  # time.time() once the body was read
    answered: float | None = None  # time.time() once the answer was written; None: never answered
    status: int | None = None


class Receiver:
    """A client's webhook server on 127.0.0.1: checks signatures, answers per its `mode`."""

    def __init__(self, name: str, slow_seconds: float):
        self.name, self.slow_seconds = name, slow_seconds
        self.mode = HEALTHY
        self.secret = ""  # the endpoint's, once registered
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.ok: dict[str, dict[str, float]] = {}  # campaign → event id → when its first 2xx was answered
        self.ok_counts: Counter = Counter()  # event id → 2xx answered (more than 1: a duplicate delivery)
        self.bad_signatures = 0
        self.server = ThreadingHTTPServer((HOST, 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name=f"receiver-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hooks/{self.name}"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # dead and slow handlers return at once
        self.server.shutdown()
        self.server.server_close()

    def delivered(self, campaign: str) -> dict[str, float]:
        with self.lock:
            return dict(self.ok.get(campaign, {}))

    def count_delivered(self, campaign: str) -> int:
        with self.lock:
            return len(self.ok.get(campaign, ()))

    def requests_between(self, start: float, end: float) -> list[Received]:
        with self.lock:
            return [request for request in self.requests if start <= request.received < end]

    def _record(self, request: Received) -> None:
        with self.lock:
            self.requests.append(request)
            if not request.signed:
                self.bad_signatures += 1

    def _answered(self, request: Received, status: int) -> None:
        with self.lock:
            request.answered, request.status = time.time(), status
            if 200 <= status < 300:
                self.ok_counts[request.event_id] += 1
                self.ok.setdefault(request.id_campania, {}).setdefault(request.event_id, request.answered)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the dispatcher's pool expects
            # TCP_NODELAY, as a web server sets it: with keep-alive the body, written after the headers,
            # otherwise waits for the dispatcher's delayed ACK (40 ms a request, ~65 deliveries/s per endpoint).
            disable_nagle_algorithm = True

            def log_message(self, *args):  # no line per request on stderr
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received = time.time()
                mode = receiver.mode
                event_id = self.headers.get("X-Alpes-Event-Id", "")
                try:
                    envelope = json.loads(body)
                    id_campania = str(envelope["data"].get("id_campania", ""))
                    same_event = str(envelope["id"]) == event_id
                except (ValueError, KeyError, TypeError, AttributeError):
                    id_campania, same_event = "", False
                signed = same_event and bool(receiver.secret) and firma_valida(
                    receiver.secret, self.headers.get("X-Alpes-Timestamp", ""), body,
                    self.headers.get("X-Alpes-Signature", ""))
                request = Received(event_id, id_campania, self.headers.get("X-Alpes-Delivery-Attempt", ""), mode,
                                   signed, received)
                receiver._record(request)
                if mode == DEAD:
                    self.close_connection = True
                    hold(self.connection, receiver.stopping)
                    return
                if mode == SLOW and receiver.stopping.wait(receiver.slow_seconds):
                    self.close_connection = True
                    return
                status = 200 if signed else 401
                answer = b'{"recibido":true}' if signed else b'{"error":"firma invalida"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                self.wfile.flush()
                receiver._answered(request, status)

        return Handler


def hold(sock, stopping: threading.Event) -> None:
    """Never answer: wait until the client closes the connection (its timeout) or the run ends."""
    while not stopping.is_set():
        readable, _, _ = select.select([sock], [], [], 0.2)
        if readable:
            try:
                if not sock.recv(65536):
                    return
            except OSError:
                return


# --- set-up ---------------------------------------------------------------------


@dataclass
class Setup:
    given: Given
    id_marca: uuid.UUID
    clients: dict[str, uuid.UUID]  # endpoint name → its client
    tokens: dict[str, str]  # endpoint name → the token of a user of that client
    endpoints: dict[str, uuid.UUID] = field(default_factory=dict)  # endpoint name → its id, once registered


def seed(partners: int) -> Setup:
    logging.disable(logging.INFO)  # set_up delivers hundreds of events in this process, each logged at INFO
    try:
        given = set_up(partners)
        id_marca = UsuarioCliente.objects.get(user__username="bench").id_cliente
        hoy = timezone.localdate()
        # webhooks' read model of brands: what routes a commission to the brand that pays it.
        for id_campania in given.campaigns.values():
            events.deliver("webhooks", "eventos.campanias", events.envelope("CampaniaCreada", id_campania, {
                "id_cliente": str(id_marca), "nombre": "Campaña de prueba",
                "presupuesto": {"valor": "100000000.00", "moneda": "COP"},
                "fecha_inicio": str(hoy - timedelta(days=10)), "fecha_fin": str(hoy + timedelta(days=30)),
                "comisiones": COMISIONES, "dias_retencion": 30,
            }))
    finally:
        logging.disable(logging.NOTSET)
    clients = {MARCA: id_marca, LENTO: given.partners[0], CAIDO: given.partners[1]}
    for n, (name, id_cliente) in enumerate(clients.items()):
        natural = name != MARCA
        ClienteView.objects.create(id=id_cliente, tipo="NATURAL" if natural else "EMPRESA", nombre=f"Bench {name}",
                                   email=f"{name}@bench.invalid", tipo_documento="CC" if natural else "NIT",
                                   numero_documento=f"{900_000_000 + n}", estado="ACTIVO",
                                   fecha_registro=timezone.now())
    tokens = {MARCA: given.token}
    for name in (LENTO, CAIDO):
        user = get_user_model().objects.create_user(username=f"bench-{name}", password=uuid.uuid4().hex)
        UsuarioCliente.objects.create(user=user, id_cliente=clients[name], rol=Rol.SOCIO)
        tokens[name] = Token.objects.create(user=user).key
    return Setup(given, id_marca, clients, tokens)


def register_endpoints(stack: Stack, setup: Setup, receivers: dict[str, Receiver]) -> None:
    """POST /api/v1/webhooks as each client: the answer carries the secret, shown this once."""
    for name, receiver in receivers.items():
        client = Client(stack.port, setup.tokens[name])
        try:
            answer = client.post("/api/v1/webhooks", json.dumps({"url": receiver.url, "eventos": [EVENT]}).encode())
        finally:
            client.close()
        if answer.status != 201:
            raise BenchError(f"registering {name}'s endpoint answered {answer.status}: {answer.body[:500]!r}")
        body = json.loads(answer.body)
        receiver.secret = body["secreto"]
        setup.endpoints[name] = uuid.UUID(body["id"])


def start(args, env: dict, log_dir: Path, started: list[Child]) -> tuple[Stack, Child]:
    """The Procfile's processes: web, worker, beat, relay, consumer-<context> and the dispatcher."""
    python, port = sys.executable, free_port()

    def child(name: str, command: list[str]) -> Child:
        return Child(name, command, env, log_dir)

    dispatcher = child("webhooks", [python, "manage.py", "entregar_webhooks"])
    consumers = [child(f"consumer-{name}", [python, "manage.py", "consume", name]) for name in contexts.all_contexts()]
    stack = Stack(child("web", web_command(python, port, args.web_workers, "-c", "python:alpespartners.gunicorn_conf")),
                  child("worker", worker_command(python, args.worker_concurrency)),
                  child("relay", [python, "manage.py", "relay"]), port, consumers=[*consumers, dispatcher],
                  beat=child("beat", beat_command(python)))
    return start_stack(stack, started), dispatcher


class Meter(CpuMeter):
    """CpuMeter with each consumer and the dispatcher apart, and the receivers named."""

    def __init__(self, stack: Stack):
        super().__init__(stack)
        for child in stack.consumers:
            self.groups["webhooks dispatcher" if child.name == "webhooks" else child.name] = child.pid

    def category(self, pid: int, comm: str, group: int) -> str | None:
        name = super().category(pid, comm, group)
        return BENCH_CPU if name == "bench client + poller" else name


# --- waiting ------------------------------------------------------------------------


@dataclass
class Wait:
    finished: bool
    reason: str = ""  # why it stopped early


def backlog(consuming: list[str]) -> dict[str, int]:
    """The pipeline's work left, and the deliveries still due."""
    return {**work_left(consuming), "deliveries PENDIENTE": Entrega.objects.filter(estado="PENDIENTE").count()}


def wait_until(stack: Stack, targets: dict[str, int], counts, sources_alive, errors, max_seconds: float,
               label: str, stall_seconds: float = STALL_SECONDS) -> Wait:
    """Poll `counts()` ({name: value}) until the sources are done and every value reaches its target
    (`targets` may grow while the sources run); a time limit after the sources stopped, or nothing
    progressing for STALL_SECONDS, ends it unfinished; a client's failure or a dead child ends the run."""
    bars = {name: tqdm(total=max(total, 1), desc=f"{label}: {name}", unit="ev", file=sys.stderr, position=n,
                       leave=False) for n, (name, total) in enumerate(targets.items())}
    last_values, last_progress, deadline = None, time.monotonic(), None
    try:
        while True:
            if errors:
                raise BenchError(f"a client failed: {errors[0]!r}")
            stack.check_alive()
            values = counts()
            for name, bar in bars.items():
                bar.total = max(targets[name], 1)
                bar.update(values[name] - bar.n)
            now = time.monotonic()
            if not sources_alive():
                if all(values[name] >= targets[name] for name in targets):
                    return Wait(True)
                deadline = deadline or now + max_seconds
                if now > deadline:
                    return Wait(False, f"--max-seconds {max_seconds:g} reached after the source stopped")
            if values != last_values:
                last_values, last_progress = values, now
            elif now - last_progress > stall_seconds:
                return Wait(False, f"nothing progressed for {stall_seconds:g} s")
            time.sleep(POLL_SECONDS)
    finally:
        for bar in bars.values():
            bar.close()


# --- phases ---------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    campaign: uuid.UUID
    modes: dict[str, str]
    awaited: list[str]  # the endpoints the phase waited for
    started: float  # time.time() of the first request
    source_end: float  # time.time() when the source stopped sending
    ended: float  # time.time() when the wait ended
    wait: Wait
    answers: list[Answer]
    expected: dict[str, int]  # conversions accepted → deliveries due per endpoint
    late_sends: int
    cpu: dict
    rate: float | None = None  # conversions/s asked of a paced source

    @property
    def refused(self) -> list[Answer]:
        return [answer for answer in self.answers if answer.status != 202]


def expected_deliveries(setup: Setup, accepted: list[int]) -> dict[str, int]:
    """Deliveries due per endpoint for the conversions numbered `accepted` (conversion n is partner n % P's)."""
    partners = len(setup.given.partners)
    return {MARCA: len(accepted), LENTO: sum(1 for n in accepted if n % partners == 0),
            CAIDO: sum(1 for n in accepted if n % partners == 1)}


def run_phase(args, stack: Stack, setup: Setup, receivers: dict[str, Receiver], consuming: list[str], name: str,
              modes: dict[str, str], awaited: list[str], batches, clients: int, rate: float | None = None) -> Phase:
    """Send `batches` (lists of conversion numbers; with `rate`, each at its time) from `clients`
    threads to /pagos/conversiones/lote, then wait until every awaited endpoint has every delivery."""
    left = settle(stack, lambda: backlog(consuming), args.max_seconds, name)
    if left:
        raise BenchError(f"{name}: the earlier phases' work was not done within {args.max_seconds:g} s: {left}")
    for receiver_name, mode in modes.items():
        receivers[receiver_name].mode = mode
    campaign_key = PHASE_CAMPAIGN[name]
    campaign = setup.given.campaigns[campaign_key]
    queue = iter(enumerate(batches))
    take, lock = threading.Lock(), threading.Lock()
    accepted: list[int] = []
    late = [0]
    box: dict[str, float] = {}

    def work(client: Client):
        while True:
            with take:
                k, numbers = next(queue, (None, None))
            if k is None:
                return
            if rate is not None:
                delay = box["t0"] + k * STEADY_INTERVAL - time.time()
                if delay > 0:
                    time.sleep(delay)
                elif -delay > STEADY_INTERVAL:
                    late[0] += 1
            lote = [conversion(setup.given, campaign_key, f"{name}-{n:07d}", n) for n in numbers]
            answer = client.post("/api/v1/pagos/conversiones/lote", json.dumps({"conversiones": lote}).encode())
            if answer.status == 202:
                with lock:
                    accepted.extend(numbers)
            yield answer

    meter = Meter(stack)
    box["t0"] = started = time.time()
    answers, errors, threads = run_clients(clients, stack.new_client, work, name)
    source_end = [None]

    def sources_alive() -> bool:
        alive = any(thread.is_alive() for thread in threads)
        if not alive and source_end[0] is None:
            source_end[0] = time.time()
        return alive

    targets = {f"delivered to {endpoint}": 0 for endpoint in awaited}

    def counts() -> dict[str, int]:
        with lock:
            due = expected_deliveries(setup, list(accepted))
        for endpoint in awaited:
            targets[f"delivered to {endpoint}"] = due[endpoint]
        return {f"delivered to {endpoint}": receivers[endpoint].count_delivered(str(campaign)) for endpoint in awaited}

    wait = wait_until(stack, targets, counts, sources_alive, errors, args.max_seconds, name)
    ended = time.time()
    cpu = meter.stop()
    for thread in threads:
        thread.join(timeout=60)
    return Phase(name, campaign, dict(modes), awaited, started, source_end[0] or ended, ended, wait, list(answers),
                 expected_deliveries(setup, accepted), late[0], cpu, rate)


def paced_batches(rate: float, seconds: float) -> list[list[int]]:
    per_batch = max(1, round(rate * STEADY_INTERVAL))
    count = max(1, round(seconds / STEADY_INTERVAL))
    return [list(range(k * per_batch, (k + 1) * per_batch)) for k in range(count)]


def recover(args, stack: Stack, setup: Setup, receivers: dict[str, Receiver], degraded: Phase) -> Phase:
    """Every receiver ok again: wait until the degraded phase's deliveries reach the partners too."""
    modes = {MARCA: HEALTHY, LENTO: HEALTHY, CAIDO: HEALTHY}
    for name, mode in modes.items():
        receivers[name].mode = mode
    awaited = [LENTO, CAIDO]
    targets = {f"delivered to {endpoint}": degraded.expected[endpoint] for endpoint in awaited}
    meter = Meter(stack)
    started = time.time()

    def counts() -> dict[str, int]:
        return {f"delivered to {endpoint}": receivers[endpoint].count_delivered(str(degraded.campaign))
                for endpoint in awaited}

    # No stall limit of its own: the dead receiver's deliveries come back only after their backoff.
    wait = wait_until(stack, targets, counts, lambda: False, [], args.recovery_seconds, "recovery",
                      stall_seconds=args.recovery_seconds + 1)
    ended = time.time()
    return Phase("recovery", degraded.campaign, modes, awaited, started, started, ended, wait, [],
                 {name: degraded.expected[name] for name in ENDPOINTS}, 0, meter.stop())


# --- what the phases did ---------------------------------------------------------------


@dataclass
class EventTimes:
    created: float  # the outbox row's created_at: written in the transaction that committed the commission
    published: float | None
    applied: float | None  # webhooks' inbox row: the consumer made its deliveries
    id_socio: str


def phase_events(campaign: uuid.UUID) -> dict[str, EventTimes]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.event_id, o.created_at, o.published_at, i.received_at, o.envelope -> 'data' ->> 'id_socio' "
            f"FROM {outbox_table()} o LEFT JOIN {inbox_table()} i ON i.event_id = o.event_id AND i.consumer = %s "
            f"WHERE o.type = %s AND o.envelope -> 'data' ->> 'id_campania' = %s",
            ["webhooks", EVENT, str(campaign)])
        return {str(event_id): EventTimes(created.timestamp(), published and published.timestamp(),
                                          applied and applied.timestamp(), id_socio)
                for event_id, created, published, applied, id_socio in cursor.fetchall()}


def attempts(endpoint: uuid.UUID, start: float, end: float) -> dict[str, int]:
    """The dispatcher's recorded attempts (Intento) to `endpoint` made within [start, end), by outcome."""
    window = (datetime.fromtimestamp(start).astimezone(), datetime.fromtimestamp(end).astimezone())
    rows = (Intento.objects.filter(entrega__endpoint_id=endpoint, fecha__gte=window[0], fecha__lt=window[1])
            .values("status", "error").annotate(n=Count("id")).order_by())
    outcomes: Counter = Counter()
    for row in rows:
        if row["status"] is not None:
            outcomes[f"HTTP {row['status']}"] += row["n"]
        else:
            outcomes["timeout" if "tiempo" in row["error"] else row["error"][:60] or "no answer"] += row["n"]
    return dict(outcomes)


def stats(values: list[float]) -> str:
    if not values:
        return "–"
    values = sorted(values)
    return f"{percentile(values, .5):.0f} / {percentile(values, .99):.0f} / {values[-1]:.0f} ms"


@dataclass
class EndpointFigures:
    expected: int
    delivered: int  # distinct events answered 2xx by the end of the phase
    latencies: list[float]  # ms, commit → its first 2xx answered
    dispatch: list[float]  # ms, applied by the webhooks consumer (its deliveries made) → its first 2xx answered
    in_window: int  # 2xx answered within the source's window
    requests: int  # received by the receiver during the phase
    attempts: dict[str, int]  # recorded by the dispatcher during the phase
    first_ok: float | None
    last_ok: float | None


def endpoint_figures(phase: Phase, receiver: Receiver, endpoint: uuid.UUID, events_: dict[str, EventTimes],
                     expected_ids: set[str]) -> EndpointFigures:
    delivered = {event_id: at for event_id, at in receiver.delivered(str(phase.campaign)).items()
                 if event_id in expected_ids and at <= phase.ended}
    latencies = sorted((at - events_[event_id].created) * 1000 for event_id, at in delivered.items())
    dispatch = sorted((at - events_[event_id].applied) * 1000 for event_id, at in delivered.items()
                      if events_[event_id].applied)
    in_window = sum(1 for at in delivered.values() if phase.started <= at < phase.source_end)
    return EndpointFigures(len(expected_ids), len(delivered), latencies, dispatch, in_window,
                           len(receiver.requests_between(phase.started, phase.ended)),
                           attempts(endpoint, phase.started, phase.ended),
                           min(delivered.values(), default=None), max(delivered.values(), default=None))


def expected_ids(setup: Setup, events_: dict[str, EventTimes]) -> dict[str, set[str]]:
    return {MARCA: set(events_),
            LENTO: {e for e, t in events_.items() if t.id_socio == str(setup.clients[LENTO])},
            CAIDO: {e for e, t in events_.items() if t.id_socio == str(setup.clients[CAIDO])}}


@dataclass
class Analysed:
    phase: Phase
    events: dict[str, EventTimes]
    figures: dict[str, EndpointFigures]


def analyse(phase: Phase, setup: Setup, receivers: dict[str, Receiver]) -> Analysed:
    events_ = phase_events(phase.campaign)
    due = expected_ids(setup, events_)
    figures = {name: endpoint_figures(phase, receivers[name], setup.endpoints[name], events_, due[name])
               for name in ENDPOINTS}
    return Analysed(phase, events_, figures)


# --- report ---------------------------------------------------------------------


def command_line(args) -> str:
    line = (f"python bench/webhooks.py --rate {args.rate:g} --seconds {args.seconds:g} --burst {args.burst} "
            f"--partners {args.partners} --slow-seconds {args.slow_seconds:g} --timeout-seconds {args.timeout_seconds:g} "
            f"--disable-after {args.disable_after} --recovery-seconds {args.recovery_seconds:g} "
            f"--web-workers {args.web_workers} --worker-concurrency {args.worker_concurrency} "
            f"--redis-db {args.redis_db} --max-seconds {args.max_seconds:g}")
    return line + (f" --per-endpoint {args.per_endpoint}" if args.per_endpoint else "")


def mode_name(mode: str, args) -> str:
    return {HEALTHY: "ok", SLOW: f"slow ({args.slow_seconds:g} s)", DEAD: "dead (never answers)"}[mode]


def phase_title(a: Analysed, args) -> str:
    phase = a.phase
    stopped = "" if phase.wait.finished else f" — **gave up**: {phase.wait.reason}"
    modes = ", ".join(f"{name} {mode_name(mode, args)}" for name, mode in phase.modes.items())
    refused = f", {len(phase.refused)} batches refused ({phase.refused[0].status})" if phase.refused else ""
    if phase.name == "burst":
        what = f"{phase.expected[MARCA]:,} conversions in batches of {BURST_BATCH:,} from {BURST_CLIENTS} clients"
    elif phase.name == "recovery":
        what = "no new events; the degraded phase's deliveries to the partners, every receiver ok again"
    else:
        sent = phase.source_end - phase.started
        what = (f"{phase.expected[MARCA]:,} conversions paced at {phase.rate:g}/s for {sent:.1f} s "
                f"({phase.late_sends} batches sent late)")
    return f"**{phase.name.capitalize()}** ({modes}): {what}{refused}{stopped}"


def phase_rows(a: Analysed, args) -> list[tuple[str, ...]]:
    phase = a.phase
    rows = [(phase_title(a, args), "", "", "", "", "", "")]
    overall = 0
    for name in ENDPOINTS:
        f = a.figures[name]
        overall += f.delivered
        if phase.name == "burst" and f.first_ok is not None:
            rate = (f"{f.delivered / (f.last_ok - phase.started):,.1f}/s from the first request; "
                    f"{f.delivered / max(f.last_ok - f.first_ok, 1e-3):,.1f}/s first → last delivery")
        elif phase.name == "recovery":
            rate = (f"the last one {f.last_ok - phase.started:.1f} s after the receivers came back"
                    if name in phase.awaited and f.delivered == f.expected and f.last_ok else "–")
        else:
            rate = f"{f.in_window / (phase.source_end - phase.started):,.1f}/s during the source"
        missing = f.expected - f.delivered
        delivered = f"{f.delivered:,} of {f.expected:,}" + (f" (**{missing:,} missing**)" if missing else "")
        attempts_ = ", ".join(f"{k} {v:,}" for k, v in sorted(f.attempts.items())) or "0"
        rows.append((f"{name} ({mode_name(phase.modes[name], args)})", delivered, rate,
                     stats(f.latencies) if phase.name != "recovery" else "–", f"{f.requests:,}", attempts_,
                     "awaited" if name in phase.awaited else "not awaited"))
    if phase.name == "burst":
        last = max((f.last_ok for f in a.figures.values() if f.last_ok), default=None)
        first = min((f.first_ok for f in a.figures.values() if f.first_ok), default=None)
        if last:
            rows.append(("all three", f"{overall:,}", f"**{overall / (last - phase.started):,.1f} deliveries/s** from "
                         f"the first request; {overall / max(last - first, 1e-3):,.1f}/s first → last delivery",
                         "", "", "", ""))
    return rows


def stage_rows(analysed: list[Analysed]) -> list[tuple[str, ...]]:
    rows = []
    for a in analysed:
        if a.phase.name == "recovery":
            continue
        published = [(t.published - t.created) * 1000 for t in a.events.values() if t.published]
        applied = [(t.applied - t.created) * 1000 for t in a.events.values() if t.applied]
        marca = a.figures[MARCA]
        rows.append((a.phase.name, f"{len(a.events):,}", stats(published), stats(applied), stats(marca.latencies),
                     stats(marca.dispatch)))
    return rows


def ratio(degraded: list[float], healthy: list[float], fraction: float) -> float | None:
    if not degraded or not healthy:
        return None
    return percentile(sorted(degraded), fraction) / max(percentile(sorted(healthy), fraction), 1e-9)


def verdict_rows(args, analysed: dict[str, Analysed], receivers: dict[str, Receiver], setup: Setup,
                 log_lines: dict[str, list[str]]) -> list[tuple[str, ...]]:
    rows = []
    healthy, degraded = analysed.get("healthy"), analysed.get("degraded")
    if healthy and degraded:
        for stage, attribute in (("commit → answered", "latencies"), ("applied → answered (dispatcher)", "dispatch")):
            h, d = getattr(healthy.figures[MARCA], attribute), getattr(degraded.figures[MARCA], attribute)
            for label, fraction in (("p50", .5), ("p99", .99)):
                value = ratio(d, h, fraction)
                result = "–" if value is None else (f"**{value:.2f}** ({percentile(sorted(d), fraction):.0f} ms ÷ "
                                                     f"{percentile(sorted(h), fraction):.0f} ms)")
                rows.append((f"**{MARCA}**'s {stage} {label}, degraded ÷ healthy (same rate, same run)", result,
                             f"≤ {TARGET_RATIO:g}", verdict(value is not None and value <= TARGET_RATIO)))
        hr = healthy.figures[MARCA].in_window / (healthy.phase.source_end - healthy.phase.started)
        dr = degraded.figures[MARCA].in_window / (degraded.phase.source_end - degraded.phase.started)
        rows.append((f"{MARCA}'s deliveries/s during the source, degraded ÷ healthy", f"{dr / hr:.2f}" if hr else "–",
                     "", ""))
    awaited_missing = []
    for a in analysed.values():
        for name in a.phase.awaited:
            f = a.figures[name]
            if f.delivered < f.expected:
                awaited_missing.append(f"{a.phase.name}/{name}: {f.expected - f.delivered:,}")
    rows.append(("Every delivery to an ok endpoint arrived (each phase's awaited endpoints)",
                 "yes" if not awaited_missing else "**no**: " + ", ".join(awaited_missing), "all",
                 verdict(not awaited_missing)))
    bad = sum(receiver.bad_signatures for receiver in receivers.values())
    rows.append(("Requests with a bad signature (answered 401)",
                 ", ".join(f"{n} {r.bad_signatures}" for n, r in receivers.items()), "0", verdict(bad == 0)))
    duplicates = {n: sum(1 for count in r.ok_counts.values() if count > 1) for n, r in receivers.items()}
    rows.append(("Events answered 2xx more than once (duplicate deliveries)",
                 ", ".join(f"{n} {v}" for n, v in duplicates.items()), "0", verdict(not any(duplicates.values()))))
    states = []
    for name in ENDPOINTS:
        endpoint = Endpoint.objects.get(id=setup.endpoints[name])
        pending = Entrega.objects.filter(endpoint=endpoint).values("estado").annotate(n=Count("id")).order_by()
        by_state = ", ".join(f"{row['estado']} {row['n']:,}" for row in pending)
        states.append(f"{name}: {'enabled' if endpoint.activo else '**disabled** at ' + str(endpoint.deshabilitado_en)}"
                      f", {endpoint.fallos_seguidos} failures in a row, deliveries {by_state}")
    disabled = Endpoint.objects.filter(id__in=setup.endpoints.values(), activo=False).exists()
    rows.append((f"Endpoints at the end (WEBHOOKS_FALLOS_PARA_DESHABILITAR {args.disable_after:,})", "; ".join(states),
                 "none disabled", verdict(not disabled)))
    errors = sum(len(lines) for lines in log_lines.values())
    rows.append(("Errors in the child processes' logs (ERROR, CRITICAL, FATAL, Traceback)",
                 ", ".join(f"{name} {len(lines)}" for name, lines in log_lines.items()), "0", verdict(errors == 0)))
    return rows


def facts(args, env_info: dict, consuming: list[str]) -> str:
    database = env_info["postgres"]
    return (
        f"{platform_facts()}; gunicorn {gunicorn.__version__} ({args.web_workers} gthread workers of 4 threads, "
        f"alpespartners.gunicorn_conf), Celery {celery.__version__} (1 worker, prefork concurrency "
        f"{args.worker_concurrency}; beat), the relay, one `manage.py consume <context>` per context (those that "
        f"apply {EVENT}: {', '.join(consuming)}), `manage.py entregar_webhooks` (WEBHOOKS_HILOS "
        f"{env_info['hilos']}, WEBHOOKS_POR_ENDPOINT {env_info['por_endpoint']}, WEBHOOKS_TIMEOUT_SEGUNDOS "
        f"{args.timeout_seconds:g}, WEBHOOKS_REINTENTO_INICIAL_SEGUNDOS {env_info['reintento']:g}); Redis "
        f"{env_info['redis']} as broker and cache, PostgreSQL {database['server_version']} (synchronous_commit "
        f"{database['synchronous_commit']}), Pulsar broker {broker_version()} (pulsar-client {pulsar.__version__}). "
        f"Conversions rotate over {args.partners} partners: {MARCA} gets every event, {LENTO} and {CAIDO} 1 in "
        f"{args.partners} each. Latency: the outbox row's created_at (in the committing transaction) → the receiver "
        f"writing its 200 (for the slow receiver, {args.slow_seconds:g} s after it got the request). "
        f"{load_note(env_info['load_before'])}")


def summary(args, env_info: dict, consuming: list[str], analysed: dict[str, Analysed], receivers, setup,
            log_lines) -> str:
    columns = "| Phase / endpoint | Delivered | Deliveries/s | Latency p50 / p99 / max | Requests received | " \
              "Attempts recorded (Intento) | |"
    rows = [row for a in analysed.values() for row in phase_rows(a, args)]
    cpu_columns = []
    for a in analysed.values():
        phase = a.phase
        attempts_ = sum(sum(f.attempts.values()) for f in a.figures.values())
        end = "wait ended" if phase.wait.finished else "gave up"
        cpu_columns.append(CpuColumn(f"{phase.name.capitalize()}: per attempt ({attempts_:,} attempts, "
                                     f"{phase.cpu['elapsed']:.1f} s first request → {end})", phase.cpu, attempts_))
    lines = [
        heading("Webhooks benchmark"), "", f"`{command_line(args)}`", "", facts(args, env_info, consuming), "",
        *measure_table(rows, columns), "",
        "Latency by stage, per phase (every event of the phase; p50 / p99 / max from its commit):", "",
        *measure_table(stage_rows(list(analysed.values())),
                       "| Phase | Events | commit → published (relay) | commit → applied by the webhooks consumer "
                       f"(deliveries made) | commit → answered 200 by {MARCA} | applied → answered 200 by {MARCA} "
                       "(the dispatcher's part) |"), "",
        *measure_table(verdict_rows(args, analysed, receivers, setup, log_lines)), "",
        "CPU by process (from /proc; PostgreSQL, Pulsar and the machine total include other people's processes):", "",
        *cpu_table(cpu_columns, CPU_CATEGORIES, cpu_cell, (("**project processes**", cpu_total(PROJECT_CPU)),
                                                           ("**all of the above**", cpu_total(CPU_CATEGORIES)))),
    ]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------


def wait_for_warm_up(stack: Stack, setup: Setup, receivers: dict[str, Receiver], consuming: list[str]) -> None:
    campaign = str(setup.given.campaigns["warm-up"])
    deadline = time.monotonic() + START_SECONDS
    while True:
        stack.check_alive()
        left = {name: value for name, value in backlog(consuming).items() if value}
        events_ = phase_events(setup.given.campaigns["warm-up"])
        due = expected_ids(setup, events_)
        missing = {name: len(due[name] - set(receivers[name].delivered(campaign))) for name in ENDPOINTS}
        if not left and events_ and not any(missing.values()):
            return
        if time.monotonic() > deadline:
            raise BenchError(f"the warm-up was not delivered within {START_SECONDS} s: {left}, missing {missing}")
        time.sleep(POLL_SECONDS)


def run(args, log_dir: Path, started: list[Child], env_info: dict, broker: BrokerDatabase,
        namespace: PulsarNamespace, consuming: list[str]) -> tuple[str, int]:
    env = stack_env(DATABASE, broker, namespace, RELAY_PRODUCER_NAME, API_THROTTLE_USER="100000000/minute",
                    WEBHOOKS_PERMITIR_LOOPBACK="true",  # the receivers are on 127.0.0.1, over plain http
                    WEBHOOKS_TIMEOUT_SEGUNDOS=f"{args.timeout_seconds:g}",
                    WEBHOOKS_FALLOS_PARA_DESHABILITAR=str(args.disable_after))
    if args.per_endpoint:
        env["WEBHOOKS_POR_ENDPOINT"] = str(args.per_endpoint)
    env_info.update(postgres=server_settings("synchronous_commit"), redis=broker.version(),
                    hilos=env.get("WEBHOOKS_HILOS", settings.WEBHOOKS_HILOS),
                    por_endpoint=env.get("WEBHOOKS_POR_ENDPOINT", settings.WEBHOOKS_POR_ENDPOINT),
                    reintento=float(env.get("WEBHOOKS_REINTENTO_INICIAL_SEGUNDOS",
                                            settings.WEBHOOKS_REINTENTO_INICIAL_SEGUNDOS)))
    setup = seed(args.partners)
    connections.close_all()
    receivers = {name: Receiver(name, args.slow_seconds).start() for name in ENDPOINTS}
    try:
        print(f"starting web, worker, beat, relay, consumers and the dispatcher (logs in {log_dir})", file=sys.stderr)
        stack, _ = start(args, env, log_dir, started)
        stack.token = setup.given.token
        register_endpoints(stack, setup, receivers)
        warm_up(stack, setup.given, args.web_workers)
        wait_for_warm_up(stack, setup, receivers, consuming)
        all_ok = {name: HEALTHY for name in ENDPOINTS}
        degraded_modes = {MARCA: HEALTHY, LENTO: SLOW, CAIDO: DEAD}
        phases: list[Phase] = []
        if args.burst:
            batches = [list(range(start_, min(start_ + BURST_BATCH, args.burst)))
                       for start_ in range(0, args.burst, BURST_BATCH)]
            phases.append(run_phase(args, stack, setup, receivers, consuming, "burst", all_ok, list(ENDPOINTS),
                                    batches, BURST_CLIENTS))
        paced = paced_batches(args.rate, args.seconds)
        phases.append(run_phase(args, stack, setup, receivers, consuming, "healthy", all_ok, list(ENDPOINTS), paced, 1,
                                rate=args.rate))
        degraded = run_phase(args, stack, setup, receivers, consuming, "degraded", degraded_modes, [MARCA], paced, 1,
                             rate=args.rate)
        phases.append(degraded)
        if args.recovery_seconds:
            phases.append(recover(args, stack, setup, receivers, degraded))
        analysed = {phase.name: analyse(phase, setup, receivers) for phase in phases}
        log_lines = report_log_lines(stack.children)
        text = summary(args, env_info, consuming, analysed, receivers, setup, log_lines)
    finally:
        for receiver in receivers.values():
            receiver.stop()
    return text, sum(len(lines) for lines in log_lines.values())


def main() -> int:
    args = parse_args()
    refuse_unless_stack_ready("bench/webhooks.py", "without Pulsar there is no relay and no consumer.")
    consuming = consuming_contexts()
    if "webhooks" not in consuming:
        print(f"bench/webhooks.py: the webhooks context does not consume {EVENT}: nothing to measure", file=sys.stderr)
        return 2
    env_info = {"load_before": load_average()}
    broker = BrokerDatabase(args.redis_db, REDIS_MARKER)
    namespace = PulsarNamespace(f"public/bench-webhooks-{uuid.uuid4().hex[:8]}")
    return run_with_stack("bench/webhooks.py", "bench-webhooks-", broker, namespace, DATABASE, True,
                          lambda log_dir, started: run(args, log_dir, started, env_info, broker, namespace, consuming))


if __name__ == "__main__":
    sys.exit(main())
