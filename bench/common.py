"""What every benchmark script here shares: a scratch PostgreSQL database of its own, created,
migrated and dropped around the run; the project's processes (web, worker, beat, relay, consumers)
started as children with their logs, against a Redis database and a Pulsar namespace of the run's
own; how far the commissions' events have gone through the relay and the consumers; the CPU each
part of the machine used during a phase; and the pieces of the Markdown summary.
Import after `django.setup()`."""

from __future__ import annotations

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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import django
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from tqdm import tqdm

from alpespartners.messaging import contexts
from alpespartners.messaging.models import CommandLog, InboxMessage, OutboxMessage

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
POLL_SECONDS = 0.25
START_SECONDS = 90  # a child process must be ready within this
NOTABLE_LOG_LINE = re.compile(r"\b(ERROR|CRITICAL|FATAL|Traceback)\b")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROJECT_PROCESSES = ("web (gunicorn)", "worker (celery)", "beat (celery)", "relay", "consumers")
COMMISSION_EVENT = "ComisionRegistrada"
COMMISSION_TOPIC = "eventos.pagos"


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def use_database(name: str) -> None:
    """Point the default connection (of this process) at another database of the same server."""
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name


def create_scratch_database(name: str, migrate: bool = True) -> str:
    """Create and migrate `name` (dropping one left by an interrupted run) and point this process's
    connection at it; returns the name of the database to go back to. `migrate=False` when another
    checkout's code migrates it (bench/pipeline.py --code)."""
    home = connection.settings_dict["NAME"]
    if home == name:
        raise BenchError(f"DATABASE_URL already names {name}; point it at the project's database")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            print(f"dropping {name}, left by an earlier run", file=sys.stderr)
            drop_database(cursor, name)
        cursor.execute(f'CREATE DATABASE "{name}"')
    use_database(name)
    if migrate:
        print(f"migrating the scratch database {name}", file=sys.stderr)
        call_command("migrate", verbosity=0, interactive=False)
    return home


def drop_scratch_database(name: str, home: str) -> None:
    use_database(home)
    with connection.cursor() as cursor:
        drop_database(cursor, name)
    connections.close_all()
    print(f"dropped the scratch database {name}", file=sys.stderr)


def drop_database(cursor, name: str, attempts: int = 20) -> None:
    """DROP DATABASE `name`. Sessions of this role still in it (a child killed mid-transaction, a
    phase given up on) are terminated first; autovacuum is stopped by DROP DATABASE itself
    (WITH (FORCE) would fail on it: its worker is not this role's)."""
    for attempt in range(attempts):
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                       "AND pid <> pg_backend_pid() AND usename = current_user", [name])
        try:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            return
        except OperationalError:  # "being accessed by other users": a terminated session not gone yet
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def load_average() -> str:
    """The 1-minute load average: on a shared machine, how busy it already is before the benchmark."""
    with open("/proc/loadavg") as file:
        return file.read().split()[0]


def server_settings(*names: str) -> dict[str, str]:
    """PostgreSQL's version and the settings a figure depends on, for the run's header."""
    values = {}
    with connection.cursor() as cursor:
        for name in ("server_version", *names):
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0].split()[0]
    return values


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def scratch_database_url(name: str) -> str:
    """DATABASE_URL of the scratch database `name`, for the children."""
    database = connection.settings_dict
    return (f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or HOST}:"
            f"{database['PORT'] or 5432}/{name}")


def refuse_unless_stack_ready(script: str, without_pulsar: str) -> None:
    """Exit (code 2) unless PostgreSQL, a Redis broker and a local Pulsar are configured;
    `without_pulsar` says what the script would miss without Pulsar."""
    problem = None
    if not settings.USING_POSTGRESQL:
        problem = "DATABASE_URL must point to PostgreSQL."
    elif not settings.CELERY_BROKER_URL.startswith("redis://"):
        problem = "CELERY_BROKER_URL must point to Redis: the benchmark runs a real Celery worker."
    elif not settings.PULSAR_URL:
        problem = f"PULSAR_URL is not set: {without_pulsar}"
    else:
        for url in (settings.CELERY_BROKER_URL, settings.PULSAR_URL, settings.PULSAR_ADMIN_URL):
            if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
                problem = f"{url} is not on this machine; the benchmark only talks to 127.0.0.1."
    if problem:
        print(f"{script}: {problem}", file=sys.stderr)
        sys.exit(2)


# --- the run's own broker database and Pulsar namespace -----------------------------


