"""Benchmark of the whole event pipeline, for docs/PERFORMANCE.md.

API → Celery worker → transactions committed with their outbox rows → relay → Pulsar →
consumers → the consuming contexts' inbox and effects, with every long-running process of
`make stack` started by this script as a child against a scratch database of its own: the web
server (gunicorn with the Procfile's configuration, 2 workers), one Celery worker (concurrency 2),
the relay (`manage.py relay`) and the consumers (`manage.py consume`: one process for every
context, or with `--consumers per-context` one process per context). Beat is not started: its
periodic tasks (purge, payout cycle, saga timeouts) are not part of this path. In one run:
1. bulk: --batches × 1,000 CLICK conversions POSTed to /api/v1/pagos/conversiones/lote by 4
   client threads (no `Prefer: wait`), timed from the first request until (a) every batch's
   transactions committed, (b) every ComisionRegistrada is published, (c) every context that
   consumes ComisionRegistrada has applied them (its inbox rows). Target: (c) within 1.5 × (a).
2. steady: a paced source of --steady-rate conversions/s (small batches every 100 ms from one
   thread) for --steady-seconds; latency per event and consuming context from commit (the
   outbox row's created_at, inserted in the committing transaction) to applied (the context's
   inbox row's received_at): p50 / p99 / max. Target: p99 ≤ 50 ms.
3. single: --single-clients threads POST /api/v1/pagos/conversiones one after another (202, no
   wait) for --single-seconds: accepted/s, completed/s (commands COMPLETADO in the window), and
   CPU per conversion by process, measured from the phase's start until its last event has been
   applied by every consuming context.
4. postbacks: the same as single, as a brand's server sends it: POST /api/v1/pagos/postbacks with
   the brand's postback secret (X-Alpes-Token) and a visitor's click id instead of campaign and
   partner (one click per partner, made at set-up). Same conversions, same clients, same length,
   so its figures sit next to single's (issue 14: "the same speed as the single-conversion path").
A phase that does not finish within --max-seconds is reported as missed with what it reached;
the next phase first waits (again at most --max-seconds) for the backlog to drain, and says so
when it starts with one. `--phases single,postbacks` (or any subset of bulk,steady,single,postbacks)
runs only some.

Needs PostgreSQL (a role that may create databases), Redis and Pulsar:

    DATABASE_URL=... CELERY_BROKER_URL=... PULSAR_URL=... \\
        .venv/bin/python bench/pipeline.py [--batches 20] [--steady-rate 200] [--steady-seconds 20] \\
        [--single-seconds 30] [--single-clients 4] [--consumers all|per-context] [--code PATH]

A/B: `--code PATH` runs the children, and the scratch database's `migrate`, from another
checkout of the project (e.g. `git worktree add /tmp/before <commit>` with the same virtualenv
linked as PATH/.venv). This process keeps importing /work/main's models, so it only reads columns
both versions have, and the contexts that consume ComisionRegistrada are read from this
checkout's code for both runs (older consumers also recorded inbox rows for the types they
ignore).

Isolation: the scratch database `alpespartners_bench_pipeline` is created, migrated by a child
`manage.py migrate` of the code under test, and dropped at the end; the Celery broker and the web
processes' cache (throttling counters) are a Redis database of its own (--redis-db, emptied at the
end); relay and consumers use a fresh Pulsar namespace (public/bench-pipeline-<run>, deduplication
on), deleted with its topics at the end. The API's per-user throttle is raised for the children
(API_THROTTLE_USER), so the benchmark measures the pipeline, not the rate limit. Every child runs
in its own process group, stopped at the end even on error. Traffic goes to 127.0.0.1 only.
Progress goes to stderr; stdout gets only a Markdown summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

# First: importing conversiones.py runs django.setup().
from bench.conversiones import Given, conversion, set_up, warm_up  # noqa: E402

import celery  # noqa: E402
import gunicorn  # noqa: E402
import pulsar  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.messaging import contexts  # noqa: E402
from alpespartners.messaging.models import CommandLog, InboxMessage, OutboxMessage  # noqa: E402
from bench.common import (COMMISSION_EVENT as EVENT, POLL_SECONDS, PROJECT_PROCESSES, START_SECONDS,  # noqa: E402
                          Answer, BenchError, BrokerDatabase, Child, Client, CpuColumn, CpuMeter, Progress,
                          PulsarNamespace, Stack, broker_version, command_ids, consuming_contexts, cpu_cell, cpu_table,
                          cpu_total, free_port, heading, inbox_table, load_average, load_note, measure_table,
                          outbox_table, percentile, phase_progress, platform_facts, refuse_unless_stack_ready,
                          report_log_lines, run_clients, run_with_stack, server_settings,
                          settle, stack_env, start_stack, verdict, web_command, work_left, worker_command)
from pagos.models import Transaccion  # noqa: E402

BENCH_DATABASE = "alpespartners_bench_pipeline"  # not conversiones.py's nor event_store.py's
REDIS_MARKER = "alpespartners:bench-pipeline"  # set in --redis-db while a run owns it
RELAY_PRODUCER_NAME = "alpespartners-relay-bench-pipeline"
STALL_SECONDS = 60  # a phase gives up when nothing progresses for this long
MIGRATE_SECONDS = 600
STEADY_INTERVAL = 0.1  # seconds between the steady source's batches
TARGET_BULK_FACTOR = 1.5  # every consumer done within 1.5 × the time to commit
TARGET_STEADY_P99_MS = 50
TARGET_SINGLE_COMPLETED = 0.95
# Postbacks go the single path plus a secret and a click to look up (issue 14: "the same speed"),
# within what two phases of one run differ by on this shared machine.
TARGET_POSTBACKS_RATIO = 0.90
CPU_CATEGORIES = ["web (gunicorn)", "worker (celery)", "relay", "consumers", "PostgreSQL (all sessions)",
                  "Pulsar (java)", "Redis", "bench client + poller"]


PHASES = ["bulk", "steady", "single", "postbacks"]


# --- set-up ---------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20, help="batches of the bulk phase")
    parser.add_argument("--batch-size", type=int, default=1_000, help="conversions per bulk batch (at most 1,000)")
    parser.add_argument("--bulk-clients", type=int, default=4, help="concurrent client threads of the bulk phase")
    parser.add_argument("--steady-rate", type=float, default=200, help="conversions/s of the steady phase's source")
    parser.add_argument("--steady-seconds", type=float, default=20, help="duration of the steady phase's source")
    parser.add_argument("--single-seconds", type=float, default=30, help="duration of the single phase")
    parser.add_argument("--single-clients", type=int, default=4, help="concurrent client threads of the single phase")
    parser.add_argument("--partners", type=int, default=100, help="partners enrolled in each campaign")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (the Procfile's 2)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--consumers", choices=["all", "per-context"], default="all",
                        help="one `manage.py consume` for every context, or one process per context")
    parser.add_argument("--redis-db", type=int, default=13, help="Redis database of this run's broker and cache")
    parser.add_argument("--code", type=Path, default=REPO,
                        help="checkout of the project the children (and migrate) run from; default this one")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"the phases to run, comma-separated, in this order: {','.join(PHASES)}")
    parser.add_argument("--max-seconds", type=float, default=300,
                        help="time limit of each phase, its drain included (and of each wait for a backlog)")
    args = parser.parse_args()
    if not 1 <= args.batch_size <= 1_000 or args.batches < 1 or args.bulk_clients < 1 or args.single_clients < 1:
        parser.error("need 1 ≤ --batch-size ≤ 1000, --batches ≥ 1, --bulk-clients ≥ 1, --single-clients ≥ 1")
    if args.single_seconds < 1 or args.steady_seconds < 1 or args.steady_rate <= 0 or args.partners < 1:
        parser.error("need --single-seconds ≥ 1, --steady-seconds ≥ 1, --steady-rate > 0, --partners ≥ 1")
    if args.max_seconds < 10:
        parser.error("need --max-seconds ≥ 10")
    args.phases = [phase.strip() for phase in args.phases.split(",") if phase.strip()]
    if not args.phases or set(args.phases) - set(PHASES):
        parser.error(f"--phases takes {', '.join(PHASES)}, comma-separated")
    args.code = args.code.resolve()
    if not (args.code / "manage.py").is_file():
        parser.error(f"--code {args.code}: no manage.py there")
    return args


def code_python(code: Path) -> str:
    candidate = code / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def code_revision(code: Path) -> str:
    """`<short commit>` of the checkout, `+ uncommitted changes` when it has some (read-only git)."""
    try:
        commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "?"
        dirty = subprocess.run(["git", "--no-optional-locks", "-C", str(code), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} + uncommitted changes" if dirty else commit


# --- child processes ------------------------------------------------------------


def migrate(args, env: dict, log_dir: Path, started: list[Child]) -> None:
    print(f"migrating the scratch database {BENCH_DATABASE} with {args.code}", file=sys.stderr)
    child = Child("migrate", [code_python(args.code), "manage.py", "migrate", "--noinput"], env, log_dir,
                  cwd=args.code)
    started.append(child.start())
    try:
        code = child.popen.wait(MIGRATE_SECONDS)
    except subprocess.TimeoutExpired:
        raise BenchError(f"migrate did not finish within {MIGRATE_SECONDS} s; see {child.log_path}") from None
    if code != 0:
        raise BenchError(f"migrate exited with code {code}; see {child.log_path}")


def start(args, env: dict, log_dir: Path, started: list[Child]) -> Stack:
    python, code, port = code_python(args.code), args.code, free_port()

    def child(name: str, command: list[str]) -> Child:
        return Child(name, command, env, log_dir, cwd=code)

    if args.consumers == "all":
        consumers = [child("consumers", [python, "manage.py", "consume"])]
    else:
        consumers = [child(f"consumer-{name}", [python, "manage.py", "consume", name])
                     for name in contexts.all_contexts()]
    stack = Stack(child("web", web_command(python, port, args.web_workers, "-c", "python:alpespartners.gunicorn_conf")),
                  child("worker", worker_command(python, args.worker_concurrency)),
                  child("relay", [python, "manage.py", "relay"]), port, consumers=consumers)
    return start_stack(stack, started)


# --- measuring what the pipeline did ------------------------------------------------


@dataclass
class Wait:
    finished: bool
    reason: str  # why it stopped early, "" when finished


def activity(consuming: list[str]) -> tuple[int, ...]:
    """Counters that grow while the pipeline works on anything, an earlier phase's backlog included."""
    return (CommandLog.objects.filter(status="COMPLETADO").count(),
            OutboxMessage.objects.filter(published_at__isnull=False).count(),
            InboxMessage.objects.filter(consumer__in=consuming).count())


