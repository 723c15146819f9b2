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
import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

import celery  # noqa: E402
import gunicorn  # noqa: E402
import pulsar  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.access.models import Rol, UsuarioCliente  # noqa: E402
from alpespartners.messaging import contexts  # noqa: E402
from alpespartners.messaging.models import CommandLog, OutboxMessage  # noqa: E402
from pagos import postbacks  # noqa: E402
from pagos.models import Click, Transaccion  # noqa: E402
from bench.common import (POLL_SECONDS, START_SECONDS, Answer, BenchError, BrokerDatabase, Child, Client,  # noqa: E402
                          CpuColumn, CpuMeter, PulsarNamespace, Stack, broker_version, command_ids, cpu_table,
                          free_port, heading, load_average, load_note, measure_table, percentile, platform_facts,
                          refuse_unless_stack_ready, report_log_lines, run_clients, run_with_stack,
                          scratch_database_url, server_settings, start_stack, verdict, web_command, worker_command)
from tests import events  # noqa: E402

BENCH_DATABASE = "alpespartners_bench_conversiones"  # not event_store.py's, so both can run
REDIS_MARKER = "alpespartners:bench-conversiones"  # set in --redis-db while a run owns it
RELAY_PRODUCER_NAME = "alpespartners-relay-bench-conversiones"
TARGET_BULK_RATE = 5_000  # conversions/s end to end, the target
STALL_SECONDS = 60  # give up when nothing progresses for this long
COMISIONES = {
    "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}, "CONVERSION": {"tipo": "PORCENTAJE", "valor": "3"},
    "CLICK": {"tipo": "FIJA", "valor": "0.10"}, "IMPRESION": {"tipo": "FIJA", "valor": "0.01"},
}


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


# --- givens: what campanias and cliente publish, as pagos receives it ---------------


@dataclass
class Given:
    token: str
    campaigns: dict[str, uuid.UUID]  # "warm-up", "bulk", "single", "postbacks"
    partners: list[uuid.UUID]
    ocurrida_en: str  # every conversion's time: a minute before the set-up
    clicks: list[uuid.UUID]  # one visitor's click per partner on the "postbacks" campaign, before ocurrida_en
    secreto_postback: str  # the brand's


def deliver(topic: str, envelope: dict) -> None:
    """To every context that keeps a copy from it (pagos, and webhooks, which routes commissions by the
    campaign's brand), through its real consumer path, as if the events had been published."""
    for context in contexts.all_contexts():
        if envelope["type"] in contexts.consumed_types(context, topic):
            events.deliver(context, topic, envelope)


def set_up(partners: int) -> Given:
    # The brand's integration reports conversions: a marca user of the brand of every campaign.
    id_marca = uuid.uuid4()
    user = get_user_model().objects.create_user(username="bench", password=uuid.uuid4().hex)
    UsuarioCliente.objects.create(user=user, id_cliente=id_marca, rol=Rol.MARCA)
    token = Token.objects.create(user=user).key
    hoy = timezone.localdate()
    campaigns = {name: uuid.uuid4() for name in ("warm-up", "bulk", "single", "postbacks")}
    ids_socios = [uuid.uuid4() for _ in range(partners)]
    total = len(campaigns) * (2 + partners) + partners
    with tqdm(total=total, desc="set-up: events delivered to their consumers", unit="ev", file=sys.stderr) as bar:
        for id_campania in campaigns.values():
            deliver("eventos.campanias", events.envelope("CampaniaCreada", id_campania, {
                "id_cliente": str(id_marca), "nombre": "Campaña de prueba",
                "presupuesto": {"valor": "100000000.00", "moneda": "COP"},
                "fecha_inicio": str(hoy - timedelta(days=10)), "fecha_fin": str(hoy + timedelta(days=30)),
                "comisiones": COMISIONES, "dias_retencion": 30,
            }))
            deliver("eventos.campanias", events.envelope("CampaniaAprobada", id_campania, {"id_pago": str(uuid.uuid4())}))
            bar.update(2)
        for id_socio in ids_socios:
            deliver("eventos.cliente", events.cliente_registrado(id_socio, tipo="NATURAL", nombre="Socia"))
            bar.update(1)
            for id_campania in campaigns.values():
                deliver("eventos.campanias", events.envelope("SocioInscrito", id_campania, {"id_socio": str(id_socio)}))
                bar.update(1)
    deliver("eventos.cliente", events.cliente_registrado(id_marca))
    clicked_at = timezone.now() - timedelta(minutes=2)
    clicks = Click.objects.bulk_create(
        Click(id=uuid.uuid4(), tipo="CLICK", codigo=f"bench{n:05d}", id_campania=campaigns["postbacks"], id_socio=id_socio,
              ocurrido_en=clicked_at, facturable=False, motivo="repetido")  # not billed: only postbacks pay here
        for n, id_socio in enumerate(ids_socios))
    secreto = postbacks.rotar(id_marca, revocar_anterior=False, ahora=timezone.now()).secreto
    ocurrida_en = (timezone.now() - timedelta(minutes=1)).isoformat()
    return Given(token, campaigns, ids_socios, ocurrida_en, [click.id for click in clicks], secreto)