class BrokerDatabase:
    """A Redis database of its own for this run's Celery queue: no other worker takes its tasks."""

    def __init__(self, number: int, marker: str):
        parsed = urlparse(settings.CELERY_BROKER_URL)
        self.marker = marker  # set in the database while a run owns it
        self.url = f"redis://{parsed.netloc}/{number}"
        self.client = redis.Redis.from_url(self.url)
        self.owned = False

    def claim(self) -> None:
        keys = self.client.dbsize()
        if keys and not self.client.exists(self.marker):
            raise BenchError(f"{self.url} holds {keys} keys of someone else; choose another --redis-db")
        if keys:
            print(f"emptying {self.url}, left by an earlier run", file=sys.stderr)
            self.client.flushdb()
        self.client.set(self.marker, "1")
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

    def __init__(self, name: str):
        self.name = name
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


def broker_version() -> str:
    try:
        with urllib.request.urlopen(f"{settings.PULSAR_ADMIN_URL}/admin/v2/brokers/version", timeout=5) as response:
            return response.read().decode().strip()
    except OSError:
        return "unknown"


# --- child processes ------------------------------------------------------------


class Child:
    """A project process in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path, cwd: Path = REPO):
        self.name, self.args, self.env, self.cwd = name, args, env, cwd
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Child":
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
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


def stack_env(database: str, broker: BrokerDatabase, namespace: PulsarNamespace, relay_producer_name: str,
              **settings_: str) -> dict[str, str]:
    """The environment of every process a bench starts: its scratch database, its Redis database as
    broker and cache (the throttling counters and the repeat check's keys stay out of the shared
    cache), its Pulsar namespace, a relay producer name of its own; `settings_` adds more."""
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database_url(database),
        "CELERY_BROKER_URL": broker.url,
        "CACHE_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PULSAR_NAMESPACE": namespace.name,
        "RELAY_PRODUCER_NAME": relay_producer_name,
        "PYTHONUNBUFFERED": "1",
        **settings_,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn_conf makes its own
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def web_command(python: str, port: int, workers: int, *options: str,
                app: str = "alpespartners.wsgi:application", worker_class: str = "gthread") -> list[str]:
    """As the Procfile runs it: gthread workers of 4 threads (sync workers until the CSV exports).
    No threads for another class: gunicorn turns a sync worker with threads into gthread."""
    threads = ("--threads", "4") if worker_class == "gthread" else ()
    return [python, "-m", "gunicorn", app, *options, "--bind", f"{HOST}:{port}", "--workers", str(workers),
            "--worker-class", worker_class, *threads]


def worker_command(python: str, concurrency: int) -> list[str]:
    # As the Procfile runs it, with a fixed concurrency and without mingle and gossip (one worker).
    return [python, "-m", "celery", "-A", "alpespartners", "worker", "-l", "info", "-c", str(concurrency),
            "--without-mingle", "--without-gossip"]


def beat_command(python: str) -> list[str]:
    # As the Procfile runs it: the scheduler of settings, whose entries are rows of the database.
    return [python, "-m", "celery", "-A", "alpespartners", "beat", "-l", "info"]


@dataclass
class Stack:
    web: Child
    worker: Child
    relay: Child
    port: int
    consumers: list[Child] = field(default_factory=list)
    token: str = ""
    beat: Child | None = None  # None where no periodic task takes part in the path measured

    def new_client(self) -> "Client":
        return Client(self.port, self.token)

    @property
    def children(self) -> list[Child]:
        return [self.web, self.worker, *([self.beat] if self.beat else []), self.relay, *self.consumers]

    def check_alive(self) -> None:
        for child in self.children:
            child.check_alive()


def start_stack(stack: Stack, started: list[Child]) -> Stack:
    """Start the stack's children (consumers first: subscribed before anything is published) and
    wait until the web server answers /health."""
    for child in (*stack.consumers, stack.web, stack.worker, *([stack.beat] if stack.beat else []), stack.relay):
        started.append(child.start())
    deadline = time.monotonic() + START_SECONDS
    while True:
        stack.check_alive()
        try:
            with urllib.request.urlopen(f"http://{HOST}:{stack.port}/health", timeout=5) as response:
                if response.status == 200:
                    return stack
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"the web server did not answer /health within {START_SECONDS} s")
        time.sleep(0.25)


def report_log_lines(children: list[Child]) -> dict[str, list[str]]:
    """Each child's ERROR/CRITICAL/FATAL/Traceback lines; the first 20 of each go to stderr."""
    log_lines = {child.name: child.notable_lines() for child in children}
    for name, lines in log_lines.items():
        for line in lines[:20]:
            print(f"{name} log: {line}", file=sys.stderr)
    return log_lines