def wait_for(stack: Stack, started: float, max_seconds: float, threads, errors, bars: dict, counts,
             expected, consuming: list[str]) -> Wait:
    """Poll until the clients are done and every count reaches what they sent; a time limit or a
    stall (nothing of the whole pipeline progressing) ends the wait, reported as missed; a client's
    failure or a dead child ends the run."""
    last_progress, last_values, last_activity = time.monotonic(), None, None
    while True:
        if errors:
            raise BenchError(f"a client failed: {errors[0]!r}")
        stack.check_alive()
        values = counts()
        for name, bar in bars.items():
            bar.update(values[name] - bar.n)
        clients_done = not any(thread.is_alive() for thread in threads)
        if clients_done and all(value >= expected() for value in values.values()):
            return Wait(True, "")
        now = time.monotonic()
        if values != last_values:
            last_progress, last_values, last_activity = now, values, None
        elif (current := activity(consuming)) != last_activity:  # the phase waits on an earlier backlog?
            if last_activity is not None:
                last_progress = now
            last_activity = current
        elif now - last_progress > STALL_SECONDS:
            return Wait(False, f"nothing progressed for {STALL_SECONDS} s")
        if time.time() - started > max_seconds:
            return Wait(False, f"--max-seconds {max_seconds:g} reached")
        time.sleep(POLL_SECONDS)


