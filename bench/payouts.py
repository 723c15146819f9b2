"""Benchmark of the payout cycle (pagos.handlers.ejecutar_ciclo), for docs/PERFORMANCE.md.

The issue's target: 1,000,000 payable transactions across 10,000 partners ⇒ the cycle reaches
CALCULADO for all of them in ≤ 60 s, with a peak RSS ≤ 500 MB, in ≤ 5 × the time of a bare SQL
`GROUP BY` over the same rows measured in the same run.

In one run, in a scratch database of its own, it:
1. loads the rows set-based (not timed against any target): `pagos_cliente_local` (one ACTIVO
   client per partner) and `pagos_transaccion` by `INSERT … SELECT … FROM generate_series(…)`
   in chunks, 1 in 5 PENDIENTE and the rest PAGABLE, every `pagable_desde` in the past, commissions
   of 0.10–5.00 (two decimals, fixed random seed), partner `n` = md5('socio-n')::uuid, partner
   `g % socios` and currency `(g // socios) % monedas` for row g, so every partner has rows in
   every currency; then VACUUM ANALYZE;
2. runs the bare `SELECT id_socio, moneda, SUM(comision), COUNT(*) … GROUP BY 1, 2` (the cycle's
   filter on estado and pagable_desde, all rows fetched) --group-by-runs times; the median counts;
3. runs the real handler, `ejecutar_ciclo(EjecutarCiclo(fecha_corte=today, origen="consola"),
   bootstrap.unit_of_work())`, once, in a fresh child process (multiprocessing "spawn"), with
   PAGOS_MONTOS_MINIMOS at 0.01 per currency so that every partner qualifies. That process's
   ru_maxrss after the call is the peak RSS reported (ru_maxrss is a lifetime peak, hence the fresh
   process; it includes the interpreter and Django, whose share is reported too). PostgreSQL's
   own memory (the backend's work_mem, shared_buffers) is not included;
4. checks the result: the cycle CALCULADO with one payout per partner and currency, each
   payout's total and count equal to the rows it covers (its partner's and currency's payable rows
   within its cut-off and `hasta_secuencia`; Decimal, exact), no transaction and no outbox row
   written by the cycle (payouts claim their rows and announce themselves when sent), the sums per
   currency equal to the commissions loaded, procesar_ciclo enqueued once;
5. times what the cycle no longer does, for the record (not a target): --send-sample payouts sent
   one after another as their task sends them (`handlers.procesar_payout`, `simulada` gateway,
   `tok_ok`: claim, PayoutCreado + ComisionesCalculadas + PayoutProcesado, gateway, EXITOSO), each
   checked paid with its rows PAGADA.

Where the cycle's time goes is read from the same, real call (not a re-implementation): a
`connection.execute_wrapper` in the child records when each SQL statement starts and ends (a
label only, no SQL text is kept), Celery's before/after_task_publish signals mark the publishing
of procesar_ciclo, and the gaps between them are the handler's Python work (plus fetching and
converting result rows). The wrapper costs a couple of microseconds per statement, and the
cycle executes a few dozen.

Celery. The handler ends with `tasks.procesar_ciclo.delay_on_commit(id)`, which is
`transaction.on_commit(partial(delay, id))`: after the COMMIT, the task is published to the
broker. With CELERY_TASK_ALWAYS_EAGER it would instead run procesar_ciclo and every
procesar_payout (gateway calls) inside the timed call, so eager is off. The message is published
to kombu's in-memory transport (`memory://`, set on the Celery app inside the child only): the
code path is the real one (on_commit hook, serialisation, kombu publish), and the message dies
with the child. Publishing to the shared Redis instead would leave a message that a running worker,
connected to the project's database rather than the scratch one, could execute against the project's
cycle of the same date, and `app.control.purge()` would also delete other people's queued tasks.

Needs PostgreSQL, whose role may create databases:

    DATABASE_URL=... .venv/bin/python bench/payouts.py [--transacciones 1000000] [--socios 10000] \\
        [--monedas 1]

Progress goes to stderr; stdout gets only a Markdown summary. The scratch database
(`alpespartners_bench_payouts`) is created and migrated at the start and dropped at the end, even
on error; the database of DATABASE_URL is only used to create and drop it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import resource
import statistics
import sys
import time
import traceback
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

from alpespartners.messaging.models import OutboxMessage  # noqa: E402
from alpespartners.seedwork.domain import Monto  # noqa: E402
from bench.common import (BenchError, create_scratch_database, drop_scratch_database, heading,  # noqa: E402
                          load_average, load_note, measure_table, percentile, platform_facts, server_settings,
                          use_database, verdict)
from pagos import domain  # noqa: E402
from pagos.models import CicloPago, ClienteLocal, Payout, Transaccion  # noqa: E402

BENCH_DATABASE = "alpespartners_bench_payouts"
MONEDAS = ("COP", "USD", "EUR")
MINIMO = Decimal("0.01")  # PAGOS_MONTOS_MINIMOS per currency in the cycle's process: every partner qualifies
LOAD_CHUNK = 100_000  # rows per INSERT … SELECT (and transaction) of the load
CAMPANIAS = 100  # campaigns the rows are spread over (the cycle does not look at them)
TARGET_SECONDS = 60
TARGET_RSS_MB = 500
TARGET_RATIO = 5
TRANSACCION = Transaccion._meta.db_table
PAYOUT = Payout._meta.db_table
CICLO = CicloPago._meta.db_table
CLIENTE = ClienteLocal._meta.db_table
OUTBOX = OutboxMessage._meta.db_table

BARE_GROUP_BY = (
    f"SELECT id_socio, moneda, SUM(comision), COUNT(*) FROM {TRANSACCION} "
    "WHERE estado IN ('PENDIENTE', 'PAGABLE') AND pagable_desde < %s GROUP BY 1, 2"
)

# What the Python gap after each step's last statement holds (the handler's order).
# Writes by COPY (psycopg's copy(), not cursor.execute) are not seen by the trace: the payouts are
# written inside the gap after the GROUP BY.
GAP_AFTER = {
    "payouts_en_curso": "building the GROUP BY query",
    "por_pagar": "rows fetched and converted → PorPagar, supera_minimo, payout rows built and written by COPY",
    "cerrar_calculo": "uow.commit (the command's own outbox: none)",
}


# --- set-up ---------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transacciones", type=int, default=1_000_000, help="payable transactions loaded")
    parser.add_argument("--socios", type=int, default=10_000, help="partners they are spread over")
    parser.add_argument("--monedas", type=int, default=1, choices=range(1, len(MONEDAS) + 1),
                        help=f"currencies each partner has rows in ({', '.join(MONEDAS)}, in that order)")
    parser.add_argument("--group-by-runs", type=int, default=3, help="runs of the bare GROUP BY (the median counts)")
    parser.add_argument("--max-seconds", type=float, default=600, help="give up on the cycle after this long")
    parser.add_argument("--send-sample", type=int, default=200, help="payouts sent after the checks, timed")
    args = parser.parse_args()
    if args.socios < 1 or args.group_by_runs < 1:
        parser.error("need --socios ≥ 1 and --group-by-runs ≥ 1")
    if args.transacciones < args.socios * args.monedas:
        parser.error("--transacciones must be at least --socios × --monedas (every partner has a row in every currency)")
    return args


def refuse_unless_ready() -> None:
    if not settings.USING_POSTGRESQL:
        print("bench/payouts.py: DATABASE_URL must point to PostgreSQL; the cycle's isolation and set-based SQL "
              "are PostgreSQL's, and SQLite's figures would say nothing about production.", file=sys.stderr)
        sys.exit(2)


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def wal_lsn() -> str:
    return scalar("SELECT pg_current_wal_lsn()::text")


def checkpoints() -> int:
    return scalar("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")


def relation_sizes() -> tuple[int, int]:
    """pagos_transaccion: heap (with TOAST) and all its indexes, bytes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)", [TRANSACCION, TRANSACCION])
        return cursor.fetchone()