def run_with_stack(script: str, log_prefix: str, broker: BrokerDatabase, namespace: PulsarNamespace,
                   database: str, migrate: bool,
                   body: Callable[[Path, list[Child]], tuple[str, int]]) -> int:
    """Claim the broker database, create the namespace and the scratch database, print what
    `body(log_dir, started)` returns as its summary and undo all of it, even on error. `body`
    appends every child it starts to `started` (stopped here in reverse order) and returns the
    summary and the number of error lines in the children's logs (their logs are kept if any)."""
    log_dir = Path(tempfile.mkdtemp(prefix=log_prefix))
    started: list[Child] = []
    home = None
    try:
        broker.claim()
        namespace.create()
        home = create_scratch_database(database, migrate=migrate)
        text, log_errors = body(log_dir, started)
        print(text)
    except BenchError as error:
        print(f"{script}: {error} (child logs kept in {log_dir})", file=sys.stderr)
        return 1
    except BaseException:
        print(f"{script}: failed (child logs kept in {log_dir})", file=sys.stderr)
        raise
    finally:
        for child in reversed(started):
            child.stop()
        if home is not None:
            drop_scratch_database(database, home)
        broker.release()
        namespace.delete()
    if log_errors:
        print(f"{script}: errors in the child logs; logs kept in {log_dir}", file=sys.stderr)
        return 0
    for path in log_dir.iterdir():
        path.unlink()
    log_dir.rmdir()
    return 0


# --- HTTP clients -----------------------------------------------------------------


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


def command_ids(answers: list[Answer]) -> list[str]:
    return [json.loads(answer.body)["command_id"] for answer in answers if answer.status == 202]


# --- the commissions' events: published by the relay, applied by the consumers ----------


def consuming_contexts(event_type: str = COMMISSION_EVENT, topic: str = COMMISSION_TOPIC) -> list[str]:
    """The contexts that apply `event_type` of `topic`, read from this checkout's code (also for an
    A/B run of older code, whose consumers may record inbox rows for types they ignore)."""
    found = []
    for context in contexts.all_contexts():
        if hasattr(contexts, "consumed_types"):
            types = contexts.consumed_types(context, topic)
        else:
            types = set(contexts.subscriptions(context).get(topic, {}))
        if event_type in types:
            found.append(context)
    if not found:
        raise BenchError(f"no context consumes {event_type} of {topic}: nothing to measure")
    return found


def work_left(consuming: list[str]) -> dict[str, int]:
    """What the stack still has to do with the run's commissions, whatever phase it came from: commands
    not run, outbox rows not published, commissions each consuming context has not applied."""
    total = OutboxMessage.objects.filter(type=COMMISSION_EVENT).count()
    waiting = {
        "commands PENDIENTE": CommandLog.objects.filter(status="PENDIENTE").count(),
        "outbox unpublished": OutboxMessage.objects.filter(published_at__isnull=True).count(),
    }
    for context in consuming:
        waiting[f"{COMMISSION_EVENT} not applied by {context}"] = max(
            total - InboxMessage.objects.filter(consumer=context, type=COMMISSION_EVENT).count(), 0)
    return waiting


def settle(stack: Stack, work: Callable[[], dict[str, int]], max_seconds: float, label: str) -> dict[str, int]:
    """Wait (at most `max_seconds`) until `work()` is all zeros — the previous phase's work done; returns
    what is left."""
    deadline = time.monotonic() + max_seconds
    with tqdm(desc=f"{label}: waiting for the backlog", unit="poll", file=sys.stderr, leave=False) as bar:
        while True:
            stack.check_alive()
            left = {name: value for name, value in work().items() if value}
            if not left or time.monotonic() > deadline:
                if left:
                    print(f"{label}: starting with a backlog: {left}", file=sys.stderr)
                return left
            bar.set_postfix(**{name.split()[0]: value for name, value in left.items()})
            bar.update()
            time.sleep(POLL_SECONDS)


def outbox_table() -> str:
    return connection.ops.quote_name(OutboxMessage._meta.db_table)


def inbox_table() -> str:
    return connection.ops.quote_name(InboxMessage._meta.db_table)