def progress_bars(total: int, phase: str, names: list[str]) -> dict[str, tqdm]:
    return {name: tqdm(total=total, desc=f"{phase}: {name}", unit="conv", file=sys.stderr, position=n)
            for n, name in enumerate(names)}


def close(bars: dict[str, tqdm]) -> None:
    for bar in bars.values():
        bar.close()


def outbox_baseline() -> int:
    return OutboxMessage.objects.aggregate(Max("id"))["id__max"] or 0


# --- 1. bulk --------------------------------------------------------------------


@dataclass
class BulkResult:
    batches: int
    batch_size: int
    wait: Wait
    backlog_before: dict
    started: float
    answers: list[Answer]
    transacciones: int
    committed: float | None  # the last batch's command completed_at, once every batch committed
    progress: Progress
    cpu: dict

    @property
    def accepted(self) -> int:
        return sum(self.batch_size for a in self.answers if a.status == 202)

    @property
    def total(self) -> int:
        return self.batches * self.batch_size

    def applied_seconds(self, context: str) -> float | None:
        last = self.progress.last_applied[context]
        if last is None or self.progress.applied[context] < self.total:
            return None
        return last.timestamp() - self.started

    @property
    def published_seconds(self) -> float | None:
        if self.progress.last_published is None or self.progress.published < self.total:
            return None
        return self.progress.last_published.timestamp() - self.started

    @property
    def committed_seconds(self) -> float | None:
        return None if self.committed is None else self.committed - self.started