def mb(value_bytes: float) -> str:
    return f"{value_bytes / 2**20:,.0f} MB"


# --- 1. load --------------------------------------------------------------------


def load(args) -> dict:
    """Set-based load; returns its timings and what the checks compare with."""
    monedas = list(MONEDAS[:args.monedas])
    timings = {}
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CLIENTE} (id, estado, token_predeterminado, fecha_actualizacion) "
            "SELECT md5('socio-' || n)::uuid, 'ACTIVO', 'tok_ok', now() FROM generate_series(0, %s - 1) AS n",
            [args.socios],
        )
    timings["clientes"] = time.perf_counter() - began

    insert = (
        f"INSERT INTO {TRANSACCION} (id, id_campania, id_socio, id_externo, tipo, monto_conversion, comision, "
        "moneda, estado, ocurrida_en, pagable_desde, id_payout, id_transaccion_original, motivo_reversion, "
        "fecha_creacion) "
        "SELECT gen_random_uuid(), md5('campania-' || (g %% %(campanias)s))::uuid, "
        "md5('socio-' || (g %% %(socios)s))::uuid, 'conv-' || g, 'CLICK', NULL, "
        "round((0.10 + random() * 4.90)::numeric, 2), "
        "(%(monedas)s::text[])[1 + (g / %(socios)s) %% %(n_monedas)s], "
        "CASE WHEN g %% 5 = 0 THEN 'PENDIENTE' ELSE 'PAGABLE' END, "
        "d.pagable_desde - interval '30 days', d.pagable_desde, NULL, NULL, '', d.pagable_desde - interval '30 days' "
        "FROM generate_series(%(desde)s, %(hasta)s) AS g "
        "CROSS JOIN LATERAL (SELECT now() - make_interval(hours => 1 + (g %% 720)::int) AS pagable_desde) AS d"
    )
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")  # the same commissions every run (random() is per session)
        with tqdm(total=args.transacciones, desc="load pagos_transaccion", unit="row", unit_scale=True,
                  file=sys.stderr) as bar:
            for desde in range(0, args.transacciones, LOAD_CHUNK):
                hasta = min(desde + LOAD_CHUNK, args.transacciones) - 1
                cursor.execute(insert, {"campanias": CAMPANIAS, "socios": args.socios, "monedas": monedas,
                                        "n_monedas": args.monedas, "desde": desde, "hasta": hasta})
                bar.update(hasta - desde + 1)
    timings["transacciones"] = time.perf_counter() - began

    print("VACUUM ANALYZE", file=sys.stderr)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TRANSACCION}")
        cursor.execute(f"VACUUM ANALYZE {CLIENTE}")
    timings["vacuum"] = time.perf_counter() - began

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT moneda, SUM(comision), COUNT(*) FROM {TRANSACCION} GROUP BY moneda ORDER BY moneda")
        por_moneda = {moneda: (total, count) for moneda, total, count in cursor.fetchall()}
        cursor.execute(f"SELECT estado, COUNT(*) FROM {TRANSACCION} GROUP BY estado ORDER BY estado")
        estados = dict(cursor.fetchall())
    heap, indexes = relation_sizes()
    return {"timings": timings, "por_moneda": por_moneda, "estados": estados, "heap": heap, "indexes": indexes}


