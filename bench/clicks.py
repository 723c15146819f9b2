"""Benchmark of tracking-link clicks (GET /t/{codigo}), for docs/PERFORMANCE.md.

Real HTTP on 127.0.0.1 against gunicorn as the Procfile runs it (sync workers, the project's conf),
serving bench/bare_wsgi.py: the project plus a bare view (/t-bare/{codigo}) that only returns the
same redirect. In one run, against a scratch database of its own:
1. bare: K clients request /t-bare/ back to back for S seconds: the bare view's maximum rate;
2. clicks: the same on /t/ (link lookup, bot check, Redis repeat check, buffered row): its rate;
3. paced: /t/ at half the bare rate, requests sent on a schedule: p50/p99 latency;
4. the web server is stopped with SIGTERM and the rows counted: clicks recorded = 302s answered.

Visits rotate over --user-agents distinct browser strings (real traffic repeats a few thousand; the
bot check caches its answer per user agent) and every click asks Redis whether it is a repeat.
Needs PostgreSQL (a role that may create databases) and Redis (CACHE_URL):

    DATABASE_URL=... CACHE_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/clicks.py \\
        [--seconds 10] [--clients 8] [--workers 2] [--links 100]

The scratch database `alpespartners_bench_clicks` is created, migrated and dropped at the end; the
web server runs in its own process group, stopped at the end even on error. Progress goes to
stderr; stdout gets only a Markdown summary.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from bench import common  # noqa: E402
from bench.common import HOST, BenchError, Child  # noqa: E402
from pagos.models import CampaniaLocal, Click, EnlaceLocal  # noqa: E402

DATABASE = "alpespartners_bench_clicks"
MAX_REQUESTS = 1_000_000  # a bound whatever the machine's speed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (threads)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the Procfile runs 2)")
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--user-agents", type=int, default=2000, help="distinct user agents the visits rotate over")
    return parser.parse_args()


def seed(links: int) -> list[str]:
    id_campania = uuid.uuid4()
    CampaniaLocal.objects.create(
        id=id_campania, id_marca=uuid.uuid4(), estado="APROBADA", fecha_inicio="2026-01-01", fecha_fin="2030-01-01",
        moneda="COP", presupuesto=10**9, presupuesto_disponible=10**9, comisiones={}, dias_retencion=30,
        url_destino="https://tienda.co/zapatos?utm_source=alpes")
    codigos = [uuid.uuid4().hex[:11] for _ in range(links)]
    EnlaceLocal.objects.bulk_create([EnlaceLocal(codigo=codigo, id_campania=id_campania, id_socio=uuid.uuid4())
                                     for codigo in codigos])
    return codigos


class Counter:
    def __init__(self):
        self.lock, self.value = threading.Lock(), 0

    def next(self) -> int:
        with self.lock:
            self.value += 1
            return self.value


def run_phase(port: int, prefix: str, codigos: list[str], clients: int, seconds: float, user_agents: int,
              rate: float | None = None) -> tuple[list[float], dict[int, int], float]:
    """`clients` threads GET {prefix}{codigo} until `seconds` pass (or MAX_REQUESTS), back to back
    or, with `rate`, each request at its scheduled time. Returns latencies (ms), statuses, elapsed."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock, counter = threading.Lock(), Counter()
    started = time.monotonic()
    deadline = started + seconds

    def work(n: int):
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine, codes = [], {}
        while True:
            i = counter.next()
            if rate is not None:
                at = started + i / rate
                if at >= deadline:
                    break
                time.sleep(max(0.0, at - time.monotonic()))
            elif time.monotonic() >= deadline:
                break
            if i > MAX_REQUESTS:
                break
            sent = time.monotonic()
            user_agent = f"Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0 bench/{i % user_agents}"
            try:
                connection.request("GET", f"{prefix}{codigos[i % len(codigos)]}", headers={"User-Agent": user_agent})
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

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(latencies), statuses, time.monotonic() - started