def conversion(given: Given, campaign: str, id_externo: str, n: int) -> dict:
    return {"id_externo": id_externo, "id_campania": str(given.campaigns[campaign]),
            "id_socio": str(given.partners[n % len(given.partners)]), "tipo": "CLICK",
            "ocurrida_en": given.ocurrida_en}


# --- the stack ------------------------------------------------------------------


def start(args, env: dict, log_dir: Path, started: list[Child]) -> Stack:
    python, port = sys.executable, free_port()
    stack = Stack(Child("web", web_command(python, port, args.web_workers), env, log_dir),
                  Child("worker", worker_command(python, args.worker_concurrency), env, log_dir),
                  Child("relay", [python, "manage.py", "relay"], env, log_dir), port)
    return start_stack(stack, started)


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


def command_line(args) -> str:
    return (f"python bench/conversiones.py --batches {args.batches} --batch-size {args.batch_size} "
            f"--bulk-clients {args.bulk_clients} --single-seconds {args.single_seconds:g} "
            f"--single-clients {args.single_clients} --partners {args.partners} --web-workers {args.web_workers} "
            f"--worker-concurrency {args.worker_concurrency}")


CPU_CATEGORIES = ["web (gunicorn)", "worker (celery)", "relay", "PostgreSQL (all sessions)", "Pulsar (java)", "Redis",
                  "bench client + poller"]


def cpu_cell(column: CpuColumn, name: str) -> str:
    seconds = column.cpu["used"].get(name, 0.0)
    return f"{seconds:.1f} CPU-s ({seconds / column.cpu['elapsed'] * 100:.0f} % of a core)"


def cpu_lines(bulk: BulkResult, single: SingleResult) -> list[str]:
    columns = [CpuColumn(f"Bulk phase ({bulk.cpu['elapsed']:.1f} s, first request → last published)", bulk.cpu),
               CpuColumn(f"Single phase ({single.cpu['elapsed']:.1f} s sending window)", single.cpu)]
    return cpu_table(columns, CPU_CATEGORIES, cpu_cell)


def count(got: int, want: int) -> tuple[str, str, str]:
    return f"{got:,}", f"{want:,}", verdict(got == want)


@dataclass
class BulkFigures:
    """The bulk phase's durations (from the first request) and rates."""
    e2e_seconds: float
    committed_seconds: float
    accepted_seconds: float

    @classmethod
    def of(cls, bulk: BulkResult) -> "BulkFigures":
        return cls(bulk.published - bulk.started, bulk.committed - bulk.started, bulk.accepted - bulk.started)


@dataclass
class SingleFigures:
    """The single phase's rates."""
    sending: float
    api_rate: float
    worker_rate: float

    @classmethod
    def of(cls, single: SingleResult) -> "SingleFigures":
        sending = single.last_answer - single.started
        return cls(sending, single.accepted / sending, single.completed_in_window / single.seconds)


