"""Benchmark of tracking-link clicks (GET /t/{codigo}) with the whole stack running, for docs/PERFORMANCE.md.

Real HTTP on 127.0.0.1, with every long-running process of `make stack` (the Procfile) started by
this script as a child against a scratch database of its own: the web server (gunicorn as the
Procfile runs it: gthread workers, the project's conf) serving bench/bare_wsgi.py, the project plus a
bare view (/t-bare/{codigo}) that only returns the same redirect; a Celery worker; Celery beat
(the settings' django-celery-beat scheduler: the row of pagos/migrations/0011 bills the billable
clicks into CLICK commissions every 5 s); the relay (`manage.py relay`: the commissions'
ComisionRegistrada to Pulsar); and the consumers (`manage.py consume <context>`, one process per
context as in the Procfile). Billing runs beside the clicks, as it does for a user. In one run:
0. warm-up: 5 s of clicks on links of their own, waited for until billed and their events
   applied, so the whole path is loaded and idle when phase 1 starts;
1. bare: K clients request /t-bare/ back to back for S seconds: the bare view's maximum rate;
2. clicks: the same on /t/ (link lookup, bot check, Redis repeat check, buffered row): its rate;
3. paced: /t/ at half the bare rate, requests sent on a schedule: p50/p99 latency;
4. the web server is stopped with SIGTERM and the rows counted: clicks recorded = 302s answered;
5. billing: waited for from that stop; how long after the phases' last click every billable click
   of phases 2-3 was billed (Click.facturado_en), and every resulting ComisionRegistrada published
   (the outbox row's published_at) and applied by each context that consumes it (its inbox rows);
   billed clicks/s from phase 2's start to the last click billed; each click's wait to be billed
   (p50/p99/max); the clicks by billability and by what billing made of them (a commission, or
   Click.rechazo).
CPU by process for phases 1, 2 and 3, and for 5 when billing had clicks left at the stop (from
the stop until every event is applied).

Visits rotate over --user-agents distinct browser strings (real traffic repeats a few thousand; the
bot check caches its answer per user agent) and over the links, and every visit of a run is a
(link, user agent) pair of its own: a new visitor, so billable (a repeat within
CLICKS_REPETICION_SEGUNDOS is not). Every click asks Redis whether it is a repeat. Each campaign
is APROBADA, pays a fixed CLICK commission out of a budget no run exhausts, and its partners (one
per link) are registered ACTIVO and enrolled, as pagos knows them from cliente's and campanias'
events.

Needs PostgreSQL (a role that may create databases), Redis and Pulsar:

    DATABASE_URL=... CELERY_BROKER_URL=redis://... PULSAR_URL=... .venv/bin/python bench/clicks.py \\
        [--seconds 10] [--clients 8] [--workers 2] [--worker-concurrency 2] [--links 100] \\
        [--user-agents 2000] [--redis-db 12] [--max-seconds 300]

Isolation: the scratch database `alpespartners_bench_clicks` is created, migrated and dropped at
the end; the Celery broker and the cache (the repeat check's keys) are a Redis database of its own
(--redis-db, emptied at the end); relay and consumers use a fresh Pulsar namespace
(public/bench-clicks-<run>), deleted with its topics at the end. Every child runs in its own
process group, stopped at the end even on error. Progress goes to stderr; stdout gets only a
Markdown summary.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

import celery  # noqa: E402
import gunicorn  # noqa: E402
import pulsar  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.messaging import contexts  # noqa: E402
from bench.common import (COMMISSION_EVENT, HOST, POLL_SECONDS, PROJECT_PROCESSES, BenchError,  # noqa: E402
                          BrokerDatabase, Child, CpuColumn, CpuMeter, Progress, PulsarNamespace, Stack, beat_command,
                          broker_version, consuming_contexts, cpu_cell, cpu_table, cpu_total, free_port, heading,
                          load_average, load_note, measure_table, percentile, phase_progress, platform_facts,
                          refuse_unless_stack_ready, report_log_lines, run_with_stack, server_settings, stack_env,
                          start_stack, verdict, web_command, worker_command)
from pagos.domain import EstadoCampania, EstadoCliente  # noqa: E402
from pagos.models import CampaniaLocal, ClienteLocal, Click, EnlaceLocal, SocioCampaniaLocal  # noqa: E402
from webhooks import models as webhooks_models  # noqa: E402

DATABASE = "alpespartners_bench_clicks"
REDIS_MARKER = "alpespartners:bench-clicks"  # set in --redis-db while a run owns it
RELAY_PRODUCER_NAME = "alpespartners-relay-bench-clicks"
MAX_REQUESTS = 1_000_000  # a bound whatever the machine's speed
WARM_UP_SECONDS = 5
STALL_SECONDS = 60  # billing gives up when nothing progresses for this long (beat bills every 5 s)
COMISIONES = {"CLICK": {"tipo": "FIJA", "valor": "0.10"}}
PRESUPUESTO = Decimal("100000000.00")  # a million clicks at 0.10 use a thousandth of it
CPU_CATEGORIES = ["web (gunicorn)", "worker (celery)", "beat (celery)", "relay", "consumers",
                  "PostgreSQL (all sessions)", "Pulsar (java)", "Redis", "bench client + poller"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (threads)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the Procfile runs 2)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--user-agents", type=int, default=2000, help="distinct user agents the visits rotate over")
    parser.add_argument("--redis-db", type=int, default=12, help="Redis database of this run's broker and cache")
    parser.add_argument("--max-seconds", type=float, default=300,
                        help="time limit of the billing phase (and of the wait for the warm-up's billing)")
    args = parser.parse_args()
    if args.seconds < 1 or args.clients < 1 or args.links < 1 or args.user_agents < 1 or args.max_seconds < 10:
        parser.error("need --seconds ≥ 1, --clients ≥ 1, --links ≥ 1, --user-agents ≥ 1, --max-seconds ≥ 10")
    return args


def seed(links: int) -> tuple[uuid.UUID, list[str]]:
    """A campaign paying CLICK commissions and `links` links of as many partners, each registered
    ACTIVO and enrolled (what billing checks), written straight into the consumers' copies; returns the
    campaign and the links' codes."""
    hoy = timezone.localdate()
    id_campania, id_marca = uuid.uuid4(), uuid.uuid4()
    CampaniaLocal.objects.create(
        id=id_campania, id_marca=id_marca, estado=EstadoCampania.APROBADA.value,
        fecha_inicio=hoy - timedelta(days=10), fecha_fin=hoy + timedelta(days=30), moneda="COP",
        presupuesto=PRESUPUESTO, presupuesto_disponible=PRESUPUESTO, comisiones=COMISIONES, dias_retencion=30,
        url_destino="https://tienda.co/zapatos?utm_source=alpes")
    # webhooks routes the commissions by the campaign's brand: its copy too, as CampaniaCreada leaves it
    webhooks_models.CampaniaLocal.objects.create(id=id_campania, id_marca=id_marca)
    socios = [uuid.uuid4() for _ in range(links)]
    ClienteLocal.objects.bulk_create([ClienteLocal(id=id_socio, estado=EstadoCliente.ACTIVO.value)
                                      for id_socio in socios])
    SocioCampaniaLocal.objects.bulk_create([SocioCampaniaLocal(id_campania=id_campania, id_socio=id_socio)
                                            for id_socio in socios])
    codigos = [uuid.uuid4().hex[:11] for _ in range(links)]
    EnlaceLocal.objects.bulk_create([EnlaceLocal(codigo=codigo, id_campania=id_campania, id_socio=id_socio)
                                     for codigo, id_socio in zip(codigos, socios)])
    return id_campania, codigos


