"""The loss bounds of buffered clicks, on gunicorn run as the Procfile runs it: a clean stop
(SIGTERM) writes every click it answered; a crash of a worker (SIGKILL) loses at most the clicks of
its last flush interval."""

import http.client
import os
import signal
import socket
import time
import uuid

import pytest

from pagos.models import CampaniaLocal, Click, EnlaceLocal
from tests.conftest import wait_until

pytestmark = pytest.mark.real_services

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def enlace() -> tuple[uuid.UUID, str]:
    """Committed rows (transactional_db), as the consumer would have left them."""
    id_campania, codigo = uuid.uuid4(), uuid.uuid4().hex[:11]
    CampaniaLocal.objects.create(
        id=id_campania, id_marca=uuid.uuid4(), estado="APROBADA", fecha_inicio="2026-01-01", fecha_fin="2027-01-01",
        moneda="COP", presupuesto=1000, presupuesto_disponible=1000, comisiones={}, dias_retencion=30,
        url_destino="https://tienda.co/a")
    EnlaceLocal.objects.create(codigo=codigo, id_campania=id_campania, id_socio=uuid.uuid4())
    return id_campania, codigo


def gunicorn(processes, flush_seconds: float):
    port = free_port()
    web = processes("web", "-m", "gunicorn", "alpespartners.wsgi:application", "-c", "python:alpespartners.gunicorn_conf",
                    "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread", "--threads", "4",
                    CLICKS_FLUSH_SECONDS=str(flush_seconds))

    def answers() -> bool:
        try:
            return get(port, "/health") == 200
        except OSError:
            return False

    wait_until(answers, 60, "gunicorn to answer", diagnose=web.log)
    return web, port


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"User-Agent": CHROME})
        return connection.getresponse().status
    finally:
        connection.close()


def workers(master_pid: int) -> list[int]:
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as children:
        return [int(pid) for pid in children.read().split()]


def recorded(id_campania) -> int:
    return Click.objects.filter(id_campania=id_campania).count()


def test_a_clean_stop_writes_every_click_the_workers_still_buffered(processes):
    id_campania, codigo = enlace()
    # A flush interval longer than the test: whatever is written, the stop wrote.
    web, port = gunicorn(processes, flush_seconds=600)
    sent = 300
    for _ in range(sent):
        assert get(port, f"/t/{codigo}") == 302
    assert recorded(id_campania) == 0  # all of them still in the workers' memory

    assert web.stop() == 0  # SIGTERM to the master, which stops its workers gracefully

    assert recorded(id_campania) == sent
    assert Click.objects.filter(id_campania=id_campania, facturable=True).count() == 1  # one visitor, one billable


def test_a_crashed_worker_loses_at_most_its_last_flush_interval(processes):
    id_campania, codigo = enlace()
    interval = 0.5
    web, port = gunicorn(processes, flush_seconds=interval)
    answered: list[float] = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert get(port, f"/t/{codigo}") == 302
        answered.append(time.monotonic())

    killed_at = time.monotonic()
    for pid in workers(web.popen.pid):
        os.kill(pid, signal.SIGKILL)  # a crash: no exit hook runs
    web.kill()
    time.sleep(0.2)

    count = recorded(id_campania)
    # A flush may be mid-COPY at the kill, hence a small allowance beyond the interval.
    older_than_the_interval = sum(1 for at in answered if at < killed_at - interval - 0.3)
    assert older_than_the_interval <= count <= len(answered), (count, older_than_the_interval, len(answered))
    assert older_than_the_interval > len(answered) / 2  # the run was long enough to say something