def measure_bulk(args, stack: Stack, given: Given, consuming: list[str]) -> BulkResult:
    backlog_before = settle(stack, lambda: work_left(consuming), args.max_seconds, "bulk")
    baseline = outbox_baseline()
    id_campania = given.campaigns["bulk"]
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

    transacciones = Transaccion.objects.filter(id_campania=id_campania)

    def counts() -> dict[str, int]:
        progress = phase_progress(baseline, id_campania, consuming)
        return {"accepted": sum(args.batch_size for a in answers if a.status == 202),
                "committed": transacciones.count(), "published": progress.published,
                **{f"applied by {c}": progress.applied[c] for c in consuming}}

    meter = CpuMeter(stack)
    started = time.time()
    answers, errors, threads = run_clients(args.bulk_clients, stack.new_client, work, "bulk")
    bars = progress_bars(total, "bulk", ["accepted", "committed", "published", *(f"applied by {c}" for c in consuming)])
    try:
        wait = wait_for(stack, started, args.max_seconds, threads, errors, bars, counts,
                        expected=lambda: sum(args.batch_size for a in answers if a.status == 202), consuming=consuming)
    finally:
        close(bars)
    cpu = meter.stop()
    for thread in threads:
        thread.join(timeout=60)
    progress = phase_progress(baseline, id_campania, consuming)
    committed_rows = transacciones.count()
    rows = list(CommandLog.objects.filter(id__in=command_ids(answers)).values_list("status", "completed_at"))
    committed = None
    if committed_rows >= total and len(rows) == args.batches and all(status == "COMPLETADO" for status, _ in rows):
        committed = max(completed for _, completed in rows).timestamp()
    return BulkResult(args.batches, args.batch_size, wait, backlog_before, started, list(answers), committed_rows,
                      committed, progress, cpu)


# --- 2. steady ------------------------------------------------------------------


@dataclass
class SteadyResult:
    rate: float  # asked for
    seconds: float
    per_batch: int
    interval: float
    wait: Wait
    backlog_before: dict
    answers: list[Answer]
    late_sends: int  # batches sent more than one interval after their due time
    sending_seconds: float
    events: int
    latencies_ms: dict[str, list[float]]  # per consuming context, sorted: commit → applied
    relay_ms: list[float]  # commit → published, sorted

    @property
    def accepted(self) -> int:
        return sum(self.per_batch for a in self.answers if a.status == 202)


def measure_steady(args, stack: Stack, given: Given, consuming: list[str]) -> SteadyResult:
    backlog_before = settle(stack, lambda: work_left(consuming), args.max_seconds, "steady")
    baseline = outbox_baseline()
    given.campaigns.setdefault("steady", given.campaigns["warm-up"])  # set_up makes three; warm-up is done
    id_campania = given.campaigns["steady"]
    per_batch = max(1, round(args.steady_rate * STEADY_INTERVAL))
    interval = per_batch / args.steady_rate
    late = [0]
    box = {}

    def work(client: Client):
        k = 0
        while True:
            due = box["t0"] + k * interval
            if due >= box["t0"] + args.steady_seconds:
                return
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            elif -delay > interval:
                late[0] += 1
            lote = [conversion(given, "steady", f"steady-{k:06d}-{n:03d}", k * per_batch + n) for n in range(per_batch)]
            yield client.post("/api/v1/pagos/conversiones/lote", json.dumps({"conversiones": lote}).encode())
            k += 1

    def counts() -> dict[str, int]:
        progress = phase_progress(baseline, id_campania, consuming)
        return {"accepted": sum(per_batch for a in answers if a.status == 202), "published": progress.published,
                **{f"applied by {c}": progress.applied[c] for c in consuming}}

    box["t0"] = started = time.time()
    answers, errors, threads = run_clients(1, stack.new_client, work, "steady")
    expected_total = int(args.steady_seconds / interval + 0.999) * per_batch
    bars = progress_bars(expected_total, "steady", ["accepted", "published", *(f"applied by {c}" for c in consuming)])
    try:
        wait = wait_for(stack, started, max(args.max_seconds, args.steady_seconds + 10), threads, errors, bars,
                        counts, expected=lambda: sum(per_batch for a in answers if a.status == 202),
                        consuming=consuming)
    finally:
        close(bars)
    for thread in threads:
        thread.join(timeout=60)
    sending = max((a.received for a in answers), default=started) - started
    latencies: dict[str, list[float]] = {c: [] for c in consuming}
    where = "o.id > %s AND o.type = %s AND o.envelope -> 'data' ->> 'id_campania' = %s"
    params = [baseline, EVENT, str(id_campania)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT i.consumer, EXTRACT(EPOCH FROM i.received_at - o.created_at) * 1000 "
                       f"FROM {inbox_table()} i JOIN {outbox_table()} o ON o.event_id = i.event_id "
                       f"WHERE {where} AND i.consumer = ANY(%s)", [*params, consuming])
        for consumer, ms in cursor.fetchall():
            latencies[consumer].append(float(ms))
        cursor.execute(f"SELECT count(*) FROM {outbox_table()} o WHERE {where}", params)
        events = cursor.fetchone()[0]
        cursor.execute(f"SELECT EXTRACT(EPOCH FROM o.published_at - o.created_at) * 1000 FROM {outbox_table()} o "
                       f"WHERE {where} AND o.published_at IS NOT NULL", params)
        relay_ms = sorted(float(ms) for (ms,) in cursor.fetchall())
    return SteadyResult(args.steady_rate, args.steady_seconds, per_batch, interval, wait, backlog_before,
                        list(answers), late[0], sending, events, {c: sorted(v) for c, v in latencies.items()},
                        relay_ms)


