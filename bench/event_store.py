"""Benchmark of the campaign event store (campanias.repository), for docs/PERFORMANCE.md.

In one run, in a scratch database of its own, it measures:
1. the disk's commit ceiling: bare one-row INSERT transactions, 1 and N writer processes;
2. appends: load a campaign with `repository.get`, call `pausar` or `reanudar`, and
   `repository.save` it, one committed transaction per append as a command does, with 1 and N
   writer processes (each on its own campaigns, so the figure is the store's, not conflicts');
   the same with `SET synchronous_commit = off` for the writers' sessions; and the same again
   with several appends per transaction; and, in one process, how an append's time splits between
   `repository.get`, the domain method, `repository.save` and the commit;
3. loads of a campaign of 10,000 events with and without its snapshot, and with a snapshot
   followed by the most events a load can have to replay (CAMPANIAS_SNAPSHOT_EVERY - 1).

Needs PostgreSQL, whose role may create databases:

    DATABASE_URL=... .venv/bin/python bench/event_store.py [--appends 2000] [--writers 4] \\
        [--events 10000] [--loads 20]

Progress goes to stderr; stdout gets only a Markdown summary. The scratch database
(`alpespartners_bench`) is created and migrated at the start and dropped at the end; the
database of DATABASE_URL is only used to create and drop it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import statistics
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.seedwork.domain import Monto  # noqa: E402
from bench.common import (BenchError, create_scratch_database, drop_scratch_database, heading,  # noqa: E402
                          load_average, load_note, percentile, platform_facts, server_settings, use_database, verdict)
from campanias import repository  # noqa: E402
from campanias.domain import Campania, EstadoCampania  # noqa: E402
from campanias.models import EventoCampania, SnapshotCampania  # noqa: E402

BENCH_DATABASE = "alpespartners_bench"
COMMIT_TABLE = "bench_commit"  # the bare-commit baseline's table, in the scratch database only
BUILD_CHUNK = 1_000  # events per save (and transaction) when building the large campaigns
TARGET_APPENDS_PER_WRITER = 1_000  # appends/s
TARGET_LOAD_MS = 20  # load with snapshot, p95
STALL_SECONDS = 60  # give up when no writer progresses for this long
HOY = date.today()


@dataclass
class Phase:
    label: str
    kind: str  # "commit" (bare one-row insert) or "append" (repository.get + domain method + repository.save)
    writers: int
    per_transaction: int
    synchronous_commit: bool


@dataclass
class WriterResult:
    started: float  # time.monotonic(), system-wide on Linux, so comparable between the processes
    finished: float
    operations: int  # appends, or rows for the bare commits
    transactions: int
    latencies_ms: list[float]  # per transaction

    @property
    def rate(self) -> float:
        return self.operations / (self.finished - self.started)


@dataclass
class PhaseResult:
    phase: Phase
    writers: list[WriterResult]

    @property
    def operations(self) -> int:
        return sum(writer.operations for writer in self.writers)

    @property
    def total_rate(self) -> float:
        window = max(w.finished for w in self.writers) - min(w.started for w in self.writers)
        return self.operations / window

    @property
    def per_writer(self) -> list[float]:
        return [writer.rate for writer in self.writers]

    @property
    def latencies(self) -> list[float]:
        return sorted(ms for writer in self.writers for ms in writer.latencies_ms)


@dataclass
class Breakdown:
    """Where one append's time goes, one writer, one append per transaction (ms per append)."""

    appends: int
    statements: float  # SQL statements per append, BEGIN and COMMIT included (each one round trip)
    parts: dict[str, list[float]]  # "repository.get", "domain method", "repository.save", "commit" → ms
    by_tail: dict[int, list[float]]  # events after the snapshot, in buckets of 10 → whole append, ms


@dataclass
class LoadResult:
    label: str
    events: int  # events of the campaign
    replayed: int  # events read after the snapshot (all of them without one)
    snapshot_bytes: int  # size of the snapshot's state as stored (0: not used)
    timings_ms: list[float]


