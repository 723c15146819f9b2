"""Benchmark of the outbox → Pulsar relay, for docs/PERFORMANCE.md.

In one run it measures:
1. relay throughput: N committed outbox rows drained by a fresh `manage.py relay`;
2. a bare Pulsar producer with the relay's producer options sending the same messages;
3. commit → Pulsar latency with a running relay while events are committed one per
   transaction at a steady rate.

Needs PostgreSQL and Pulsar, and no other relay running:

    DATABASE_URL=... CELERY_BROKER_URL=... PULSAR_URL=... \\
        .venv/bin/python bench/relay.py [--events 50000] [--rate 1000] [--latency-seconds 20]

Progress goes to stderr; stdout gets only a Markdown summary. Every topic is fresh per run,
and the benchmark's outbox rows and topics are deleted at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

import pulsar  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.messaging import outbox, pulsar_transport  # noqa: E402
from alpespartners.messaging.models import OutboxMessage  # noqa: E402
from alpespartners.messaging.relay import ADVISORY_LOCK_KEY  # noqa: E402
from bench.common import BenchError, broker_version, heading, measure_table, percentile, verdict  # noqa: E402

RELAY_PRODUCER_NAME = "alpespartners-relay-bench"  # never the dev relay's producer names
CHUNK = 1_000  # rows per insert transaction
AGGREGATES = 1_000
POLL_SECONDS = 0.05
STALL_SECONDS = 60  # give up when nothing progresses for this long
NOTABLE_LOG_LINE = re.compile(r"\b(WARN|WARNING|ERROR|CRITICAL|FATAL|Traceback)\b")


@dataclass
class RelayResult:
    startup: float  # relay start → first rows seen published
    drain: float  # first → last rows seen published
    drained: int  # rows published during `drain`: the first poll already sees a whole batch
    total: float  # relay start → last row published


@dataclass
class LatencyResult:
    latencies_ms: list[float]
    committed: int
    lost: int
    achieved_rate: float


# --- set-up ---------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="rows for the throughput phases")
    parser.add_argument("--rate", type=int, default=1_000, help="events per second in the latency phase")
    parser.add_argument("--events-per-commit", type=int, default=4,
                        help="events per transaction in the latency phase, as a handler commits a few at once")
    parser.add_argument("--latency-seconds", type=float, default=20, help="duration of the latency phase")
    parser.add_argument("--writers", type=int, default=2, help="committing threads in the latency phase")
    args = parser.parse_args()
    if args.events < 5 * settings.RELAY_BATCH_SIZE:
        parser.error(f"--events must be at least 5 relay batches ({5 * settings.RELAY_BATCH_SIZE}) to measure a rate")
    return args


def refuse_unless_ready() -> None:
    problem = None
    if not settings.USING_POSTGRESQL:
        problem = "DATABASE_URL must point to PostgreSQL (the relay needs LISTEN/NOTIFY and an advisory lock)."
    elif not settings.PULSAR_URL:
        problem = "PULSAR_URL is not set: without Pulsar there is no relay to measure."
    elif relay_lock_taken():
        problem = "another relay holds the advisory lock: stop it first, or it would publish the benchmark's rows."
    if problem:
        print(f"bench/relay.py: {problem}", file=sys.stderr)
        sys.exit(2)


def relay_lock_taken() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return True
        cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
    return False


def pulsar_client() -> pulsar.Client:
    # A Python logger, because the C++ console logger writes to stdout, which holds the summary.
    return pulsar.Client(settings.PULSAR_URL, logger=logging.getLogger("pulsar"))


def make_envelope(aggregate_id: uuid.UUID, n: int) -> dict:
    return outbox.envelope(
        event_id=uuid.uuid4(), type="ClienteActualizado", version=1, occurred_at=timezone.now(),
        aggregate_id=aggregate_id, correlation_id=uuid.uuid4(), causation_id=None,
        data={
            "nombre": f"Cliente de prueba {n:07d}", "email": f"cliente{n:07d}@example.com", "ciudad": "Bogotá",
        },
    )


def make_envelopes(count: int, aggregates: list[uuid.UUID]) -> list[dict]:
    return [make_envelope(aggregates[n % len(aggregates)], n) for n in range(count)]


# --- the relay subprocess -------------------------------------------------------


@contextmanager
def running_relay(log):
    env = {**os.environ, "RELAY_PRODUCER_NAME": RELAY_PRODUCER_NAME}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "relay"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield process
    finally:
        stop_relay(process)


def stop_relay(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print("relay ignored SIGTERM for 30 s; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def check_alive(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        raise BenchError(f"the relay exited with code {process.returncode}; see its log")


# --- 1. relay throughput --------------------------------------------------------


def insert_outbox_rows(topic: str, envelopes: list[dict]) -> None:
    with tqdm(total=len(envelopes), desc="insert outbox rows", unit="ev", file=sys.stderr) as bar:
        for start in range(0, len(envelopes), CHUNK):
            chunk = envelopes[start:start + CHUNK]
            with transaction.atomic():
                outbox.add(topic, chunk)
            bar.update(len(chunk))


def measure_relay(topic: str, events: int, log) -> RelayResult:
    published = OutboxMessage.objects.filter(topic=topic, published_at__isnull=False)
    first = first_count = None
    with running_relay(log) as relay, tqdm(total=events, desc="relay → pulsar", unit="ev", file=sys.stderr) as bar:
        started = last_progress = time.perf_counter()
        while True:
            count = published.count()
            now = time.perf_counter()
            if count > bar.n:
                if first is None:
                    first, first_count = now, count
                last_progress = now
                bar.update(count - bar.n)
            if count >= events:
                return RelayResult(first - started, now - first, count - first_count, now - started)
            check_alive(relay)
            if now - last_progress > STALL_SECONDS:
                raise BenchError(f"the relay published nothing for {STALL_SECONDS} s ({count}/{events} done)")
            time.sleep(POLL_SECONDS)


# --- 2. bare producer -----------------------------------------------------------


def measure_bare_producer(topic: str, envelopes: list[dict]) -> float:
    """Messages/s of a plain producer with the relay's options (Relay._producer) and its
    per-message work (encode, properties, key, sequence id), without the database."""
    client = pulsar_client()
    try:
        producer = client.create_producer(
            pulsar_transport.topic_name(topic),
            producer_name=f"{RELAY_PRODUCER_NAME}.{topic}",
            send_timeout_millis=0,
            block_if_queue_full=True,
            max_pending_messages=settings.RELAY_BATCH_SIZE * 2,
            batching_enabled=False,
        )
        done = threading.Condition()
        results = {"ok": 0, "failed": 0}

        def on_sent(result, _message_id):
            with done:
                results["ok" if result == pulsar.Result.Ok else "failed"] += 1
                done.notify()

        with tqdm(total=len(envelopes), desc="bare producer", unit="msg", file=sys.stderr) as bar:
            started = time.perf_counter()
            for sequence_id, envelope in enumerate(envelopes, start=1):
                producer.send_async(
                    pulsar_transport.encode(envelope), on_sent,
                    properties=pulsar_transport.properties(envelope),
                    partition_key=envelope["aggregate_id"], sequence_id=sequence_id,
                )
                if sequence_id % CHUNK == 0:
                    bar.update(CHUNK)
            producer.flush()
            with done:
                done.wait_for(lambda: results["ok"] + results["failed"] == len(envelopes))
            elapsed = time.perf_counter() - started
            bar.update(len(envelopes) - bar.n)
        if results["failed"]:
            raise BenchError(f"the broker refused {results['failed']} bare messages")
        producer.close()
        return len(envelopes) / elapsed
    finally:
        client.close()


# --- 3. commit → Pulsar latency -------------------------------------------------


def measure_latency(topic: str, rate: int, seconds: float, writers: int, per_commit: int, aggregates,
                    log) -> LatencyResult:
    received: dict[str, float] = {}  # event id → receive time.time()
    committed: dict[str, float] = {}  # event id → time.time() right after commit
    client = pulsar_client()
    try:
        # Created before anything is published, so MessageId.latest misses nothing.
        client.create_reader(
            pulsar_transport.topic_name(topic), pulsar.MessageId.latest,
            reader_listener=lambda _reader, message: received.setdefault(message.properties()["event_id"], time.time()),
        )
        with running_relay(log) as relay:
            warm_up(topic, aggregates, received, relay)
            total = int(rate * seconds)
            achieved_rate = commit_at_rate(topic, aggregates, rate, total, writers, per_commit, committed)
            wait_for_delivery(committed, received, relay)
    finally:
        client.close()
    latencies = [(received[event_id] - at) * 1000 for event_id, at in committed.items() if event_id in received]
    return LatencyResult(latencies, len(committed), len(committed) - len(latencies), achieved_rate)


def warm_up(topic: str, aggregates, received: dict, relay: subprocess.Popen) -> None:
    """One event end to end, so relay start-up and producer creation are not counted."""
    envelope = make_envelope(aggregates[0], -1)
    with transaction.atomic():
        outbox.add(topic, [envelope])
    deadline = time.monotonic() + STALL_SECONDS
    while envelope["id"] not in received:
        check_alive(relay)
        if time.monotonic() > deadline:
            raise BenchError(f"the warm-up event did not arrive within {STALL_SECONDS} s")
        time.sleep(POLL_SECONDS)
    del received[envelope["id"]]


def commit_at_rate(topic: str, aggregates, rate: int, total: int, writers: int, per_commit: int,
                   committed: dict) -> float:
    """Commit `total` events, `per_commit` per transaction, on an absolute schedule shared by
    the writer threads (each takes every `writers`-th slot); returns the achieved event rate.
    One event per transaction tops out near 500 commits/s on this machine's disk (fsync)."""
    start = time.perf_counter() + 0.1
    slots = total // per_commit

    def write(offset: int) -> float:
        """Returns when this writer's last commit finished (perf_counter)."""
        try:
            for slot in range(offset, slots, writers):
                envelopes = [make_envelope(aggregates[(slot * per_commit + k) % len(aggregates)], slot * per_commit + k)
                             for k in range(per_commit)]
                delay = start + slot * per_commit / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                with transaction.atomic():
                    outbox.add(topic, envelopes)
                committed_at = time.time()
                for envelope in envelopes:
                    committed[envelope["id"]] = committed_at
            return time.perf_counter()
        finally:
            connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(writers) as pool, tqdm(total=total, desc="commit at rate", unit="ev", file=sys.stderr) as bar:
        futures = [pool.submit(write, offset) for offset in range(writers)]
        while not all(future.done() for future in futures):
            bar.update(len(committed) - bar.n)
            time.sleep(0.25)
        finished = max(future.result() for future in futures)  # re-raises a writer's error
        bar.update(len(committed) - bar.n)
    return len(committed) / (finished - start)