@dataclass
class Progress:
    events: int  # ComisionRegistrada outbox rows of the phase
    published: int
    last_published: datetime | None
    applied: dict[str, int]  # per consuming context
    last_applied: dict[str, datetime | None]


def phase_progress(baseline: int, id_campania: uuid.UUID, consuming: list[str]) -> Progress:
    """The phase's ComisionRegistrada (outbox id above `baseline`, its campaign): how many, how
    many published, and how many each consuming context has in its inbox."""
    where = "o.id > %s AND o.type = %s AND o.envelope -> 'data' ->> 'id_campania' = %s"
    params = [baseline, COMMISSION_EVENT, str(id_campania)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(o.published_at), max(o.published_at) FROM {outbox_table()} o "
                       f"WHERE {where}", params)
        events, published, last_published = cursor.fetchone()
        cursor.execute(f"SELECT i.consumer, count(*), max(i.received_at) FROM {inbox_table()} i "
                       f"JOIN {outbox_table()} o ON o.event_id = i.event_id WHERE {where} AND i.consumer = ANY(%s) "
                       "GROUP BY i.consumer", [*params, consuming])
        rows = {consumer: (count, last) for consumer, count, last in cursor.fetchall()}
    return Progress(events, published, last_published, {c: rows.get(c, (0, None))[0] for c in consuming},
                    {c: rows.get(c, (0, None))[1] for c in consuming})


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
        if stack.beat:
            self.groups["beat (celery)"] = stack.beat.pid
        self.consumer_groups = {child.pid for child in stack.consumers}
        self.before = cpu_by_process()
        self.machine_before = machine_busy_seconds()
        self.started = time.monotonic()

    def category(self, pid: int, comm: str, group: int) -> str | None:
        for name, leader in self.groups.items():
            if group == leader:
                return name
        if group in self.consumer_groups:
            return "consumers"
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


@dataclass
class CpuColumn:
    heading: str
    cpu: dict  # CpuMeter.stop()
    conversions: int = 0  # what the CPU is divided by, when per-conversion cells are wanted


def machine_cell(column: CpuColumn) -> str:
    cpu = column.cpu
    return f"{cpu['machine_busy']:.1f} CPU-s = {cpu['machine_busy'] / cpu['elapsed']:.2f} of {cpu['cores']:.0f} cores busy"


def cpu_table(columns: list[CpuColumn], categories, cell: Callable[[CpuColumn, str], str],
              totals: tuple[tuple[str, Callable[[CpuColumn], str]], ...] = ()) -> list[str]:
    """Markdown table: one row per category of `categories`, one column per phase, then `totals`
    rows (label, cell) and the whole machine's row."""
    lines = ["| Process | " + " | ".join(column.heading for column in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for name in categories:
        lines.append(f"| {name} | " + " | ".join(cell(column, name) for column in columns) + " |")
    for label, total in (*totals, ("whole machine (everyone's processes)", machine_cell)):
        lines.append(f"| {label} | " + " | ".join(total(column) for column in columns) + " |")
    return lines


def cpu_cell(column: CpuColumn, name: str) -> str:
    """CPU per unit of the column's work (its `conversions`), its CPU-s and its share of a core."""
    used = column.cpu["used"].get(name, 0.0)
    per = f"{used / column.conversions * 1000:.3f} ms" if column.conversions else "–"
    return f"{per} ({used:.1f} CPU-s, {used / column.cpu['elapsed'] * 100:.0f} % of a core)"


def cpu_total(names) -> Callable[[CpuColumn], str]:
    def total(column: CpuColumn) -> str:
        used = sum(column.cpu["used"].get(name, 0.0) for name in names)
        return f"{used / column.conversions * 1000:.3f} ms ({used:.1f} CPU-s)" if column.conversions else "–"
    return total


# --- the Markdown summary ------------------------------------------------------------


def heading(title: str) -> str:
    return f"### {title}, {datetime.now().astimezone().isoformat(timespec='seconds')}"


def platform_facts() -> str:
    return f"nproc {len(os.sched_getaffinity(0))}, Python {platform.python_version()}, Django {django.get_version()}"


def load_note(before: str) -> str:
    return f"1-minute load average {before} before the run, {load_average()} after it."


def measure_table(rows, columns: str = "| Measure | Result | Target | |") -> list[str]:
    """Markdown table of `rows` (tuples of cells; a "|" in a cell would split it, so it becomes "/")."""
    return [columns, "|---" * columns.count(" |") + "|",
            *(f"| {' | '.join(cell.replace('|', '/') for cell in row)} |" for row in rows)]