def start(args, env: dict, log_dir: Path, started: list[Child]) -> Stack:
    python, port = sys.executable, free_port()

    def child(name: str, command: list[str], **extra: str) -> Child:
        return Child(name, command, {**env, **extra}, log_dir)

    # The web server as before, without a log line per request (LOG_LEVEL), so its figures compare
    # with the earlier runs'.
    web = child("web", web_command(python, port, args.workers, "-c", "python:alpespartners.gunicorn_conf",
                                   app="bench.bare_wsgi:application"), LOG_LEVEL="WARNING")
    consumers = [child(f"consumer-{name}", [python, "manage.py", "consume", name]) for name in contexts.all_contexts()]
    stack = Stack(web, child("worker", worker_command(python, args.worker_concurrency)),
                  child("relay", [python, "manage.py", "relay"]), port, consumers=consumers,
                  beat=child("beat", beat_command(python)))
    return start_stack(stack, started)


# --- the clicks -----------------------------------------------------------------


class Counter:
    def __init__(self):
        self.lock, self.value = threading.Lock(), 0

    def next(self) -> int:
        with self.lock:
            self.value += 1
            return self.value


def visitor(n: int, links: int, user_agents: int) -> tuple[int, int]:
    """Visit n's link and user agent: both change at every visit, and any links × user_agents
    visits in a row are as many different pairs, so none is a repeat of another."""
    rounds, agent = divmod(n, user_agents)
    return (agent + rounds) % links, agent