def wait_for_delivery(committed: dict, received: dict, relay: subprocess.Popen) -> None:
    last_count, last_progress = -1, time.monotonic()
    while len(received) < len(committed) and time.monotonic() - last_progress < STALL_SECONDS:
        check_alive(relay)
        if len(received) != last_count:
            last_count, last_progress = len(received), time.monotonic()
        time.sleep(POLL_SECONDS)


# --- report and clean-up --------------------------------------------------------


def postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def notable_log_lines(log) -> list[str]:
    log.flush()
    log.seek(0)
    return [line.rstrip() for line in log.read().decode(errors="replace").splitlines() if NOTABLE_LOG_LINE.search(line)]


def summary(args, size: float, relay: RelayResult, bare_rate: float, latency: LatencyResult, log_lines: list[str]) -> str:
    relay_rate = relay.drained / relay.drain
    ratio = relay_rate / bare_rate * 100
    ms = sorted(latency.latencies_ms)
    p50, p95, p99 = (percentile(ms, f) for f in (0.50, 0.95, 0.99))

    rows = [
        ("Mean message size (JSON)", f"{size:.0f} B", "", ""),
        ("Relay start-up (start → first row published)", f"{relay.startup:.2f} s", "", ""),
        ("Relay throughput (first → last rows seen published)", f"{relay_rate:,.0f} ev/s", "", ""),
        (f"Relay end to end incl. start-up ({args.events:,} rows)",
         f"{relay.total:.2f} s = {args.events / relay.total:,.0f} ev/s", "", ""),
        ("Bare producer, same options and messages", f"{bare_rate:,.0f} msg/s", "", ""),
        ("Relay / bare producer", f"{ratio:.0f} %", "≥ 50 %", verdict(ratio >= 50)),
        ("Achieved event rate in the latency phase",
         f"{latency.achieved_rate:,.0f} ev/s ({args.writers} writers, {args.events_per_commit} events per commit, "
         f"{latency.committed:,} events)",
         f"{args.rate:,} ev/s", verdict(latency.achieved_rate >= 0.98 * args.rate)),
        ("Commit → Pulsar latency p50", f"{p50:.1f} ms", "", ""),
        ("Commit → Pulsar latency p95", f"{p95:.1f} ms", "", ""),
        ("Commit → Pulsar latency p99", f"{p99:.1f} ms", "≤ 100 ms", verdict(p99 <= 100)),
        ("Commit → Pulsar latency max", f"{ms[-1]:.1f} ms", "", ""),
        ("Events committed but never received", f"{latency.lost}", "0", verdict(latency.lost == 0)),
        ("Warnings/errors in the relay log", f"{len(log_lines)}", "0", verdict(not log_lines)),
    ]
    command = (
        f"python bench/relay.py --events {args.events} --rate {args.rate} "
        f"--latency-seconds {args.latency_seconds:g} --writers {args.writers} --events-per-commit {args.events_per_commit}"
    )
    lines = [
        heading("Relay benchmark"),
        "",
        f"`{command}`: nproc {len(os.sched_getaffinity(0))}, Python {platform.python_version()}, "
        f"Pulsar broker {broker_version()} (pulsar-client {pulsar.__version__}), PostgreSQL {postgres_version()}, "
        f"relay batch size {settings.RELAY_BATCH_SIZE}, {AGGREGATES:,} aggregates.",
        "",
        *measure_table(rows),
    ]
    return "\n".join(lines)