def describe(name: str, latencies: list[float], statuses: dict[int, int], elapsed: float) -> tuple[str, ...]:
    rate = len(latencies) / elapsed
    return (name, f"{len(latencies)}", f"{rate:.0f}/s", f"{common.percentile(latencies, 0.5):.1f} ms",
            f"{common.percentile(latencies, 0.99):.1f} ms", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))


def main() -> int:
    args = parse_args()
    if not os.environ.get("CACHE_URL", "").startswith("redis://"):
        print("bench/clicks.py: set CACHE_URL to a Redis database (repeats are checked there)", file=sys.stderr)
        return 2
    load_before = common.load_average()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-clicks-"))
    home, web = None, None
    try:
        home = common.create_scratch_database(DATABASE)
        codigos, warm_up = seed(args.links), seed(args.links)
        port = common.free_port()
        env = dict(os.environ, DATABASE_URL=common.scratch_database_url(DATABASE), PYTHONUNBUFFERED="1",
                   LOG_LEVEL="WARNING")
        web = Child("web", [sys.executable, "-m", "gunicorn", "bench.bare_wsgi:application", "-c",
                            "python:alpespartners.gunicorn_conf", "--bind", f"{HOST}:{port}",
                            "--workers", str(args.workers)], env, log_dir).start()
        wait_for(web, port)
        # Warm-up (imports, connections, link cache, the bot check's answers) on links of its own.
        run_phase(port, "/t/", warm_up, args.clients, 5, args.user_agents)
        print("phase 1: bare redirect", file=sys.stderr)
        bare = run_phase(port, "/t-bare/", codigos, args.clients, args.seconds, args.user_agents)
        print("phase 2: recorded clicks", file=sys.stderr)
        clicks = run_phase(port, "/t/", codigos, args.clients, args.seconds, args.user_agents)
        half = len(bare[0]) / bare[2] / 2
        print(f"phase 3: recorded clicks paced at {half:.0f}/s", file=sys.stderr)
        paced = run_phase(port, "/t/", codigos, args.clients * 4, args.seconds, args.user_agents, rate=half)
        web.stop()  # SIGTERM: the workers write what they buffered
        connections.close_all()  # idle through the phases: a fresh connection for the count
        recorded = Click.objects.filter(codigo__in=codigos).count()
        redirected = clicks[1].get(302, 0) + paced[1].get(302, 0)
        print(summary(args, bare, clicks, paced, half, recorded, redirected, load_before))
        return 0
    except BenchError as error:
        print(f"bench/clicks.py: {error} (logs in {log_dir})", file=sys.stderr)
        return 1
    finally:
        if web is not None:
            web.stop()
        if home is not None:
            common.drop_scratch_database(DATABASE, home)


def wait_for(web: Child, port: int) -> None:
    deadline = time.monotonic() + common.START_SECONDS
    while time.monotonic() < deadline:
        web.check_alive()
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            time.sleep(0.25)
    raise BenchError("the web server did not answer /health in time")


def summary(args, bare, clicks, paced, half, recorded, redirected, load_before) -> str:
    bare_rate, click_rate = len(bare[0]) / bare[2], len(clicks[0]) / clicks[2]
    p99 = common.percentile(paced[0], 0.99)
    lines = [
        common.heading("Clicks (bench/clicks.py)"), "",
        f"{common.platform_facts()}; gunicorn {args.workers} sync workers; {args.clients} clients, "
        f"{args.seconds:.0f} s per phase, {args.user_agents} user agents. {common.load_note(load_before)}", "",
        *common.measure_table([describe("bare redirect", *bare), describe("recorded click", *clicks),
                               describe(f"recorded click paced at {half:.0f}/s", *paced)],
                              "| Phase | Requests | Rate | p50 | p99 | Statuses |"), "",
        *common.measure_table([
            ("clicks/s against the bare view's", f"{click_rate / bare_rate:.0%}", "≥ 50 %",
             common.verdict(click_rate >= bare_rate / 2)),
            ("p99 at half the bare rate", f"{p99:.1f} ms", "≤ 20 ms", common.verdict(p99 <= 20)),
            ("clicks recorded / redirects answered", f"{recorded} / {redirected}", "equal",
             common.verdict(recorded == redirected)),
        ]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