@dataclass
class Phase:
    latencies: list[float]  # ms, sorted
    statuses: dict[int, int]
    elapsed: float
    cpu: dict

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


def run_phase(stack: Stack, label: str, prefix: str, codigos: list[str], visits: Counter, clients: int,
              seconds: float, user_agents: int, rate: float | None = None) -> Phase:
    """`clients` threads GET {prefix}{codigo} until `seconds` pass (or MAX_REQUESTS), back to back
    or, with `rate`, each request at its scheduled time; each request is the next visit of the run."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    first = visits.value  # no client runs yet
    meter = CpuMeter(stack)
    started = time.monotonic()
    deadline = started + seconds

    def work():
        connection = http.client.HTTPConnection(HOST, stack.port, timeout=30)
        mine, codes = [], {}
        while True:
            n = visits.next()
            if rate is not None:
                at = started + (n - first) / rate
                if at >= deadline:
                    break
                time.sleep(max(0.0, at - time.monotonic()))
            elif time.monotonic() >= deadline:
                break
            if n - first > MAX_REQUESTS:
                break
            link, agent = visitor(n, len(codigos), user_agents)
            user_agent = f"Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0 bench/{agent}"
            sent = time.monotonic()
            try:
                connection.request("GET", f"{prefix}{codigos[link]}", headers={"User-Agent": user_agent})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                codes[0] = codes.get(0, 0) + 1
                continue
            mine.append((time.monotonic() - sent) * 1000)
            codes[response.status] = codes.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    with tqdm(total=round(seconds), desc=label, unit="s", file=sys.stderr, leave=False) as bar:
        while any(thread.is_alive() for thread in threads):
            bar.set_postfix(requests=visits.value - first)
            bar.update(min(round(time.monotonic() - started), bar.total) - bar.n)
            time.sleep(POLL_SECONDS)
    elapsed = time.monotonic() - started
    cpu = meter.stop()
    stack.check_alive()
    return Phase(sorted(latencies), statuses, elapsed, cpu)


# --- billing --------------------------------------------------------------------


def wait_until_billed(children: list[Child], id_campania: uuid.UUID, consuming: list[str], rows: int,
                      max_seconds: float, label: str) -> str:
    """Poll until the campaign has at least `rows` clicks, every billable one billed, and every
    commission's event published and applied by each consuming context. Returns why it gave up
    ("" when done): the time limit, or nothing progressing for STALL_SECONDS."""
    clicks = Click.objects.filter(id_campania=id_campania)
    deadline = time.monotonic() + max_seconds
    last_values, last_progress = None, time.monotonic()
    with tqdm(desc=f"{label}: billing and its events", unit="poll", file=sys.stderr, leave=False) as bar:
        while True:
            for child in children:
                child.check_alive()
            counts = clicks.aggregate(recorded=Count("id"), billable=Count("id", filter=Q(facturable=True)),
                                      billed=Count("id", filter=Q(facturable=True, facturado_en__isnull=False)))
            progress = phase_progress(0, id_campania, consuming)
            values = (*counts.values(), progress.events, progress.published, *progress.applied.values())
            bar.set_postfix(**counts, events=progress.events, published=progress.published,
                            **{f"applied_{c}": n for c, n in progress.applied.items()})
            bar.update()
            if (counts["recorded"] >= rows and counts["billed"] == counts["billable"]
                    and progress.published == progress.events
                    and all(applied == progress.events for applied in progress.applied.values())):
                return ""
            now = time.monotonic()
            if values != last_values:
                last_values, last_progress = values, now
            elif now - last_progress > STALL_SECONDS:
                return f"nothing progressed for {STALL_SECONDS} s"
            if now > deadline:
                return f"--max-seconds {max_seconds:g} reached"
            time.sleep(POLL_SECONDS)


@dataclass
class Billing:
    """What billing made of phases 2-3's clicks, read once all of them were billed and applied (or
    the wait gave up)."""

    first_click: datetime  # phase 2's start
    last_click: datetime | None  # the phases' last click (its ocurrido_en)
    stopped: datetime  # the web server's stop: every click of the phases written by then
    gave_up: str  # why the wait ended early, "" when everything was billed and applied
    billable: int
    backlog: int  # billable clicks not billed yet at the stop
    last_billed: datetime | None  # None while a billable click waits
    lags: list[float]  # seconds from each billed click to its billing, sorted
    outcomes: dict[str, int]  # every recorded click of the phases, by what became of it
    progress: Progress
    cpu: dict

    def after_last_click(self, moment: datetime | None) -> str:
        if moment is None or self.last_click is None:
            return "not reached"
        return f"{(moment - self.last_click).total_seconds():.2f} s"

    def rate(self) -> str:
        """Every billable click over the time from phase 2's start to the last one billed."""
        if self.last_billed is None:
            return "–"
        return f"{self.billable / (self.last_billed - self.first_click).total_seconds():,.0f} billed clicks/s"