# --- 3. single, 4. postbacks -------------------------------------------------------


@dataclass
class SingleResult:
    kind: str  # "single" | "postbacks"
    seconds: float
    clients: int
    wait: Wait
    backlog_before: dict
    started: float
    answers: list[Answer]
    completed_in_window: int
    statuses: dict[str, int]  # of the phase's commands, at the end
    progress: Progress
    cpu: dict  # phase start → last event applied by every consuming context (or the time limit)

    @property
    def accepted(self) -> int:
        return sum(1 for a in self.answers if a.status == 202)


def single_request(given: Given, n: int) -> tuple[str, bytes, dict]:
    return ("/api/v1/pagos/conversiones", json.dumps(conversion(given, "single", f"single-{n:07d}", n)).encode(), {})


def postback_request(given: Given, n: int) -> tuple[str, bytes, dict]:
    body = {"click_id": str(given.clicks[n % len(given.clicks)]), "id_externo": f"postback-{n:07d}", "tipo": "CLICK",
            "ocurrida_en": given.ocurrida_en}
    return "/api/v1/pagos/postbacks", json.dumps(body).encode(), {"X-Alpes-Token": given.secreto_postback}


def measure_single(args, stack: Stack, given: Given, consuming: list[str], kind: str = "single") -> SingleResult:
    """`kind` "single": POST /conversiones; "postbacks": the same conversions as postbacks."""
    request = {"single": single_request, "postbacks": postback_request}[kind]
    backlog_before = settle(stack, lambda: work_left(consuming), args.max_seconds, kind)
    baseline = outbox_baseline()
    id_campania = given.campaigns[kind]
    counter = iter(range(10**9))
    take = threading.Lock()
    box = {}

    def work(client: Client):
        while time.time() < box["end"]:
            with take:
                n = next(counter)
            path, body, headers = request(given, n)
            yield client.post(path, body, headers)

    meter = CpuMeter(stack)
    started = time.time()
    box["end"] = started + args.single_seconds
    answers, errors, threads = run_clients(args.single_clients, stack.new_client, work, kind)
    with tqdm(total=int(args.single_seconds), desc=f"{kind}: sending", unit="s", file=sys.stderr) as bar:
        while time.time() < box["end"]:
            if errors:
                raise BenchError(f"a client failed: {errors[0]!r}")
            stack.check_alive()
            bar.set_postfix(accepted=len(answers))
            bar.update(min(int(time.time() - started), bar.total) - bar.n)
            time.sleep(POLL_SECONDS)
        bar.update(bar.total - bar.n)
    for thread in threads:
        thread.join(timeout=60)
    accepted = sum(1 for a in answers if a.status == 202)
    commands = CommandLog.objects.filter(id__in=command_ids(answers))

    def counts() -> dict[str, int]:
        progress = phase_progress(baseline, id_campania, consuming)
        return {"completed": commands.filter(status="COMPLETADO").count(), "published": progress.published,
                **{f"applied by {c}": progress.applied[c] for c in consuming}}

    bars = progress_bars(accepted, f"{kind}: drain", ["completed", "published", *(f"applied by {c}" for c in consuming)])
    try:
        wait = wait_for(stack, started, args.max_seconds, threads, errors, bars, counts, expected=lambda: accepted,
                        consuming=consuming)
    finally:
        close(bars)
    cpu = meter.stop()
    window = (datetime.fromtimestamp(started).astimezone(), datetime.fromtimestamp(box["end"]).astimezone())
    statuses = {row["status"]: row["n"] for row in commands.values("status").annotate(n=Count("id"))
                .order_by()}
    return SingleResult(
        kind, args.single_seconds, args.single_clients, wait, backlog_before, started, list(answers),
        completed_in_window=commands.filter(status="COMPLETADO", completed_at__range=window).count(),
        statuses=statuses, progress=phase_progress(baseline, id_campania, consuming), cpu=cpu,
    )