# --- 2. bare GROUP BY -------------------------------------------------------------


def bare_group_by(limite, runs: int) -> tuple[list[float], int]:
    timings, groups = [], 0
    for _ in tqdm(range(runs), desc="bare GROUP BY", unit="run", file=sys.stderr):
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(BARE_GROUP_BY, [limite])
            groups = len(cursor.fetchall())
        timings.append(time.perf_counter() - began)
    return timings, groups


# --- 3. the cycle, in a fresh process -----------------------------------------------


def statement_label(sql: str) -> str:
    head = sql[:160].lstrip().upper()
    if head.startswith("LOCK TABLE"):
        return "bloquear_para_ciclo"
    # The ORM quotes table names; raw SQL may not.
    words = head.replace('"', " ").split()
    table = next((name for name in (TRANSACCION, PAYOUT, CICLO, OUTBOX, CLIENTE) if name.upper() in words), "")
    verb = head.split(None, 1)[0] if head else ""
    return {
        (CICLO, "INSERT"): "iniciar_ciclo", (CICLO, "SELECT"): "iniciar_ciclo", (CICLO, "UPDATE"): "cerrar_calculo",
        (TRANSACCION, "SELECT"): "por_pagar", (PAYOUT, "SELECT"): "payouts_en_curso",
        (PAYOUT, "INSERT"): "crear_payouts", (OUTBOX, "INSERT"): "outbox",
    }.get((table, verb), f"other: {head[:60]}")


def vm_status(field: str, pid: int | str = "self") -> int:
    """A memory figure of /proc/<pid>/status in KiB: VmRSS (now), VmHWM (peak)."""
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def use_memory_broker() -> None:
    """Make this process's Celery publish to kombu's in-memory transport (see the module's docstring)."""
    from alpespartners.celery import app

    # Celery reads CELERY_BROKER_URL from the environment before its configuration, so both are set
    # (in this process only).
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    app.conf.update(CELERY_BROKER_URL="memory://localhost/", CELERY_TASK_ALWAYS_EAGER=False)  # the namespaced keys Celery reads
    with app.connection_for_write() as broker:
        if broker.transport_cls != "memory" or app.conf.task_always_eager:
            raise BenchError(f"the cycle's process would publish to {broker.as_uri()} (eager "
                             f"{app.conf.task_always_eager}), not to memory://")


def queued_messages() -> list[tuple]:
    """(queue, task, argsrepr) of every message left in this process's memory:// broker."""
    from kombu.transport.memory import Channel

    return [(name, message.get("headers", {}).get("task"), message.get("headers", {}).get("argsrepr"))
            for name, pending in Channel.queues.items() for message in list(pending.queue)]


