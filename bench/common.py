"""What every benchmark script here shares: a scratch PostgreSQL database of its own, created,
migrated and dropped around the run, and the bits of its Markdown summary. Import after
`django.setup()`."""

from __future__ import annotations

import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection, connections


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