# --- set-up ---------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=2_000, help="appends (or bare commits) per writer and phase")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writer processes of the multi-writer phases")
    parser.add_argument("--campaigns", type=int, default=10, help="campaigns per writer the appends go round")
    parser.add_argument("--batch", type=int, default=10,
                        help="appends per transaction of the batched phases (0 or 1: no batched phases)")
    parser.add_argument("--max-seconds", type=float, default=60, help="time limit of each append phase")
    parser.add_argument("--events", type=int, default=10_000, help="events of the campaigns the loads read")
    parser.add_argument("--loads", type=int, default=20, help="timed loads of each kind")
    args = parser.parse_args()
    if args.appends < 100 or args.writers < 2 or args.campaigns < 1 or args.loads < 5:
        parser.error("need --appends ≥ 100, --writers ≥ 2, --campaigns ≥ 1 and --loads ≥ 5")
    if args.events < 2 * BUILD_CHUNK:
        parser.error(f"--events must be at least {2 * BUILD_CHUNK}")
    return args


def refuse_unless_ready() -> None:
    if not settings.USING_POSTGRESQL:
        print("bench/event_store.py: DATABASE_URL must point to PostgreSQL; on SQLite, with its single writer "
              "and no server, the figures would say nothing about the store in production.", file=sys.stderr)
        sys.exit(2)


def new_campaign(nombre: str) -> Campania:
    """A new campaign, approved (CampaniaCreada + CampaniaAprobada), its events still pending."""
    campania = Campania.crear(
        uuid.uuid4(), id_cliente=uuid.uuid4(), estado_marca="ACTIVO", nombre=nombre, hoy=HOY,
        presupuesto=Monto(Decimal("5000000.00"), "COP"), fecha_inicio=HOY, fecha_fin=HOY + timedelta(days=90),
    )
    campania.aprobar(uuid.uuid4())
    return campania


def save(campania: Campania) -> None:
    """What a handler's Unit of Work does with the store: append the pending events, then take them."""
    repository.save(campania, correlation_id=uuid.uuid4(), causation_id=uuid.uuid4())
    campania.pull_events()


def approved_campaigns(count: int) -> list[uuid.UUID]:
    with transaction.atomic():
        campaigns = [new_campaign(f"Campaña de prueba {n}") for n in range(count)]
        for campania in campaigns:
            save(campania)
    return [campania.id for campania in campaigns]


def toggle(campania: Campania) -> None:
    if campania.estado is EstadoCampania.APROBADA:
        campania.pausar("pausa de prueba")
    else:
        campania.reanudar("reanudación de prueba")


# --- 1 and 2. writer processes ----------------------------------------------------


def writer(database: str, phase: Phase, campaigns: list, operations: int, max_seconds: float,
           ready, start, progress, results) -> None:
    """One writer process: its own connection, its own campaigns. Puts on `results` the fields of a
    WriterResult as a tuple (the class of a spawned process's __main__ does not unpickle in the parent),
    or the traceback of its error as a string."""
    try:
        use_database(database)
        connection.ensure_connection()
        if not phase.synchronous_commit:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
        step = one_commit if phase.kind == "commit" else one_append
        for n in range(len(campaigns)):  # warm-up, not timed: each campaign loaded and appended to once
            with transaction.atomic():
                step(campaigns, n)
        with ready.get_lock():
            ready.value += 1
        if not start.wait(STALL_SECONDS):
            raise BenchError("the start signal never came")
        started = time.monotonic()
        deadline = started + max_seconds
        latencies, done, transactions, unreported = [], 0, 0, 0
        while done < operations and time.monotonic() < deadline:
            count = min(phase.per_transaction, operations - done)
            began = time.perf_counter()
            with transaction.atomic():
                for n in range(done, done + count):
                    step(campaigns, n)
            latencies.append((time.perf_counter() - began) * 1000)
            done, transactions, unreported = done + count, transactions + 1, unreported + count
            if unreported >= 50:
                with progress.get_lock():
                    progress.value += unreported
                unreported = 0
        finished = time.monotonic()
        with progress.get_lock():
            progress.value += unreported
        results.put((started, finished, done, transactions, latencies))
    except BaseException:
        results.put(traceback.format_exc())
    finally:
        connections.close_all()