def cycle_child(database: str, monedas: list[str], results) -> None:
    """The cycle's process: one call of the real handler, timed and traced. Tells the parent on
    `results`, as tuples of plain values: ("ready", backend pid, RSS), ("start", t), ("begin", label, t)
    and ("end", label, t) around each statement, then ("done", dict) or ("error", traceback).
    Times are time.monotonic(), system-wide on Linux, so the parent can compare them with its own."""
    try:
        from celery.signals import after_task_publish, before_task_publish

        from pagos import bootstrap, commands, handlers

        use_database(database)
        connection.ensure_connection()
        use_memory_broker()
        settings.PAGOS_MONTOS_MINIMOS = {moneda: MINIMO for moneda in monedas}
        spans: list[tuple[str, float, float]] = []
        published: list[tuple[str, float]] = []

        def trace(execute, sql, params, many, context):
            label = statement_label(sql)
            began = time.monotonic()
            results.put(("begin", label, began))
            try:
                return execute(sql, params, many, context)
            finally:
                ended = time.monotonic()
                spans.append((label, began, ended))
                results.put(("end", label, ended))

        def before(sender=None, **kwargs):
            published.append(("before", time.monotonic()))

        def after(sender=None, headers=None, **kwargs):
            published.append((f"after {sender}", time.monotonic()))

        before_task_publish.connect(before, weak=False)
        after_task_publish.connect(after, weak=False)
        fecha_corte = timezone.localdate()
        command = commands.EjecutarCiclo(fecha_corte=fecha_corte, origen="consola")
        rss_before = vm_status("VmRSS")
        results.put(("ready", connection.connection.info.backend_pid, rss_before))
        with connection.execute_wrapper(trace):
            started = time.monotonic()
            results.put(("start", started))
            handlers.ejecutar_ciclo(command, bootstrap.unit_of_work())
            finished = time.monotonic()
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        messages = queued_messages()
        results.put(("done", {
            "finished": True, "seconds": finished - started, "peak_kb": peak_kb, "rss_before_kb": rss_before,
            "spans": [(label, a - started, b - started) for label, a, b in spans], "running": None,
            "published": [(what, at - started) for what, at in published],
            "messages": messages, "fecha_corte": fecha_corte.isoformat(),
        }))
    except BaseException:
        results.put(("error", traceback.format_exc()))
    finally:
        connections.close_all()


def run_cycle(args) -> dict:
    """The cycle in a fresh process. When it overruns --max-seconds, its statement is cancelled (so
    nothing is committed and the server stops working on it), the process is stopped, and what
    was seen so far is returned with finished False."""
    connections.close_all()  # nothing of the parent's is shared with the child
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=cycle_child, name="bench-cycle", daemon=True,
                              args=(BENCH_DATABASE, list(MONEDAS[:args.monedas]), results))
    print("cycle: ejecutar_ciclo in a fresh child process", file=sys.stderr)
    process.start()
    backend_pid, rss_before, started, running = None, 0, None, None
    spans: list[tuple[str, float, float]] = []
    try:
        with tqdm(desc="cycle (child process)", file=sys.stderr, bar_format="{desc}: {elapsed} elapsed") as bar:
            while True:
                try:
                    message = results.get(timeout=0.5)
                except queue.Empty:
                    bar.refresh()
                    if not process.is_alive():
                        raise BenchError(f"the cycle's process died (exit code {process.exitcode})")
                    if started is not None and time.monotonic() - started > args.max_seconds:
                        return stop_cycle(args, process, backend_pid, rss_before, started, spans, running)
                    continue
                kind = message[0]
                if kind == "ready":
                    backend_pid, rss_before = message[1], message[2]
                elif kind == "start":
                    started = message[1]
                elif kind == "begin":
                    running = (message[1], message[2])
                    bar.set_description_str(f"cycle (child process), in {message[1]}")
                elif kind == "end":
                    spans.append((running[0], running[1], message[2]))
                    running = None
                elif kind == "error":
                    raise BenchError(f"the cycle failed:\n{message[1]}")
                else:
                    return message[1]
    finally:
        process.join(timeout=10)
        if process.is_alive():
            print("the cycle's process did not stop; terminating it", file=sys.stderr)
            process.terminate()
            process.join()