def measure_billing(args, stack: Stack, id_campania: uuid.UUID, consuming: list[str], first_click: datetime,
                    stopped: datetime, meter: CpuMeter) -> Billing:
    clicks = Click.objects.filter(id_campania=id_campania)
    running = [child for child in stack.children if child is not stack.web]  # stopped for the recount
    gave_up = wait_until_billed(running, id_campania, consuming, 0, args.max_seconds, "billing")
    cpu = meter.stop()
    billable, billed = clicks.filter(facturable=True), clicks.filter(facturable=True, facturado_en__isnull=False)
    outcomes = {}
    for row in billed.values("rechazo").annotate(n=Count("id")):
        outcomes[f"billed: refused, {row['rechazo']}" if row["rechazo"] else "billed: CLICK commission"] = row["n"]
    waiting = billable.filter(facturado_en__isnull=True).count()
    if waiting:
        outcomes["billable, not billed"] = waiting
    for row in clicks.filter(facturable=False).values("motivo").annotate(n=Count("id")):
        outcomes[f"not billable: {row['motivo']}"] = row["n"]
    lags = billed.annotate(lag=ExpressionWrapper(F("facturado_en") - F("ocurrido_en"), output_field=DurationField()))
    return Billing(first_click, clicks.aggregate(last=Max("ocurrido_en"))["last"], stopped, gave_up,
                   billable.count(), billable.exclude(facturado_en__lte=stopped).count(),
                   None if waiting else billed.aggregate(last=Max("facturado_en"))["last"],
                   sorted(lag.total_seconds() for lag in lags.values_list("lag", flat=True)), outcomes,
                   phase_progress(0, id_campania, consuming), cpu)


# --- report ---------------------------------------------------------------------


def command_line(args) -> str:
    return (f"python bench/clicks.py --seconds {args.seconds:g} --clients {args.clients} --workers {args.workers} "
            f"--worker-concurrency {args.worker_concurrency} --links {args.links} --user-agents {args.user_agents} "
            f"--max-seconds {args.max_seconds:g}")


def describe(name: str, phase: Phase) -> tuple[str, ...]:
    return (name, f"{len(phase.latencies)}", f"{phase.rate:.0f}/s", f"{percentile(phase.latencies, 0.5):.1f} ms",
            f"{percentile(phase.latencies, 0.99):.1f} ms",
            ", ".join(f"{k}: {v}" for k, v in sorted(phase.statuses.items())))