# --- report ---------------------------------------------------------------------


def command_line(args) -> str:
    line = (f"python bench/pipeline.py --batches {args.batches} --batch-size {args.batch_size} "
            f"--bulk-clients {args.bulk_clients} --steady-rate {args.steady_rate:g} "
            f"--steady-seconds {args.steady_seconds:g} --single-seconds {args.single_seconds:g} "
            f"--single-clients {args.single_clients} --partners {args.partners} --web-workers {args.web_workers} "
            f"--worker-concurrency {args.worker_concurrency} --consumers {args.consumers} "
            f"--max-seconds {args.max_seconds:g}")
    if args.phases != PHASES:
        line += f" --phases {','.join(args.phases)}"
    if args.code != REPO:
        line += f" --code {args.code}"
    return line


def seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.2f} s"


def ms_stats(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{percentile(values, .5):.1f} / {percentile(values, .99):.1f} / {values[-1]:.1f} ms"


def backlog_note(backlog_before: dict) -> str:
    if not backlog_before:
        return ""
    return " (started with the previous phase's backlog: " + ", ".join(f"{v:,} {k}" for k, v in backlog_before.items()) + ")"


def bulk_rows(bulk: BulkResult, consuming: list[str]) -> list[tuple[str, ...]]:
    committed = bulk.committed_seconds
    refused = [a for a in bulk.answers if a.status != 202]
    stopped = "" if bulk.wait.finished else f" — gave up: {bulk.wait.reason}"
    rows = [
        (f"**Bulk**: {bulk.batches} × {bulk.batch_size:,} CLICK conversions, first request → …{stopped}"
         f"{backlog_note(bulk.backlog_before)}", "", "", ""),
        ("(accepted) API answered every batch",
         f"{max(a.received for a in bulk.answers) - bulk.started:.2f} s ({len(bulk.answers) - len(refused)} × 202"
         + (f", {len(refused)} refused: {refused[0].status} {refused[0].body[:200]!r}" if refused else "") + ")",
         "", ""),
        ("(a) every batch's transactions committed",
         f"{seconds(committed)} ({bulk.transacciones:,} of {bulk.total:,} Transaccion rows"
         + (f", {bulk.total / committed:,.0f} conversions/s" if committed else "") + ")", "", ""),
        (f"(b) every {EVENT} published",
         f"{seconds(bulk.published_seconds)} ({bulk.progress.published:,} of {bulk.total:,})", "", ""),
    ]
    for context in consuming:
        applied = bulk.applied_seconds(context)
        ok = applied is not None and committed is not None and applied <= TARGET_BULK_FACTOR * committed
        ratio = f", {applied / committed:.2f} × commit" if applied is not None and committed else ""
        rows.append((f"(c) every {EVENT} applied by **{context}**",
                     f"**{seconds(applied)}** ({bulk.progress.applied[context]:,} of {bulk.total:,}{ratio})",
                     f"≤ {TARGET_BULK_FACTOR:g} × (a)" + (f" = {TARGET_BULK_FACTOR * committed:.2f} s" if committed else ""),
                     verdict(ok)))
    return rows


def steady_rows(steady: SteadyResult, consuming: list[str]) -> list[tuple[str, ...]]:
    stopped = "" if steady.wait.finished else f" — gave up: {steady.wait.reason}"
    requests = sorted(a.ms for a in steady.answers)
    refused = [a for a in steady.answers if a.status != 202]
    rows = [
        (f"**Steady**: {steady.per_batch} conversions per POST /lote every {steady.interval * 1000:.0f} ms "
         f"for {steady.seconds:g} s (one paced thread){stopped}{backlog_note(steady.backlog_before)}", "", "", ""),
        ("Source: conversions accepted; rate while sending",
         f"{steady.accepted:,} in {steady.sending_seconds:.1f} s = {steady.accepted / max(steady.sending_seconds, 1e-3):,.0f}/s"
         f" ({len(steady.answers)} requests, {steady.late_sends} sent more than one interval late"
         + (f", {len(refused)} refused" if refused else "") + ")",
         f"{steady.rate:g}/s", ""),
        ("Source: request latency p50 / p99 / max", ms_stats(requests), "", ""),
        (f"Relay: commit → published, p50 / p99 / max ({len(steady.relay_ms):,} of {steady.events:,})",
         ms_stats(steady.relay_ms), "", ""),
    ]
    for context in consuming:
        values = steady.latencies_ms[context]
        missing = steady.events - len(values)
        ok = bool(values) and missing == 0 and percentile(values, .99) <= TARGET_STEADY_P99_MS
        rows.append((f"Commit → applied by **{context}**, p50 / **p99** / max ({len(values):,} of {steady.events:,} "
                     "events)" + (f", {missing:,} never applied" if missing else ""),
                     ms_stats(values), f"p99 ≤ {TARGET_STEADY_P99_MS} ms", verdict(ok)))
    return rows


def single_rows(single: SingleResult, consuming: list[str]) -> list[tuple[str, ...]]:
    stopped = "" if single.wait.finished else f" — gave up: {single.wait.reason}"
    accepted = single.accepted
    accepted_rate = accepted / single.seconds
    completed_rate = single.completed_in_window / single.seconds
    refused = [a for a in single.answers if a.status != 202]
    latencies = sorted(a.ms for a in single.answers if a.status == 202)
    share = single.completed_in_window / accepted if accepted else 0
    applied = ", ".join(f"{c} {single.progress.applied[c]:,}" for c in consuming)
    return [
        (f"**{single.kind.capitalize()}**: {single.clients} clients POST "
         f"{'/conversiones' if single.kind == 'single' else '/postbacks (the same conversions, by click id)'} "
         f"(202, no wait) for {single.seconds:g} s{stopped}"
         f"{backlog_note(single.backlog_before)}", "", "", ""),
        ("Accepted by the API", f"**{accepted_rate:,.1f} conversions/s** ({accepted:,}"
         + (f", {len(refused)} refused: {refused[0].status}" if refused else "") + ")", "", ""),
        ("Request latency p50 / p99 / max", ms_stats(latencies), "", ""),
        ("Completed by the worker in the window (COMPLETADO)",
         f"**{completed_rate:,.1f} commands/s** ({single.completed_in_window:,} = {share * 100:.0f} % of accepted)",
         f"≥ {TARGET_SINGLE_COMPLETED * 100:.0f} % of accepted", verdict(accepted > 0 and share >= TARGET_SINGLE_COMPLETED)),
        ("At the end: commands by status; events published; applied",
         f"{', '.join(f'{k} {v:,}' for k, v in sorted(single.statuses.items()))}; "
         f"{single.progress.published:,} of {single.progress.events:,}; {applied}", "", ""),
    ]


def cpu_lines(bulk: BulkResult | None, singles: list[SingleResult]) -> list[str]:
    columns = []
    if bulk is not None:
        columns.append(CpuColumn(f"Bulk: CPU per conversion ({bulk.progress.events:,} conversions, "
                                 f"{bulk.cpu['elapsed']:.1f} s first request → "
                                 + ("last applied)" if bulk.wait.finished else "gave up, NOT all applied)"),
                                 bulk.cpu, bulk.progress.events))
    for single in singles:
        columns.append(CpuColumn(f"{single.kind.capitalize()}: CPU per conversion ({single.accepted:,} conversions, "
                                 f"{single.cpu['elapsed']:.1f} s phase start → "
                                 + ("last applied)" if single.wait.finished else "gave up, NOT all applied)"),
                                 single.cpu, single.accepted))
    if not columns:
        return []
    return cpu_table(columns, CPU_CATEGORIES, cpu_cell, (("**project processes**", cpu_total(PROJECT_PROCESSES)),
                                                         ("**all of the above**", cpu_total(CPU_CATEGORIES))))


def setting_facts(args, env_info: dict, consuming: list[str]) -> str:
    consumers = ("one `manage.py consume` for every context" if args.consumers == "all"
                 else "one `manage.py consume <context>` per context")
    database = env_info["postgres"]
    return (
        f"Code under test: `{args.code}` at {env_info['revision']} (schema: CommandLog.outbox_horizon "
        f"{'present' if env_info['outbox_horizon'] else 'absent'}); consumers: {consumers}; contexts that consume "
        f"{EVENT} (read from /work/main's code): {', '.join(consuming)}. {platform_facts()}, gunicorn "
        f"{gunicorn.__version__} ({args.web_workers} gthread workers of 4 threads, alpespartners.gunicorn_conf), Celery "
        f"{celery.__version__} (1 worker, prefork concurrency {args.worker_concurrency}), Redis {env_info['redis']} "
        f"as broker and cache, PostgreSQL {database['server_version']} (synchronous_commit "
        f"{database['synchronous_commit']}, fsync {database['fsync']}, shared_buffers {database['shared_buffers']}), "
        f"Pulsar broker {broker_version()} (pulsar-client {pulsar.__version__}); no beat; real HTTP to gunicorn on "
        f"127.0.0.1; scratch database `{BENCH_DATABASE}`; {load_note(env_info['load_before'])}")


def postbacks_vs_single(singles: list[SingleResult]) -> list[tuple[str, ...]]:
    by_kind = {single.kind: single for single in singles}
    if set(by_kind) != {"single", "postbacks"} or not by_kind["single"].accepted or not by_kind["single"].completed_in_window:
        return []
    single, postbacks = by_kind["single"], by_kind["postbacks"]
    accepted = postbacks.accepted / single.accepted
    completed = postbacks.completed_in_window / single.completed_in_window
    return [("**Postbacks ÷ single** (same run): accepted/s; completed/s",
             f"**{accepted:.2f}**; **{completed:.2f}**", f"≥ {TARGET_POSTBACKS_RATIO:.2f} both",
             verdict(accepted >= TARGET_POSTBACKS_RATIO and completed >= TARGET_POSTBACKS_RATIO))]


def summary(args, env_info: dict, consuming: list[str], bulk: BulkResult | None, steady: SteadyResult | None,
            singles: list[SingleResult], log_lines: dict[str, list[str]]) -> str:
    errors = sum(len(lines) for lines in log_lines.values())
    rows = [*(bulk_rows(bulk, consuming) if bulk else []), *(steady_rows(steady, consuming) if steady else []),
            *(row for single in singles for row in single_rows(single, consuming)), *postbacks_vs_single(singles),
            ("Errors in the child processes' logs (ERROR, CRITICAL, FATAL, Traceback)",
             ", ".join(f"{name} {len(lines)}" for name, lines in log_lines.items()), "0", verdict(errors == 0))]
    lines = [
        heading("Pipeline benchmark"), "", f"`{command_line(args)}`", "", setting_facts(args, env_info, consuming), "",
        *measure_table(rows), "",
        "CPU by process (from /proc; PostgreSQL, Pulsar and the machine total include other people's processes; "
        "PostgreSQL includes this script's polling queries):",
        "",
        *cpu_lines(bulk, singles),
    ]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------


def has_outbox_horizon() -> bool:
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, CommandLog._meta.db_table)
    return any(column.name == "outbox_horizon" for column in columns)