def stop_cycle(args, process, backend_pid, rss_before, started, spans, running) -> dict:
    stopped = time.monotonic()
    peak_kb = vm_status("VmHWM", process.pid)  # the same peak as ru_maxrss, read from outside
    print(f"the cycle overran --max-seconds {args.max_seconds:g}: cancelling its statement "
          f"(backend {backend_pid}) and stopping it", file=sys.stderr)
    use_database(BENCH_DATABASE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_cancel_backend(%s)", [backend_pid])
    process.join(timeout=30)  # the cancelled statement makes the handler raise, and the child end
    if process.is_alive():
        process.terminate()
    return {
        "finished": False, "seconds": stopped - started, "peak_kb": peak_kb, "rss_before_kb": rss_before,
        "spans": [(label, a - started, b - started) for label, a, b in spans],
        "running": (running[0], running[1] - started) if running else None,
        "published": [], "messages": [], "fecha_corte": timezone.localdate().isoformat(),
    }


# --- 4. checks ------------------------------------------------------------------


def verify(args, loaded: dict, cycle: dict, fecha_corte) -> dict:
    """Every figure the summary states about the result; raises BenchError when one is wrong."""
    id_ciclo = domain.id_ciclo(fecha_corte)
    expected_payouts = args.socios * args.monedas
    problems = []
    ciclo = CicloPago.objects.filter(id=id_ciclo).first()
    if ciclo is None or ciclo.estado != domain.EstadoCiclo.CALCULADO:
        problems.append(f"cycle estado {ciclo.estado if ciclo else 'missing'}, not CALCULADO")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT moneda, COUNT(*), SUM(monto_total), SUM(transacciones), "
                       f"COUNT(*) FILTER (WHERE estado <> 'CALCULADO') FROM {PAYOUT} WHERE id_ciclo = %s "
                       "GROUP BY moneda ORDER BY moneda", [id_ciclo])
        payouts = {moneda: (count, total, rows, other) for moneda, count, total, rows, other in cursor.fetchall()}
        cursor.execute(f"SELECT COUNT(*), COUNT(*) FILTER (WHERE estado NOT IN ('PENDIENTE', 'PAGABLE') "
                       f"OR id_payout IS NOT NULL) FROM {TRANSACCION}")
        total_rows, written = cursor.fetchone()
        # What each payout covers, as repository.cubiertas defines it, against what it announced.
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(c.filas), 0), COUNT(*) FILTER (WHERE c.filas <> p.transacciones "
                       f"OR c.total IS DISTINCT FROM p.monto_total) FROM {PAYOUT} p CROSS JOIN LATERAL ("
                       f"SELECT COUNT(*) AS filas, SUM(comision) AS total FROM {TRANSACCION} t "
                       "WHERE t.id_socio = p.id_socio AND t.moneda = p.moneda AND t.estado IN ('PENDIENTE', 'PAGABLE') "
                       "AND t.pagable_desde < p.pagable_antes_de AND t.secuencia <= p.hasta_secuencia) c "
                       "WHERE p.id_ciclo = %s", [id_ciclo])
        _, covered, mismatched = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*) FROM {OUTBOX}")
        outbox = cursor.fetchone()[0]
    count = sum(value[0] for value in payouts.values())
    if count != expected_payouts:
        problems.append(f"{count:,} payouts, expected {expected_payouts:,} (socios × monedas)")
    if ciclo is not None and (ciclo.payouts != count or ciclo.transacciones != total_rows):
        problems.append(f"the cycle row says {ciclo.payouts} payouts, {ciclo.transacciones} transactions")
    if any(value[3] for value in payouts.values()):
        problems.append("payouts not CALCULADO")
    if covered != total_rows or total_rows != args.transacciones:
        problems.append(f"the payouts cover {covered:,} of {total_rows:,} transactions")
    if written:
        problems.append(f"{written:,} transactions written by the cycle (state or id_payout changed)")
    if mismatched:
        problems.append(f"{mismatched:,} payouts whose total or count differs from the rows they cover")
    for moneda, (total, rows) in loaded["por_moneda"].items():
        got = payouts.get(moneda, (0, Decimal(0), 0, 0))
        if got[1] != total or got[2] != rows:
            problems.append(f"{moneda}: payouts total {got[1]} over {got[2]} rows, commissions {total} over {rows}")
    if ciclo is not None:
        expected_totales = [domain.normalizar(Monto(total, moneda)).as_dict()
                            for moneda, (total, _) in sorted(loaded["por_moneda"].items())]
        if ciclo.totales != expected_totales:
            problems.append(f"cycle totales {ciclo.totales}, expected {expected_totales}")
    if outbox:
        problems.append(f"{outbox:,} outbox rows written by the cycle")
    procesar = [m for m in cycle["messages"] if m[1] == "pagos.procesar_ciclo"]
    if len(procesar) != 1 or str(id_ciclo) not in (procesar[0][2] or ""):
        problems.append(f"procesar_ciclo messages in the child's broker: {cycle['messages']}")
    if problems:
        raise BenchError("the cycle's result is wrong:\n- " + "\n- ".join(problems))
    return {"payouts": payouts, "covered": covered, "outbox": outbox, "id_ciclo": id_ciclo}


