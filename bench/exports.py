"""Benchmark of the CSV export of commissions (GET /api/v1/pagos/transacciones.csv), for
docs/PERFORMANCE.md.

The issue's target: a 1,000,000-row export streams in constant memory, the web process's RSS growing
by less than 50 MB over it, and the web server's worker timeout does not cut it.

In one run, in a scratch database of its own (`alpespartners_bench_exports`), it:
1. loads the rows with bench/payouts.py's set-based load (one INSERT … SELECT per 100,000 rows;
   not timed against the target), and a staff user with a token;
2. starts gunicorn as the Procfile runs it (the project's conf, 2 gthread workers of 4 threads,
   the default 30 s timeout; --worker-class and --worker-timeout change the last two) on a free port, against the scratch database and a Redis database of the
   run's own (--redis-db, default 14, cache and broker; nothing is queued by an export);
3. warms every worker with small exports (a filter that matches nothing), then reads each worker's
   VmRSS (/proc/<pid>/status) as its baseline;
4. downloads the whole export over HTTP on 127.0.0.1 (http.client, 64 KiB reads), while a thread
   samples every worker's VmRSS every 50 ms; reports the time to the first byte, the duration, rows/s,
   MB/s and the largest growth of a worker's RSS over its baseline (the worker that served);
5. checks that the CSV has the header and exactly one line per row loaded, and that the download was
   not cut and no worker restarted (the same pids before and after: a timeout kills the one streaming).

Needs PostgreSQL, whose role may create databases, and Redis:

    DATABASE_URL=postgres://…/alpespartners .venv/bin/python bench/exports.py [--transacciones 1000000] \\
        [--redis-db 14] [--worker-class gthread|sync] [--worker-timeout 30]

Progress goes to stderr; stdout gets only a Markdown summary. The scratch database is dropped at the end,
even on error; the database of DATABASE_URL is only used to create and drop it.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.common import (HOST, BenchError, Child, create_scratch_database, drop_scratch_database,  # noqa: E402
                          free_port, heading, load_average, load_note, measure_table, platform_facts,
                          scratch_database_url, verdict, web_command)
from bench.payouts import load  # noqa: E402
from pagos import exports  # noqa: E402

BENCH_DATABASE = "alpespartners_bench_exports"
TARGET_RSS_MB = 50
WORKERS = 2  # the Procfile's
CONF = ("-c", "python:alpespartners.gunicorn_conf")
PATH = "/api/v1/pagos/transacciones.csv"
READ_BYTES = 64 * 1024
SAMPLE_SECONDS = 0.05
REDIS_DBS_IN_USE = set(range(0, 8)) | {9, 11, 12, 13}  # the project's, its tests' and the other benchmarks'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transacciones", type=int, default=1_000_000)
    parser.add_argument("--socios", type=int, default=10_000, help="partners the rows are spread over")
    parser.add_argument("--redis-db", type=int, default=14, help="cache and broker of the web process")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"],
                        help="the Procfile's gthread; sync to see what its timeout does to a long export")
    parser.add_argument("--worker-timeout", type=int, default=30,
                        help="gunicorn's --timeout (the Procfile's default 30); lower than the export to show it is not cut")
    args = parser.parse_args()
    if args.redis_db in REDIS_DBS_IN_USE:
        parser.error(f"--redis-db {args.redis_db} is used by the project, its tests or another benchmark")
    return args


def vm_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def worker_pids(master: int) -> list[int]:
    with open(f"/proc/{master}/task/{master}/children") as children:
        return sorted(int(pid) for pid in children.read().split())


def get(port: int, token: str, query: str = "") -> http.client.HTTPResponse:
    client = http.client.HTTPConnection(HOST, port, timeout=600)
    client.request("GET", PATH + query, headers={"Authorization": f"Token {token}"})
    answer = client.getresponse()
    if answer.status != 200:
        raise BenchError(f"GET {PATH}{query} answered {answer.status}: {answer.read()[:300]!r}")
    return answer


def start_web(args, log_dir: Path) -> tuple[Child, int]:
    redis_url = f"redis://{HOST}:6379/{args.redis_db}"
    env = {**os.environ, "DATABASE_URL": scratch_database_url(BENCH_DATABASE), "CACHE_URL": redis_url,
           "CELERY_BROKER_URL": redis_url}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the conf makes a directory of its own
    port = free_port()
    options = (*CONF, "--timeout", str(args.worker_timeout))
    web = Child("web", web_command(sys.executable, port, WORKERS, *options, worker_class=args.worker_class),
                env, log_dir).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        web.check_alive()
        try:
            http.client.HTTPConnection(HOST, port, timeout=2).request("GET", "/health")
            if len(worker_pids(web.pid)) == WORKERS:
                return web, port
        except OSError:
            pass
        time.sleep(0.25)
    raise BenchError(f"gunicorn did not answer within 60 s; see {web.log_path}")


class RssSampler(threading.Thread):
    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.peak = pids, {pid: 0 for pid in pids}
        self.running = True

    def run(self):
        while self.running:
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], vm_rss_kb(pid))
            time.sleep(SAMPLE_SECONDS)


def export(port: int, token: str, pids: list[int]) -> dict:
    for _ in range(4 * WORKERS):  # each worker imports the views and opens its connection before the baseline
        get(port, token, "?id_socio=00000000-0000-0000-0000-000000000000").read()
    baseline = {pid: vm_rss_kb(pid) for pid in pids}
    sampler = RssSampler(pids)
    sampler.start()
    began = time.perf_counter()
    answer = get(port, token)
    first = answer.read(READ_BYTES)
    first_byte = time.perf_counter() - began
    size, lines, head, cut = len(first), first.count(b"\n"), first, False
    try:
        while chunk := answer.read(READ_BYTES):
            size += len(chunk)
            lines += chunk.count(b"\n")
    except (http.client.IncompleteRead, ConnectionError) as error:  # the worker died mid-response
        print(f"the export was cut: {error!r}"[:200], file=sys.stderr)
        cut = True
    seconds = time.perf_counter() - began
    sampler.running = False
    sampler.join()
    growth = {pid: sampler.peak[pid] - baseline[pid] for pid in pids}
    return {"first_byte": first_byte, "seconds": seconds, "bytes": size, "lines": lines,
            "header": head.split(b"\r\n", 1)[0].decode(), "baseline": baseline, "peak": sampler.peak,
            "growth": growth, "cut": cut}


def run(args, load_before: str, log_dir: Path) -> str:
    load(argparse.Namespace(transacciones=args.transacciones, socios=args.socios, monedas=1))
    user = get_user_model().objects.create_user("bench-exports", is_staff=True)
    token = Token.objects.create(user=user).key
    connection.close()  # the web process reads the database from here on
    web, port = start_web(args, log_dir)
    try:
        pids = worker_pids(web.pid)
        print(f"exporting {args.transacciones:,} rows from gunicorn (workers {pids})", file=sys.stderr)
        result = export(port, token, pids)
        result["restarted"] = worker_pids(web.pid) != pids
        web.check_alive()
    finally:
        web.stop()
    return summary(args, load_before, result, web)


def summary(args, load_before: str, result: dict, web: Child) -> str:
    rows = result["lines"] - 1
    growth_mb = max(result["growth"].values()) / 1024
    header_ok = result["header"] == ",".join(exports.TRANSACCIONES.encabezados)
    rows_ok = rows == args.transacciones and header_ok
    whole = not result["restarted"] and not result["cut"]
    workers = ", ".join(f"{pid}: {result['baseline'][pid] / 1024:.0f} → {result['peak'][pid] / 1024:.0f} MB"
                        for pid in sorted(result["baseline"]))
    lines = [
        heading(f"CSV export of {args.transacciones:,} commissions (GET {PATH})"),
        "",
        f"Command: `DATABASE_URL=… .venv/bin/python bench/exports.py --transacciones {args.transacciones} "
        f"--socios {args.socios} --redis-db {args.redis_db} --worker-class {args.worker_class} "
        f"--worker-timeout {args.worker_timeout}`",
        "",
        platform_facts(),
        load_note(load_before),
        "",
        *measure_table([
            ("Rows in the CSV (header apart)", f"{rows:,}", f"{args.transacciones:,}", verdict(rows_ok)),
            ("Time to the first byte", f"{result['first_byte']:.2f} s", "", ""),
            ("Duration", f"{result['seconds']:.1f} s" + ("" if whole else ", **cut**: a worker was killed"),
             f"not cut by the {args.worker_timeout} s worker timeout", verdict(whole)),
            ("Rows/s", f"{rows / result['seconds']:,.0f}", "", ""),
            ("Size, throughput", f"{result['bytes'] / 1e6:.0f} MB, {result['bytes'] / 1e6 / result['seconds']:.1f} MB/s",
             "", ""),
            ("Largest RSS growth of a web worker", f"{growth_mb:.1f} MB", f"< {TARGET_RSS_MB} MB",
             verdict(growth_mb < TARGET_RSS_MB)),
        ]),
        "",
        f"Workers' VmRSS, baseline → peak during the export: {workers}. "
        f"Log lines of note: {len(web.notable_lines())}.",
    ]
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    load_before = load_average()
    home = connection.settings_dict["NAME"]
    log_dir = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    print(f"logs in {log_dir}", file=sys.stderr)
    try:
        create_scratch_database(BENCH_DATABASE)
        print(run(args, load_before, log_dir))
    except BenchError as error:
        print(f"bench/exports.py: {error}", file=sys.stderr)
        return 1
    finally:
        if home != BENCH_DATABASE:
            drop_scratch_database(BENCH_DATABASE, home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