def billing_rows(billing: Billing, recorded: int, consuming: list[str]) -> list[tuple[str, ...]]:
    progress = billing.progress
    commissions = billing.outcomes.get("billed: CLICK commission", 0)
    stopped = f" — gave up: {billing.gave_up}" if billing.gave_up else ""
    arrival = recorded / (billing.stopped - billing.first_click).total_seconds()
    lags = (f"{percentile(billing.lags, .5):.2f} / {percentile(billing.lags, .99):.2f} / {billing.lags[-1]:.2f} s"
            if billing.lags else "–")
    rows = [
        (f"**Billing** (beat every 5 s → worker, up to 500 clicks per transaction) of phases 2-3's "
         f"{billing.billable:,} billable clicks: {billing.billable - billing.backlog:,} billed while they came, "
         f"{billing.backlog:,} after the web server's stop{stopped}", "", "", ""),
        ("last click → every billable click billed (Click.facturado_en)",
         f"{billing.after_last_click(billing.last_billed)}: **{billing.rate()}** from phase 2's start to the last "
         f"one billed (the clicks came at {arrival:,.0f}/s until the stop)", "", ""),
        ("click → billed (facturado_en − ocurrido_en), p50 / p99 / max", lags, "", ""),
        ("billable clicks billed with a CLICK commission", f"{commissions:,} of {billing.billable:,}", "all",
         verdict(commissions == billing.billable)),
        (f"last click → every {COMMISSION_EVENT} published",
         f"{billing.after_last_click(progress.last_published)} ({progress.published:,} of {progress.events:,})",
         "", ""),
    ]
    for context in consuming:
        rows.append((f"last click → every {COMMISSION_EVENT} applied by **{context}**",
                     f"**{billing.after_last_click(progress.last_applied[context])}** "
                     f"({progress.applied[context]:,} of {progress.events:,})", "all, within --max-seconds",
                     verdict(not billing.gave_up and progress.applied[context] == progress.events == commissions)))
    return rows


def facts(args, env_info: dict, consuming: list[str]) -> str:
    database = env_info["postgres"]
    return (
        f"{platform_facts()}; gunicorn {gunicorn.__version__} ({args.workers} gthread workers of 4 threads, "
        f"alpespartners.gunicorn_conf, LOG_LEVEL=WARNING), Celery {celery.__version__} (1 worker, prefork concurrency "
        f"{args.worker_concurrency}; beat with django-celery-beat's database scheduler), the relay, one `manage.py "
        f"consume <context>` per context (those that apply {COMMISSION_EVENT}: {', '.join(consuming)}); Redis "
        f"{env_info['redis']} as broker and cache, PostgreSQL {database['server_version']} (synchronous_commit "
        f"{database['synchronous_commit']}), Pulsar broker {broker_version()} (pulsar-client {pulsar.__version__}). "
        f"{args.clients} clients, {args.seconds:g} s per phase, {args.links} links, {args.user_agents} user agents. "
        f"{load_note(env_info['load_before'])}")


def summary(args, env_info: dict, consuming: list[str], bare: Phase, clicks: Phase, paced: Phase, half: float,
            recorded: int, redirected: int, billing: Billing, log_lines: dict[str, list[str]]) -> str:
    p99 = percentile(paced.latencies, 0.99)
    errors = sum(len(lines) for lines in log_lines.values())
    columns = [CpuColumn(f"Bare: per request ({len(bare.latencies):,} in {bare.elapsed:.1f} s)", bare.cpu,
                         len(bare.latencies)),
               CpuColumn(f"Clicks: per click ({len(clicks.latencies):,} in {clicks.elapsed:.1f} s)", clicks.cpu,
                         len(clicks.latencies)),
               CpuColumn(f"Paced: per click ({len(paced.latencies):,} in {paced.elapsed:.1f} s)", paced.cpu,
                         len(paced.latencies))]
    if billing.backlog:  # billing may have kept up: then nothing is left to measure after the stop
        columns.append(CpuColumn(f"Billing: per click billed after the stop ({billing.backlog:,} in "
                                 f"{billing.cpu['elapsed']:.1f} s, stop → last applied)", billing.cpu,
                                 billing.backlog))
    lines = [
        heading("Clicks (bench/clicks.py)"), "", f"`{command_line(args)}`", "", facts(args, env_info, consuming), "",
        *measure_table([describe("bare redirect", bare), describe("recorded click", clicks),
                        describe(f"recorded click paced at {half:.0f}/s", paced)],
                       "| Phase | Requests | Rate | p50 | p99 | Statuses |"), "",
        *measure_table([
            ("clicks/s against the bare view's", f"{clicks.rate / bare.rate:.0%}", "≥ 50 %",
             verdict(clicks.rate >= bare.rate / 2)),
            ("p99 at half the bare rate", f"{p99:.1f} ms", "≤ 20 ms", verdict(p99 <= 20)),
            ("clicks recorded / redirects answered", f"{recorded} / {redirected}", "equal",
             verdict(recorded == redirected)),
            *billing_rows(billing, recorded, consuming),
            ("Errors in the child processes' logs (ERROR, CRITICAL, FATAL, Traceback)",
             ", ".join(f"{name} {len(lines)}" for name, lines in log_lines.items()), "0", verdict(errors == 0)),
        ]), "",
        *measure_table(sorted(((outcome, f"{count:,}") for outcome, count in billing.outcomes.items()),
                              key=lambda row: row[0]),
                       "| Clicks of phases 2-3, at the end | Count |"), "",
        "CPU by process (from /proc; PostgreSQL, Pulsar and the machine total include other people's processes; "
        "PostgreSQL includes this script's polling queries):", "",
        *cpu_table(columns, CPU_CATEGORIES, cpu_cell, (("**project processes**", cpu_total(PROJECT_PROCESSES)),
                                                       ("**all of the above**", cpu_total(CPU_CATEGORIES)))),
    ]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------