def one_commit(_campaigns: list, n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {COMMIT_TABLE} (n) VALUES (%s)", [n])


def one_append(campaigns: list[uuid.UUID], n: int) -> None:
    campania = repository.get(campaigns[n % len(campaigns)])
    toggle(campania)
    save(campania)


def run_phase(phase: Phase, args) -> PhaseResult:
    if phase.kind == "append":
        campaigns = [approved_campaigns(args.campaigns) for _ in range(phase.writers)]
    else:
        campaigns = [list(range(args.campaigns)) for _ in range(phase.writers)]  # sets the warm-up commits
    connections.close_all()  # the writers open their own
    context = multiprocessing.get_context("spawn")  # a fresh interpreter and connection per writer
    ready, start, progress, results = context.Value("i", 0), context.Event(), context.Value("q", 0), context.Queue()
    processes = [
        context.Process(target=writer, name=f"bench-writer-{n}", daemon=True,
                        args=(BENCH_DATABASE, phase, campaigns[n], args.appends, args.max_seconds, ready, start,
                              progress, results))
        for n in range(phase.writers)
    ]
    for process in processes:
        process.start()
    try:
        return collect(phase, args, processes, ready, start, progress, results)
    finally:
        start.set()  # a writer still waiting gives up on its own
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                print(f"{process.name} did not stop; terminating it", file=sys.stderr)
                process.terminate()
                process.join()


def collect(phase: Phase, args, processes, ready, start, progress, results) -> PhaseResult:
    deadline = time.monotonic() + STALL_SECONDS
    while ready.value < phase.writers:  # every writer connected and warmed up
        check_writers(phase, processes, results)
        if time.monotonic() > deadline:
            raise BenchError(f"{phase.label}: the writers were not ready within {STALL_SECONDS} s")
        time.sleep(0.05)
    start.set()
    collected: list[WriterResult] = []
    unit = "append" if phase.kind == "append" else "commit"
    with tqdm(total=phase.writers * args.appends, desc=f"{phase.label}, {phase.writers} writer(s)", unit=unit,
              file=sys.stderr) as bar:
        last_progress, last_value = time.monotonic(), 0
        while len(collected) < phase.writers:
            try:
                result = results.get(timeout=0.25)
            except queue.Empty:
                check_writers(phase, processes, results)
            else:
                if isinstance(result, str):
                    raise BenchError(f"{phase.label}: a writer failed:\n{result}")
                collected.append(WriterResult(*result))
            value = progress.value
            bar.update(value - bar.n)
            if value != last_value:
                last_progress, last_value = time.monotonic(), value
            elif time.monotonic() - last_progress > STALL_SECONDS:
                raise BenchError(f"{phase.label}: no writer progressed for {STALL_SECONDS} s")
    return PhaseResult(phase, collected)


def check_writers(phase: Phase, processes, results) -> None:
    try:
        item = results.get_nowait()
    except queue.Empty:
        item = None
    if isinstance(item, str):
        raise BenchError(f"{phase.label}: a writer failed:\n{item}")
    if item is not None:
        raise BenchError(f"{phase.label}: a writer finished before the others started")
    if any(process.exitcode not in (None, 0) for process in processes):
        raise BenchError(f"{phase.label}: a writer process died (exit codes {[p.exitcode for p in processes]})")


def measure_breakdown(args) -> Breakdown:
    """In this process: each part of an append timed on its own, on campaigns that have already
    gone round their snapshot interval, so the events replayed after the snapshot are spread over
    0 … CAMPANIAS_SNAPSHOT_EVERY - 1 as in a long run."""
    every = max(settings.CAMPANIAS_SNAPSHOT_EVERY, 1)
    campaigns = approved_campaigns(args.campaigns)
    warm_up = args.campaigns * (every + 3)  # version past a snapshot, and not in step with the timed appends
    for n in tqdm(range(warm_up), desc="append breakdown: warm-up", unit="append", file=sys.stderr, leave=False):
        with transaction.atomic():
            one_append(campaigns, n)
    with CaptureQueriesContext(connection) as captured:  # counted apart: capturing slows the timed appends
        for n in range(args.campaigns * every):
            with transaction.atomic():
                one_append(campaigns, n)
    statements = len(captured.captured_queries) / (args.campaigns * every)
    count = max(min(args.appends, 1_000), args.campaigns * every)  # each campaign round its interval at least once
    parts: dict[str, list[float]] = {"repository.get": [], "domain method": [], "repository.save": [], "commit": []}
    by_tail: dict[int, list[float]] = {}
    for n in tqdm(range(count), desc="append breakdown", unit="append", file=sys.stderr):
        t0 = time.perf_counter()
        with transaction.atomic():
            campania = repository.get(campaigns[n % len(campaigns)])
            t1 = time.perf_counter()
            toggle(campania)
            t2 = time.perf_counter()
            tail = campania.version % every  # events after the last snapshot (one event per save)
            save(campania)
            t3 = time.perf_counter()
        t4 = time.perf_counter()
        for part, ms in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            parts[part].append(ms * 1000)
        by_tail.setdefault(tail // 10 * 10, []).append((t4 - t0) * 1000)
    return Breakdown(count, statements, parts, by_tail)


def measure_round_trip(count: int = 1_000) -> list[float]:
    """`SELECT 1` through Django's connection: the floor under every statement of an append."""
    timings = []
    with connection.cursor() as cursor:
        for _ in range(count):
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            timings.append((time.perf_counter() - began) * 1000)
    return sorted(timings)


# --- 3. loads -------------------------------------------------------------------


def large_campaign(events: int, shape: str) -> uuid.UUID:
    """A campaign of exactly `events` events, saved BUILD_CHUNK at a time, so its last snapshot
    is at its last event. "pausas": CampaniaPausada/CampaniaReanudada alternate (small state);
    "socios": every event enrols a new partner (state grows to events - 2 partners)."""
    campania = new_campaign(f"Campaña grande ({shape})")
    with tqdm(total=events, desc=f"build campaign ({shape})", unit="ev", file=sys.stderr) as bar:
        while campania.version < events:
            while len(campania.pending_events) < BUILD_CHUNK and campania.version + len(campania.pending_events) < events:
                if shape == "pausas":
                    toggle(campania)
                else:
                    campania.inscribir_socio(uuid.uuid4(), "ACTIVO")
            pending = len(campania.pending_events)
            with transaction.atomic():
                save(campania)
            bar.update(pending)
    return campania.id


def append_one_at_a_time(id_campania: uuid.UUID, count: int, shape: str) -> None:
    """`count` appends, one per transaction, as commands make them."""
    for _ in range(count):
        with transaction.atomic():
            campania = repository.get(id_campania)
            if shape == "pausas":
                toggle(campania)
            else:
                campania.inscribir_socio(uuid.uuid4(), "ACTIVO")
            save(campania)


def time_loads(label: str, id_campania: uuid.UUID, use_snapshot: bool, loads: int) -> LoadResult:
    snapshot = SnapshotCampania.objects.filter(aggregate_id=id_campania).first() if use_snapshot else None
    events = EventoCampania.objects.filter(aggregate_id=id_campania).count()
    replayed = events - (snapshot.version if snapshot else 0)
    size = 0
    if snapshot:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_column_size(state) FROM {SnapshotCampania._meta.db_table} "
                           "WHERE aggregate_id = %s", [id_campania])
            size = cursor.fetchone()[0]
    repository.get(id_campania, use_snapshot=use_snapshot)  # warm-up: plans and pages cached, not timed
    timings = []
    for _ in tqdm(range(loads), desc=f"load: {label}", unit="load", file=sys.stderr, leave=False):
        began = time.perf_counter()
        campania = repository.get(id_campania, use_snapshot=use_snapshot)
        timings.append((time.perf_counter() - began) * 1000)
        if campania.version != events:
            raise BenchError(f"{label}: loaded version {campania.version}, the campaign has {events} events")
    return LoadResult(label, events, replayed, size, timings)


def measure_loads(args) -> list[LoadResult]:
    every = settings.CAMPANIAS_SNAPSHOT_EVERY
    results = []
    for shape in ("pausas", "socios"):
        id_campania = large_campaign(args.events, shape)
        with_snapshot = repository.get(id_campania).snapshot()
        if with_snapshot != repository.get(id_campania, use_snapshot=False).snapshot():
            raise BenchError(f"{shape}: the campaign loaded from its snapshot differs from its full replay")
        results.append(time_loads(f"{shape}, with snapshot", id_campania, True, args.loads))
        results.append(time_loads(f"{shape}, without snapshot (full replay)", id_campania, False, args.loads))
        if every > 1:
            append_one_at_a_time(id_campania, every - 1, shape)
            results.append(time_loads(f"{shape}, with snapshot + {every - 1} events after it", id_campania, True,
                                      args.loads))
    return results


# --- report ---------------------------------------------------------------------


def summary(args, server: dict[str, str], load_before: str, round_trip: list[float], phases: list[PhaseResult],
            breakdown: Breakdown, loads: list[LoadResult]) -> str:
    every = settings.CAMPANIAS_SNAPSHOT_EVERY
    command = (f"python bench/event_store.py --appends {args.appends} --writers {args.writers} "
               f"--campaigns {args.campaigns} --batch {args.batch} --max-seconds {args.max_seconds:g} "
               f"--events {args.events} --loads {args.loads}")
    lines = [
        heading("Event store benchmark"),
        "",
        f"`{command}`: {platform_facts()}, PostgreSQL {server['server_version']} (synchronous_commit "
        f"{server['synchronous_commit']}, fsync {server['fsync']}, wal_sync_method {server['wal_sync_method']}, "
        f"commit_delay {server['commit_delay']}, shared_buffers {server['shared_buffers']}), "
        f"CAMPANIAS_SNAPSHOT_EVERY {every}, scratch database `{BENCH_DATABASE}`; {load_note(load_before)}",
        "",
        f"Round trip to PostgreSQL (`SELECT 1` through Django's connection, {len(round_trip):,} times): median "
        f"{statistics.median(round_trip):.2f} ms, p95 {percentile(round_trip, 0.95):.2f} ms.",
        "",
        "| Phase | Writers | Appends per transaction | synchronous_commit | Per writer (each) | Total "
        "| Transaction p50 / p95 | Target | |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in phases:
        phase = result.phase
        unit = "commits/s" if phase.kind == "commit" else "appends/s"
        headline = phase.kind == "append" and phase.per_transaction == 1 and phase.synchronous_commit
        target = f"≥ {TARGET_APPENDS_PER_WRITER:,} appends/s per writer" if headline else ""
        ok = verdict(min(result.per_writer) >= TARGET_APPENDS_PER_WRITER) if headline else ""
        short = ", stopped by --max-seconds" if result.operations < phase.writers * args.appends else ""
        ms = result.latencies
        lines.append(
            f"| {phase.label} | {phase.writers} | {phase.per_transaction if phase.kind == 'append' else '–'} "
            f"| {'on' if phase.synchronous_commit else '**off**'} "
            f"| {', '.join(f'{rate:,.0f}' for rate in result.per_writer)} {unit} "
            f"| {result.total_rate:,.0f} {unit} ({result.operations:,}{short}) "
            f"| {percentile(ms, 0.5):.2f} / {percentile(ms, 0.95):.2f} ms | {target} | {ok} |"
        )
    total = sum(statistics.fmean(values) for values in breakdown.parts.values())
    lines += [
        "",
        f"Where one append's time goes (1 writer in the benchmark's own process, {breakdown.appends:,} appends, "
        f"synchronous_commit on, {breakdown.statements:.2f} statements (round trips) per append, BEGIN and COMMIT included): "
        + "; ".join(f"{part} {statistics.fmean(values):.2f} ms" for part, values in breakdown.parts.items())
        + f"; total {total:.2f} ms. Mean append by events replayed after the snapshot: "
        + "; ".join(f"{tail}–{tail + 9}: {statistics.fmean(ms):.2f} ms" for tail, ms in sorted(breakdown.by_tail.items()))
        + ".",
        "",
        "| Load (`repository.get`) | Events in the campaign | Events replayed | Snapshot size | Median | p95 "
        "| Target | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for load in loads:
        ms = sorted(load.timings_ms)
        uses_snapshot = "without snapshot" not in load.label
        target = f"≤ {TARGET_LOAD_MS} ms" if uses_snapshot else ""
        ok = verdict(percentile(ms, 0.95) <= TARGET_LOAD_MS) if uses_snapshot else ""
        size = f"{load.snapshot_bytes / 1024:,.1f} KiB" if load.snapshot_bytes else "–"
        lines.append(f"| {load.label} | {load.events:,} | {load.replayed:,} | {size} | {statistics.median(ms):.1f} ms "
                     f"| {percentile(ms, 0.95):.1f} ms | {target} | {ok} |")
    lines += ["", "Same-run comparison:", ""]
    lines += comparisons(phases, loads)
    return "\n".join(lines)


def comparisons(phases: list[PhaseResult], loads: list[LoadResult]) -> list[str]:
    def find(kind: str, writers: int, per_transaction: int, synchronous: bool) -> PhaseResult | None:
        return next((r for r in phases if r.phase.kind == kind and r.phase.writers == writers
                     and (kind == "commit" or r.phase.per_transaction == per_transaction)
                     and r.phase.synchronous_commit == synchronous), None)

    lines = []
    for writers in sorted({r.phase.writers for r in phases}):
        bare, sync = find("commit", writers, 1, True), find("append", writers, 1, True)
        asynchronous = find("append", writers, 1, False)
        batched = next((r for r in phases if r.phase.kind == "append" and r.phase.writers == writers
                        and r.phase.per_transaction > 1), None)
        if bare and sync:
            lines.append(f"- {writers} writer(s): one append per transaction reaches "
                         f"{sync.total_rate / bare.total_rate * 100:.0f} % of the bare commit rate "
                         f"({sync.total_rate:,.0f} vs {bare.total_rate:,.0f}/s)")
        if sync and asynchronous:
            lines.append(f"- {writers} writer(s): synchronous_commit off gives ×{asynchronous.total_rate / sync.total_rate:.1f} "
                         f"the appends/s of synchronous_commit on")
        if sync and batched:
            lines.append(f"- {writers} writer(s): {batched.phase.per_transaction} appends per transaction give "
                         f"×{batched.total_rate / sync.total_rate:.1f} the appends/s of one per transaction")
    by_label = {load.label: load for load in loads}
    for shape in ("pausas", "socios"):
        full = by_label.get(f"{shape}, without snapshot (full replay)")
        snap = by_label.get(f"{shape}, with snapshot")
        if full and snap:
            lines.append(f"- {shape}: full replay of {full.events:,} events takes "
                         f"×{statistics.median(full.timings_ms) / statistics.median(snap.timings_ms):.0f} "
                         f"the median time of a load from the snapshot")
    return lines


# --- main -----------------------------------------------------------------------


def phases_of(args) -> list[Phase]:
    n = args.writers
    phases = [
        Phase("bare commit (1-row INSERT)", "commit", 1, 1, True),
        Phase("bare commit (1-row INSERT)", "commit", n, 1, True),
        Phase("append", "append", 1, 1, True),
        Phase("append", "append", n, 1, True),
        Phase("append, synchronous_commit off", "append", 1, 1, False),
        Phase("append, synchronous_commit off", "append", n, 1, False),
    ]
    if args.batch > 1:
        phases += [
            Phase(f"append, {args.batch} per transaction", "append", 1, args.batch, True),
            Phase(f"append, {args.batch} per transaction", "append", n, args.batch, True),
        ]
    return phases


def run(args, load_before: str) -> str:
    use_database(BENCH_DATABASE)
    server = server_settings("synchronous_commit", "fsync", "wal_sync_method", "commit_delay", "shared_buffers")
    round_trip = measure_round_trip()
    phase_results = []
    for phase in phases_of(args):
        phase_results.append(run_phase(phase, args))
    breakdown = measure_breakdown(args)
    loads = measure_loads(args)
    return summary(args, server, load_before, round_trip, phase_results, breakdown, loads)


def main() -> int:
    args = parse_args()
    refuse_unless_ready()
    load_before = load_average()
    try:
        home = create_scratch_database(BENCH_DATABASE)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {COMMIT_TABLE} (id bigserial PRIMARY KEY, n integer NOT NULL)")
    except BenchError as error:
        print(f"bench/event_store.py: {error}", file=sys.stderr)
        return 1
    try:
        print(run(args, load_before))
    except BenchError as error:
        print(f"bench/event_store.py: {error}", file=sys.stderr)
        return 1
    finally:
        drop_scratch_database(BENCH_DATABASE, home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