def run(args, log_dir: Path, started: list[Child], env_info: dict, broker: BrokerDatabase,
        namespace: PulsarNamespace, consuming: list[str]) -> tuple[str, int]:
    env = stack_env(BENCH_DATABASE, broker, namespace, RELAY_PRODUCER_NAME, API_THROTTLE_USER="100000000/minute")
    migrate(args, env, log_dir, started)
    env_info["postgres"] = server_settings("synchronous_commit", "fsync", "shared_buffers")
    env_info["redis"] = broker.version()
    env_info["revision"] = code_revision(args.code)
    env_info["outbox_horizon"] = has_outbox_horizon()
    logging.disable(logging.INFO)  # set_up delivers hundreds of events in this process, each logged at INFO
    try:
        given = set_up(args.partners)
    finally:
        logging.disable(logging.NOTSET)
    connections.close_all()
    print(f"starting web, worker, relay and consumers from {args.code} (logs in {log_dir})", file=sys.stderr)
    stack = start(args, env, log_dir, started)
    stack.token = given.token
    warm_up(stack, given, args.web_workers)
    left = settle(stack, lambda: work_left(consuming), START_SECONDS, "warm-up")
    if left:
        raise BenchError(f"the warm-up's events were not applied within {START_SECONDS} s: {left}")
    bulk = measure_bulk(args, stack, given, consuming) if "bulk" in args.phases else None
    steady = measure_steady(args, stack, given, consuming) if "steady" in args.phases else None
    singles = [measure_single(args, stack, given, consuming, kind) for kind in ("single", "postbacks")
               if kind in args.phases]
    log_lines = report_log_lines(stack.children)
    return (summary(args, env_info, consuming, bulk, steady, singles, log_lines),
            sum(len(lines) for lines in log_lines.values()))


def main() -> int:
    args = parse_args()
    refuse_unless_stack_ready("bench/pipeline.py", "without Pulsar there is no relay and no consumer.")
    consuming = consuming_contexts()
    env_info = {"load_before": load_average()}
    broker = BrokerDatabase(args.redis_db, REDIS_MARKER)
    namespace = PulsarNamespace(f"public/bench-pipeline-{uuid.uuid4().hex[:8]}")
    # migrate=False: the code under test migrates the scratch database (see migrate()).
    return run_with_stack("bench/pipeline.py", "bench-pipeline-", broker, namespace, BENCH_DATABASE, False,
                          lambda log_dir, started: run(args, log_dir, started, env_info, broker, namespace, consuming))


if __name__ == "__main__":
    sys.exit(main())