def run(args, log_dir: Path, started: list[Child], env_info: dict, broker: BrokerDatabase,
        namespace: PulsarNamespace, consuming: list[str]) -> tuple[str, int]:
    env = stack_env(DATABASE, broker, namespace, RELAY_PRODUCER_NAME)
    env_info["postgres"] = server_settings("synchronous_commit")
    env_info["redis"] = broker.version()
    (warm_campaign, warm_codigos), (id_campania, codigos) = seed(args.links), seed(args.links)
    connections.close_all()
    print(f"starting web, worker, beat, relay and consumers (logs in {log_dir})", file=sys.stderr)
    stack = start(args, env, log_dir, started)
    visits = Counter()
    # Imports, connections, link cache, the bot check's answers, and billing through the consumers.
    warm = run_phase(stack, "warm-up", "/t/", warm_codigos, visits, args.clients, WARM_UP_SECONDS, args.user_agents)
    gave_up = wait_until_billed(stack.children, warm_campaign, consuming, warm.statuses.get(302, 0),
                                args.max_seconds, "warm-up")
    if gave_up:
        raise BenchError(f"the warm-up's clicks were not billed and applied: {gave_up}")
    bare = run_phase(stack, "phase 1: bare redirect", "/t-bare/", codigos, visits, args.clients, args.seconds,
                     args.user_agents)
    first_click = timezone.now()
    clicks = run_phase(stack, "phase 2: recorded clicks", "/t/", codigos, visits, args.clients, args.seconds,
                       args.user_agents)
    half = bare.rate / 2
    paced = run_phase(stack, f"phase 3: recorded clicks paced at {half:.0f}/s", "/t/", codigos, visits,
                      args.clients * 4, args.seconds, args.user_agents, rate=half)
    stack.web.stop()  # SIGTERM: the workers write what they buffered
    stopped = timezone.now()
    meter = CpuMeter(stack)
    connections.close_all()  # idle through the phases: a fresh connection for the count
    recorded = Click.objects.filter(id_campania=id_campania).count()
    redirected = clicks.statuses.get(302, 0) + paced.statuses.get(302, 0)
    billing = measure_billing(args, stack, id_campania, consuming, first_click, stopped, meter)
    log_lines = report_log_lines(stack.children)
    return (summary(args, env_info, consuming, bare, clicks, paced, half, recorded, redirected, billing, log_lines),
            sum(len(lines) for lines in log_lines.values()))


def main() -> int:
    args = parse_args()
    refuse_unless_stack_ready("bench/clicks.py", "without Pulsar no relay or consumer takes billing's events.")
    consuming = consuming_contexts()
    env_info = {"load_before": load_average()}
    broker = BrokerDatabase(args.redis_db, REDIS_MARKER)
    namespace = PulsarNamespace(f"public/bench-clicks-{uuid.uuid4().hex[:8]}")
    return run_with_stack("bench/clicks.py", "bench-clicks-", broker, namespace, DATABASE, True,
                          lambda log_dir, started: run(args, log_dir, started, env_info, broker, namespace, consuming))


if __name__ == "__main__":
    sys.exit(main())