def unfinished_state() -> dict:
    """What a cycle stopped by --max-seconds left in the database: nothing, if its rollback worked."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT COUNT(*) FROM {CICLO}), (SELECT COUNT(*) FROM {PAYOUT}), "
                       f"(SELECT COUNT(*) FROM {OUTBOX})")
        ciclos, payouts, outbox = cursor.fetchone()
    return {"ciclos": ciclos, "payouts": payouts, "outbox": outbox}


# --- 5. the payouts' sending ---------------------------------------------------------


def time_sendings(id_ciclo, sample: int) -> list[float]:
    """Each sampled payout sent as its task sends it, then checked paid."""
    from pagos import bootstrap, commands, handlers

    timings = []
    ids = list(Payout.objects.filter(id_ciclo=id_ciclo).order_by("id").values_list("id", flat=True)[:sample])
    for id_payout in tqdm(ids, desc="payouts sent", unit="payout", file=sys.stderr):
        began = time.perf_counter()
        handlers.procesar_payout(commands.EnviarPayout(id_payout=id_payout), bootstrap.unit_of_work())
        timings.append(time.perf_counter() - began)
        payout = Payout.objects.get(id=id_payout)
        pagadas = Transaccion.objects.filter(id_socio=payout.id_socio, id_payout=id_payout, estado="PAGADA").count()
        if (payout.estado, pagadas) != ("EXITOSO", payout.transacciones):
            raise BenchError(f"payout {id_payout} {payout.estado} with {pagadas} of {payout.transacciones} rows PAGADA")
    return timings


# --- report ---------------------------------------------------------------------


def breakdown(cycle: dict) -> list[tuple[str, int, float, float]]:
    """(step, statements, SQL seconds, Python seconds) in the handler's order: consecutive statements
    of one step are one row (Python between them included in it); the Python gap after a step's last
    statement is a row of its own. The tail after the last statement is split by the publish signals;
    a statement still running when the cycle was stopped is the last row."""
    rows: list[tuple[str, int, float, float]] = []
    spans = list(cycle["spans"])
    running = cycle["running"]
    first = spans[0][1] if spans else (running[1] if running else None)
    if first is None:
        return [("whole call (no SQL seen)", 0, 0.0, cycle["seconds"])]
    if first > 0:
        rows.append(("handler entry, before its first statement", 0, 0.0, first))
    i = 0
    while i < len(spans):
        label = spans[i][0]
        j = i
        while j + 1 < len(spans) and spans[j + 1][0] == label:
            j += 1
        group = spans[i:j + 1]
        sql = sum(end - start for _, start, end in group)
        inside = sum(group[k + 1][1] - group[k][2] for k in range(len(group) - 1))
        rows.append((label, len(group), sql, inside))
        gap_end = spans[j + 1][1] if j + 1 < len(spans) else (running[1] if running else None)
        if gap_end is not None:
            rows.append((f"Python: {GAP_AFTER.get(label, 'between statements')}", 0, 0.0, gap_end - group[-1][2]))
        i = j + 1
    if running:
        rows.append((f"{running[0]}, **still running when stopped**", 1, cycle["seconds"] - running[1], 0.0))
        return rows
    last = spans[-1][2]
    before = next((at for what, at in cycle["published"] if what == "before"), None)
    after = next((at for what, at in cycle["published"] if what.startswith("after")), None)
    if before is not None and after is not None:
        tail = "" if spans[-1][0] == "outbox" else f"Python: {GAP_AFTER.get(spans[-1][0], 'after the last statement')}; "
        rows.append((f"{tail}COMMIT (leaving the atomic block)", 0, 0.0, before - last))
        rows.append(("on_commit: procesar_ciclo published (memory:// broker)", 0, 0.0, after - before))
        rows.append(("return from the handler", 0, 0.0, cycle["seconds"] - after))
    else:
        rows.append(("COMMIT, on_commit hooks, return", 0, 0.0, cycle["seconds"] - last))
    return rows


def command_line(args) -> str:
    return (f"python bench/payouts.py --transacciones {args.transacciones} --socios {args.socios} "
            f"--monedas {args.monedas} --group-by-runs {args.group_by_runs} --max-seconds {args.max_seconds:g} "
            f"--send-sample {args.send_sample}")


def header_lines(args, server, load_before, loaded, extra) -> list[str]:
    estados = ", ".join(f"{count:,} {estado}" for estado, count in sorted(loaded["estados"].items()))
    return [
        heading("Payout cycle benchmark"),
        "",
        f"`{command_line(args)}`: {platform_facts()}, PostgreSQL {server['server_version']} (shared_buffers "
        f"{server['shared_buffers']}, work_mem {server['work_mem']}, max_wal_size {server['max_wal_size']}, "
        f"synchronous_commit {server['synchronous_commit']}, max_parallel_workers_per_gather "
        f"{server['max_parallel_workers_per_gather']}), PAGOS_MONTOS_MINIMOS {MINIMO} per currency in the cycle's "
        f"process, Celery eager off with a `memory://` broker in the cycle's process, scratch database "
        f"`{BENCH_DATABASE}`; {load_note(load_before)}",
        "",
        f"Data: {args.transacciones:,} transactions ({estados}; every `pagable_desde` in the past) across "
        f"{args.socios:,} partners × {args.monedas} currenc{'y' if args.monedas == 1 else 'ies'} "
        f"({', '.join(MONEDAS[:args.monedas])}), all partners ACTIVO; `{TRANSACCION}` {mb(loaded['heap'])} of heap "
        f"and {mb(loaded['indexes'])} of indexes after the load, {mb(extra['heap_after'])} and "
        f"{mb(extra['indexes_after'])} after the cycle.",
        "",
    ]


def cycle_rows(args, cycle, checks, median: float) -> list[tuple[str, ...]]:
    """The cycle's time, its ratio to the bare GROUP BY and its peak RSS, against their targets."""
    seconds, finished = cycle["seconds"], cycle["finished"]
    ratio = seconds / median
    peak_mb, before_mb = cycle["peak_kb"] / 1024, cycle["rss_before_kb"] / 1024
    expected_payouts = args.socios * args.monedas
    if finished:
        cycle_row = (f"Cycle to CALCULADO (`ejecutar_ciclo`, {expected_payouts:,} payouts, {checks['covered']:,} "
                     "transactions)", f"{seconds:.1f} s", f"≤ {TARGET_SECONDS} s", verdict(seconds <= TARGET_SECONDS))
        ratio_value, peak_note = f"×{ratio:.1f}", ""
    else:
        running = cycle["running"]
        where = (f", its `{running[0]}` statement running for {seconds - running[1]:.0f} s" if running else "")
        cycle_row = (f"Cycle to CALCULADO (`ejecutar_ciclo`, {expected_payouts:,} payouts due)",
                     f"**did not finish**: stopped after {seconds:.0f} s (--max-seconds){where}",
                     f"≤ {TARGET_SECONDS} s", "**missed**")
        ratio_value, peak_note = f"> ×{ratio:.0f}", ", up to the stop"
    return [
        cycle_row,
        ("Cycle / bare `GROUP BY`", ratio_value, f"≤ ×{TARGET_RATIO}", verdict(finished and ratio <= TARGET_RATIO)),
        (f"Peak RSS of the cycle's process (ru_maxrss{peak_note}; PostgreSQL's memory not included)",
         f"{peak_mb:,.0f} MB ({before_mb:,.0f} MB before the call: interpreter, Django, connection)",
         f"≤ {TARGET_RSS_MB} MB", verdict(peak_mb <= TARGET_RSS_MB)),
    ]