def delete_topic(topic: str) -> None:
    url = f"{settings.PULSAR_ADMIN_URL}/admin/v2/persistent/{settings.PULSAR_TENANT_NAMESPACE}/{topic}?force=true"
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30).close()
    except OSError as error:
        print(f"could not delete topic {topic}: {error}", file=sys.stderr)


def clean_up(topics: list[str]) -> None:
    deleted, _ = OutboxMessage.objects.filter(topic__startswith="bench.").delete()
    print(f"deleted {deleted} benchmark outbox rows", file=sys.stderr)
    for topic in topics:
        delete_topic(topic)


# --- main -----------------------------------------------------------------------


def run(args, topics: list[str], log) -> str:
    aggregates = [uuid.uuid4() for _ in range(AGGREGATES)]
    envelopes = make_envelopes(args.events, aggregates)
    size = statistics.fmean(len(pulsar_transport.encode(envelope)) for envelope in envelopes)
    insert_outbox_rows(topics[0], envelopes)
    relay = measure_relay(topics[0], args.events, log)
    bare_rate = measure_bare_producer(topics[1], make_envelopes(args.events, aggregates))
    latency = measure_latency(topics[2], args.rate, args.latency_seconds, args.writers, args.events_per_commit,
                              aggregates, log)
    if not latency.latencies_ms:
        raise BenchError("no event of the latency phase arrived")
    log_lines = notable_log_lines(log)
    for line in log_lines:
        print(f"relay log: {line}", file=sys.stderr)
    return summary(args, size, relay, bare_rate, latency, log_lines)


def main() -> int:
    args = parse_args()
    refuse_unless_ready()
    run_id = uuid.uuid4().hex[:8]
    topics = [f"bench.relay-{run_id}", f"bench.bare-{run_id}", f"bench.latency-{run_id}"]
    log = tempfile.NamedTemporaryFile(prefix="bench-relay-", suffix=".log", delete=False)
    try:
        print(run(args, topics, log))
    except BenchError as error:
        print(f"bench/relay.py: {error} (relay log kept at {log.name})", file=sys.stderr)
        return 1
    finally:
        clean_up(topics)
        log.close()
    os.unlink(log.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
