"""Shared fixtures. Integration and e2e tests run on the real services `make test` starts;
when one is missing they fail (never skip), so a green run always means a real one."""

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

ROOT = Path(__file__).resolve().parent.parent


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def real_services():
    """Fail, with the reason, unless PostgreSQL, Redis (broker and cache) and Pulsar are configured and answering."""
    missing = []
    if not settings.USING_POSTGRESQL:
        missing.append("DATABASE_URL (PostgreSQL)")
    if not settings.CELERY_BROKER_URL.startswith("redis://") or not reachable(settings.CELERY_BROKER_URL, 6379):
        missing.append("CELERY_BROKER_URL (Redis)")
    if not settings.PULSAR_URL or not reachable(settings.PULSAR_URL, 6650):
        missing.append("PULSAR_URL (Pulsar)")
    cache_location = settings.CACHES["default"].get("LOCATION", "")
    if not cache_location.startswith("redis://") or not reachable(cache_location, 6379):
        missing.append("CACHE_URL (Redis)")
    if missing:
        pytest.fail("real services missing: " + ", ".join(missing) + " — run `make test`", pytrace=False)


PULSAR_LOG = Path(os.environ.get("ALPES_CACHE_DIR", Path.home() / ".cache" / "alpespartners")) / "pulsar-standalone.log"
SESSION_STARTED = datetime.now(timezone.utc)


def pytest_terminal_summary(terminalreporter, exitstatus):
    """After a failed run, the broker's own errors during it: a test that failed on Pulsar's side is
    told apart from one that failed on ours without logging into the machine."""
    if exitstatus == 0 or not PULSAR_LOG.exists():
        return
    with PULSAR_LOG.open(errors="replace") as log:
        errors = [line.rstrip()[:300] for line in log
                  if (" ERROR " in line or "faulty" in line) and _logged_at(line) >= SESSION_STARTED]
    if errors:
        terminalreporter.section(f"Pulsar's errors during this run ({PULSAR_LOG})")
        for line in errors[-25:]:
            terminalreporter.write_line(line)


def _logged_at(line: str) -> datetime:
    try:  # 2026-11-30T21:36:06,252+0000 [thread] LEVEL ...
        return datetime.strptime(line[:28], "%Y-%m-%dT%H:%M:%S,%f%z")
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)


@pytest.fixture
def user(django_user_model):
    """The back office's API user: staff see and do everything (tests/api/test_access.py covers the roles)."""
    return django_user_model.objects.create_user(username="operador", password="x", is_staff=True)


@pytest.fixture
def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def set_eager(value: bool) -> None:
    """Celery reads its settings under the CELERY_ namespace (alpespartners/celery.py): the
    namespaced key is the one to change at run time (5.6 ignores the plain task_always_eager)."""
    from alpespartners.celery import app

    app.conf.CELERY_TASK_ALWAYS_EAGER = value


@pytest.fixture
def eager_commands():
    """Run command tasks in-process on commit (the API's path without a worker)."""
    from alpespartners.celery import app

    previous = app.conf.task_always_eager
    set_eager(True)
    yield
    set_eager(previous)


# --- running processes (e2e) --------------------------------------------------


def process_env(**extra) -> dict:
    from django.db import connection

    database = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        CELERY_TASK_ALWAYS_EAGER="false",
        RELAY_PRODUCER_NAME="alpespartners-relay-tests",
        RELAY_POLL_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Process:
    """A project process (relay, consume, worker) running against the test database."""

    def __init__(self, name: str, args: list[str], log_dir: Path, **env):
        self.name, self.args, self.env = name, args, process_env(**env)
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = open(self.log_path, "a")
        self.popen = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait()

    def stop(self, timeout: float = 30) -> int:
        self.popen.terminate()
        return self.popen.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text()


@pytest.fixture
def processes(real_services, transactional_db, tmp_path):
    """Start project processes; every one still running is stopped with SIGTERM afterwards."""
    started: list[Process] = []

    def start(name: str, *args: str, **env) -> Process:
        process = Process(name, [sys.executable, *args], tmp_path, **env).start()
        started.append(process)
        return process

    yield start
    # Every process is stopped even if one hangs (it is killed, then reported): one left running
    # would take the next test's tasks and messages.
    hung = []
    for process in started:
        if process.popen.poll() is None:
            try:
                process.stop()
            except subprocess.TimeoutExpired:
                process.kill()
                hung.append(process.name)
    if hung:
        pytest.fail(f"did not stop within 30 s of SIGTERM (killed): {', '.join(hung)}", pytrace=False)


def manage(*args: str) -> tuple[str, ...]:
    return ("manage.py", *args)


def celery_worker() -> tuple[str, ...]:
    return ("-m", "celery", "-A", "alpespartners", "worker", "-l", "info", "-c", "2", "--without-mingle", "--without-gossip")


def wait_until(condition, timeout: float, message: str, interval: float = 0.1, diagnose=None):
    """`diagnose()`, when given, adds what it returns to the timeout's message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s: {message}" + (f"\n{diagnose()}" if diagnose else ""), pytrace=False)