def measure_lines(args, loaded, group_by, groups, cycle, checks) -> list[str]:
    timings = loaded["timings"]
    load_seconds = timings["clientes"] + timings["transacciones"]
    median = statistics.median(group_by)
    rows = [
        (f"Load: `INSERT … SELECT … generate_series` ({args.socios:,} clients, {args.transacciones:,} transactions "
         f"in chunks of {LOAD_CHUNK:,})", f"{load_seconds:.1f} s ({args.transacciones / timings['transacciones']:,.0f} "
         f"rows/s), then VACUUM ANALYZE {timings['vacuum']:.1f} s", "not a target", ""),
        (f"Bare `GROUP BY` ({groups:,} groups fetched), median of {len(group_by)}",
         f"{median:.2f} s ({', '.join(f'{t:.2f}' for t in group_by)})", "", ""),
        *cycle_rows(args, cycle, checks, median),
    ]
    return [*measure_table(rows, "| Measure | Value | Target | |"), ""]


def checks_line(loaded, cycle, checks) -> str:
    if not cycle["finished"]:
        return (f"Not checked: the cycle did not finish. Its statement was cancelled and its transaction rolled back; "
                f"afterwards the database held {checks['ciclos']} cycles, {checks['payouts']} payouts "
                f"and {checks['outbox']} outbox rows.")
    return (f"Checked after the cycle: cycle {checks['id_ciclo']} CALCULADO; one CALCULADO payout per partner and "
            f"currency; each payout's total and count equal to the rows it covers (exact decimals), together every "
            f"transaction, none of them written by the cycle; per currency, the payouts' totals equal the "
            f"commissions loaded ("
            + ", ".join(f"{moneda} {total}" for moneda, (total, _) in sorted(loaded["por_moneda"].items()))
            + "); no outbox row (each payout announces itself when sent); procesar_ciclo published once.")


def breakdown_lines(cycle) -> list[str]:
    seconds = cycle["seconds"]
    lines = [
        "",
        f"Where the cycle's time goes (the same call, traced by statement; SQL = from sending a statement until "
        f"PostgreSQL answered it; Python = the gaps, fetching and converting result rows included, and any "
        f"write that is not a `cursor.execute` (COPY); "
        f"{len(cycle['spans']) + (1 if cycle['running'] else 0)} statements):",
        "",
        "| Step | Statements | SQL | Python | Total | Share |",
        "|---|---|---|---|---|---|",
    ]
    rows = breakdown(cycle)
    for step, statements, sql, python in rows:
        lines.append(f"| {step} | {statements or ''} | {f'{sql:.2f} s' if statements else ''} "
                     f"| {python:.2f} s | {sql + python:.2f} s | {(sql + python) / seconds * 100:.1f} % |")
    sql_total = sum(row[2] for row in rows)
    lines.append(f"| **total** | {sum(row[1] for row in rows)} | {sql_total:.2f} s | {seconds - sql_total:.2f} s "
                 f"| {seconds:.2f} s | 100 % |")
    return lines


def sql_by_label(cycle) -> dict[str, float]:
    """SQL seconds per statement label, a statement still running when stopped included."""
    by_label: dict[str, float] = {}
    for label, start, end in cycle["spans"]:
        by_label[label] = by_label.get(label, 0.0) + end - start
    if cycle["running"]:
        label, start = cycle["running"]
        by_label[label] = by_label.get(label, 0.0) + cycle["seconds"] - start
    return by_label