def bulk_rows(bulk: BulkResult) -> list[tuple[str, ...]]:
    total, figures = bulk.total, BulkFigures.of(bulk)
    e2e_rate = total / figures.e2e_seconds
    bulk_ms = sorted(a.ms for a in bulk.answers)
    gaps = sorted(bulk.completion_gaps_ms)
    lag = bulk.relay_lag_ms
    return [
        ("**Bulk end to end** (first request → last ComisionRegistrada published)",
         f"**{e2e_rate:,.0f} conversions/s** ({total:,} in {figures.e2e_seconds:.2f} s)",
         f"≥ {TARGET_BULK_RATE:,} conversions/s", verdict(e2e_rate >= TARGET_BULK_RATE)),
        ("Bulk to committed (first request → last batch's transaction committed)",
         f"{total / figures.committed_seconds:,.0f} conversions/s ({figures.committed_seconds:.2f} s)", "", ""),
        ("Bulk accepted by the API (first request → last 202)",
         f"{total / figures.accepted_seconds:,.0f} conversions/s ({figures.accepted_seconds:.2f} s, "
         f"{bulk.batches} requests)", "", ""),
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
    ]


def single_rows(single: SingleResult) -> list[tuple[str, ...]]:
    figures = SingleFigures.of(single)
    single_ms = sorted(a.ms for a in single.answers if a.status == 202)
    drained_rate = single.completed_total / (single.last_completed - single.started)
    e2e_rate = single.published_events / (single.last_published - single.started)
    drain = max(single.last_completed - single.window_end, 0)
    return [
        ("**Single: requests accepted by the API** (202, no wait)",
         f"**{figures.api_rate:,.0f} requests/s** ({single.accepted:,} in {figures.sending:.1f} s, "
         f"{single.clients} clients)", "", ""),
        ("Single: request latency p50 / p95 / max",
         f"{percentile(single_ms, .5):.1f} / {percentile(single_ms, .95):.1f} / {single_ms[-1]:.1f} ms", "", ""),
        ("**Single: completed by the worker during the window**",
         f"**{figures.worker_rate:,.0f} commands/s** ({single.completed_in_window:,} COMPLETADO in "
         f"{single.seconds:g} s)", "", ""),
        ("Single: backlog when the clients stopped; time to drain it",
         f"{single.accepted - single.completed_in_window:,} commands; {drain:.1f} s", "", ""),
        ("Single: worker rate over the whole run, drain included", f"{drained_rate:,.0f} commands/s", "", ""),
        ("Single: end to end, first request → last published",
         f"{e2e_rate:,.0f} conversions/s ({single.last_published - single.started:.1f} s)", "", ""),
        ("Single: transactions (Transaccion rows) = accepted", *count(single.transacciones, single.accepted)),
        ("Single: ComisionRegistrada published = accepted", *count(single.published_events, single.accepted)),
        ("Single: commands COMPLETADO = accepted", *count(single.completed_total, single.accepted)),
    ]


def setting_facts(args, env_info: dict) -> str:
    postgres = env_info["postgres"]
    return (
        f"`{command_line(args)}`: {platform_facts()}, gunicorn {gunicorn.__version__} ({args.web_workers} sync "
        f"workers), Celery {celery.__version__} (1 worker, prefork concurrency {args.worker_concurrency}, prefetch "
        f"multiplier {settings.CELERY_WORKER_PREFETCH_MULTIPLIER}, acks_late, log level info), Redis "
        f"{env_info['redis']} as broker, PostgreSQL {postgres['server_version']} (synchronous_commit "
        f"{postgres['synchronous_commit']}, fsync {postgres['fsync']}, shared_buffers {postgres['shared_buffers']}), "
        f"Pulsar broker {broker_version()} (pulsar-client {pulsar.__version__}), relay batch size "
        f"{settings.RELAY_BATCH_SIZE}, relay poll {settings.RELAY_POLL_SECONDS:g} s (woken by NOTIFY), "
        f"DATABASE_CONN_MAX_AGE {settings.DATABASES['default'].get('CONN_MAX_AGE')}; one campaign per phase, "
        f"{args.partners} partners enrolled, CLICK conversions (fixed 0.10 COP); real HTTP to gunicorn on "
        f"127.0.0.1; scratch database `{BENCH_DATABASE}`; {load_note(env_info['load_before'])}")