def comparison_lines(args, loaded, group_by, cycle, extra) -> list[str]:
    finished, seconds = cycle["finished"], cycle["seconds"]
    median = statistics.median(group_by)
    peak_mb, before_mb = cycle["peak_kb"] / 1024, cycle["rss_before_kb"] / 1024
    peak_note = "" if finished else ", up to the stop"
    expected_payouts = args.socios * args.monedas
    by_label = sql_by_label(cycle)
    lines = ["", "Same-run comparison:", "",
             f"- the cycle took {'' if finished else 'more than '}×{seconds / median:.1f} the bare `GROUP BY`'s median "
             f"({seconds:.1f} s vs {median:.2f} s); {'' if finished else 'fewer than '}"
             f"{args.transacciones / seconds:,.0f} transactions/s"]
    if "por_pagar" in by_label:
        lines.append(f"- the cycle's own `GROUP BY` (`por_pagar`: ORM, suspended partners excluded) took "
                     f"{by_label['por_pagar']:.2f} s, ×{by_label['por_pagar'] / median:.1f} the bare one")
    if extra.get("sendings"):
        sendings = extra["sendings"]
        lines.append(f"- moved out of the cycle into each payout's sending (claim of ~"
                     f"{args.transacciones // max(expected_payouts, 1)} rows, three events, gateway, answer): "
                     f"{len(sendings)} payouts sent one after another, median {statistics.median(sendings) * 1000:.1f} ms, "
                     f"p95 {percentile(sorted(sendings), 0.95) * 1000:.1f} ms each (≈ "
                     f"{statistics.median(sendings) * expected_payouts:.0f} s of sending for all {expected_payouts:,} "
                     "payouts, spread over the payout tasks)")
    lines.append(f"- {mb(extra['wal_bytes'])} of WAL written while the cycle ran (cluster-wide: other databases' "
                 f"writes included), {extra['checkpoints']} checkpoint(s) during it; the table grew by "
                 f"{mb(extra['heap_after'] - loaded['heap'])} of heap and "
                 f"{mb(extra['indexes_after'] - loaded['indexes'])} of indexes")
    lines.append(f"- peak RSS grew by {peak_mb - before_mb:,.0f} MB during the call "
                 f"({(peak_mb - before_mb) * 1024 / max(expected_payouts, 1):,.1f} KiB per payout{peak_note})")
    return lines


def summary(args, server, load_before, loaded, group_by, groups, cycle, checks, extra) -> str:
    return "\n".join([
        *header_lines(args, server, load_before, loaded, extra),
        *measure_lines(args, loaded, group_by, groups, cycle, checks),
        checks_line(loaded, cycle, checks),
        *breakdown_lines(cycle),
        *comparison_lines(args, loaded, group_by, cycle, extra),
    ])


# --- main -----------------------------------------------------------------------


def run(args, load_before: str) -> str:
    server = server_settings("shared_buffers", "work_mem", "max_wal_size", "synchronous_commit",
                             "effective_io_concurrency", "max_parallel_workers_per_gather")
    loaded = load(args)
    fecha_corte = timezone.localdate()
    limite = domain.fin_del_corte(fecha_corte, timezone.get_current_timezone())
    group_by, groups = bare_group_by(limite, args.group_by_runs)
    if groups != args.socios * args.monedas:
        raise BenchError(f"the bare GROUP BY found {groups} groups, expected {args.socios * args.monedas}")
    wal_before, checkpoints_before = wal_lsn(), checkpoints()
    cycle = run_cycle(args)
    use_database(BENCH_DATABASE)
    wal_bytes = scalar("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [wal_before])
    extra = {"wal_bytes": float(wal_bytes), "checkpoints": checkpoints() - checkpoints_before}
    if cycle["fecha_corte"] != fecha_corte.isoformat():
        raise BenchError("the date changed while the benchmark ran; run it again")
    heap_after, indexes_after = relation_sizes()
    extra.update(heap_after=heap_after, indexes_after=indexes_after)
    print("checking the result", file=sys.stderr)
    checks = verify(args, loaded, cycle, fecha_corte) if cycle["finished"] else unfinished_state()
    if cycle["finished"] and args.send_sample:
        extra["sendings"] = time_sendings(checks["id_ciclo"], args.send_sample)
    return summary(args, server, load_before, loaded, group_by, groups, cycle, checks, extra)


def main() -> int:
    args = parse_args()
    refuse_unless_ready()
    load_before = load_average()
    home = connection.settings_dict["NAME"]
    try:
        create_scratch_database(BENCH_DATABASE)
        print(run(args, load_before))
    except BenchError as error:
        print(f"bench/payouts.py: {error}", file=sys.stderr)
        return 1
    finally:
        if home != BENCH_DATABASE:  # else create refused: nothing of ours to drop
            drop_scratch_database(BENCH_DATABASE, home)  # also when the migration or anything else failed
    return 0


if __name__ == "__main__":
    sys.exit(main())