def comparison(bulk: BulkResult, single: SingleResult) -> list[str]:
    b, s = BulkFigures.of(bulk), SingleFigures.of(single)
    e2e_rate, committed_rate = bulk.total / b.e2e_seconds, bulk.total / b.committed_seconds
    return [
        f"- bulk end to end gives ×{e2e_rate / s.worker_rate:,.1f} the conversions/s of single requests completed "
        f"by the worker ({e2e_rate:,.0f} vs {s.worker_rate:,.0f}/s), and ×{e2e_rate / s.api_rate:,.1f} the rate at "
        f"which the API accepts single requests ({s.api_rate:,.0f}/s)",
        f"- bulk: publishing adds {b.e2e_seconds - b.committed_seconds:.2f} s after the last commit "
        f"({(b.e2e_seconds - b.committed_seconds) / b.e2e_seconds * 100:.0f} % of the end-to-end time); "
        f"committed-only rate is ×{committed_rate / e2e_rate:.2f} the end-to-end rate",
        f"- bulk: the API had accepted every batch {b.accepted_seconds:.2f} s after the first request "
        f"({b.accepted_seconds / b.e2e_seconds * 100:.0f} % of the end-to-end time)",
        f"- single: the worker completes {s.worker_rate / s.api_rate * 100:.0f} % of what the API accepts "
        f"({s.worker_rate:,.0f} vs {s.api_rate:,.0f}/s)",
    ]


def summary(args, env_info: dict, bulk: BulkResult, single: SingleResult, log_lines: dict[str, list[str]]) -> str:
    errors = sum(len(lines) for lines in log_lines.values())
    rows = [*bulk_rows(bulk), *single_rows(single),
            ("Errors in the child processes' logs (ERROR, CRITICAL, Traceback)", f"{errors}", "0", verdict(errors == 0))]
    lines = [
        heading("Conversions benchmark"), "", setting_facts(args, env_info), "",
        *measure_table(rows), "",
        "CPU used during each phase (from /proc; PostgreSQL, Pulsar and the machine total include other "
        "people's processes):", "",
        *cpu_lines(bulk, single), "",
        "Same-run comparison:", "",
        *comparison(bulk, single),
    ]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------


def run(args, log_dir: Path, started: list[Child], env_info: dict, broker: BrokerDatabase,
        namespace: PulsarNamespace) -> tuple[str, int]:
    env_info["postgres"] = server_settings("synchronous_commit", "fsync", "shared_buffers")
    env_info["redis"] = broker.version()
    given = set_up(args.partners)
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database_url(BENCH_DATABASE),
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PULSAR_NAMESPACE": namespace.name,
        "RELAY_PRODUCER_NAME": RELAY_PRODUCER_NAME,
        "PYTHONUNBUFFERED": "1",
    }
    connections.close_all()
    print(f"starting web, worker and relay (logs in {log_dir})", file=sys.stderr)
    stack = start(args, env, log_dir, started)
    stack.token = given.token
    warm_up(stack, given, args.web_workers)
    bulk = measure_bulk(args, stack, given)
    single = measure_single(args, stack, given)
    log_lines = report_log_lines(stack.children)
    return summary(args, env_info, bulk, single, log_lines), sum(len(lines) for lines in log_lines.values())


def main() -> int:
    args = parse_args()
    refuse_unless_stack_ready("bench/conversiones.py", "without Pulsar there is no relay, and nothing is published.")
    env_info = {"load_before": load_average()}
    broker = BrokerDatabase(args.redis_db, REDIS_MARKER)
    namespace = PulsarNamespace(f"public/bench-conversiones-{uuid.uuid4().hex[:8]}")
    return run_with_stack("bench/conversiones.py", "bench-conversiones-", broker, namespace, BENCH_DATABASE, True,
                          lambda log_dir, started: run(args, log_dir, started, env_info, broker, namespace))


if __name__ == "__main__":
    sys.exit(main())
