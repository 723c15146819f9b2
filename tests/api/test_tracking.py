"""GET /t/{codigo} and /t/{codigo}/i.gif on PostgreSQL and Redis: the redirect, the pixel, and the
row each visit leaves (written by the buffer's flush, here run in the test's own transaction)."""

import threading
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import OperationalError, connection
from django.test import Client as BrowserClient
from django.test.utils import CaptureQueriesContext

from alpespartners import write_behind
from pagos import clicks
from pagos.api.tracking import PIXEL
from pagos.models import Click
from tests import events, tracking
from tests.api.test_clientes_api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(autouse=True)
def buffer(monkeypatch):
    """A buffer the test writes itself (never on its own): rows land in the test's transaction."""
    own = write_behind.WriteBehind(Click, interval=3600, batch=10**9, max_rows=10**6, prepare=clicks.decidir)
    monkeypatch.setattr(clicks, "BUFFER", own)
    clicks.ENLACES.clear()
    yield own
    write_behind._buffers.remove(own)
    clicks.ENLACES.clear()


def visitante(direccion: str = "203.0.113.77", user_agent: str = CHROME) -> BrowserClient:
    return BrowserClient(REMOTE_ADDR=direccion, HTTP_USER_AGENT=user_agent)


def clic(codigo: str, cliente: BrowserClient | None = None, **headers):
    return (cliente or visitante()).get(f"/t/{codigo}", **headers)


def escritos(buffer) -> list[Click]:
    buffer.flush()
    return list(Click.objects.order_by("ocurrido_en"))


def test_a_click_redirects_to_the_landing_page_with_its_click_id_and_is_recorded_billable(buffer):
    id_campania = tracking.campania("https://tienda.co/zapatos?utm_source=alpes&talla=#fotos")
    id_socio, codigo = tracking.enlace(id_campania)

    answer = clic(codigo, HTTP_REFERER="https://blog.socia.co/resena")

    assert answer.status_code == 302
    assert "no-cache" in answer["Cache-Control"]
    location = urlsplit(answer["Location"])
    assert (location.scheme, location.netloc, location.path, location.fragment) == ("https", "tienda.co", "/zapatos", "fotos")
    parametros = parse_qsl(location.query, keep_blank_values=True)
    assert parametros[:2] == [("utm_source", "alpes"), ("talla", "")] and parametros[2][0] == "click_id"
    [row] = escritos(buffer)
    assert str(row.id) == parametros[2][1]
    assert (row.tipo, row.codigo, row.id_campania, row.id_socio) == ("CLICK", codigo, id_campania, id_socio)
    assert (row.ip, row.user_agent, row.referrer) == ("203.0.113.0", CHROME, "https://blog.socia.co/resena")
    assert (row.facturable, row.motivo) == (True, None)


def test_an_impression_answers_a_one_pixel_gif_and_is_recorded():
    id_campania = tracking.campania()
    id_socio, codigo = tracking.enlace(id_campania)

    answer = visitante().get(f"/t/{codigo}/i.gif")

    assert answer.status_code == 200 and answer["Content-Type"] == "image/gif" and answer.content == PIXEL
    [row] = escritos(clicks.BUFFER)
    assert (row.tipo, row.id_socio, row.facturable) == ("IMPRESION", id_socio, True)


@pytest.mark.parametrize("codigo", ["desconocido1", "abc"])  # unknown; too short to be a code
def test_an_unknown_code_is_a_404_in_the_error_shape_and_writes_nothing(buffer, codigo):
    assert_error(clic(codigo), 404, "no_encontrado")
    assert buffer.pending() == 0 and escritos(buffer) == []


def test_a_retired_link_is_a_404_and_writes_nothing(buffer):
    id_campania = tracking.campania()
    id_socio, codigo = tracking.enlace(id_campania)
    events.deliver("pagos", "eventos.campanias", tracking.socio_retirado(id_campania, id_socio))

    assert_error(clic(codigo), 404, "no_encontrado")
    assert buffer.pending() == 0 and escritos(buffer) == []


def test_a_campaign_without_a_landing_page_is_a_404_and_writes_nothing(buffer):
    _, codigo = tracking.enlace(tracking.campania(url_destino=None))

    assert_error(clic(codigo), 404, "no_encontrado")
    assert buffer.pending() == 0 and escritos(buffer) == []


def test_the_pixel_of_an_unknown_or_retired_code_is_still_a_gif_and_writes_nothing(buffer):
    id_campania = tracking.campania()
    id_socio, codigo = tracking.enlace(id_campania)
    events.deliver("pagos", "eventos.campanias", tracking.socio_retirado(id_campania, id_socio))

    for path in ("/t/desconocido1/i.gif", f"/t/{codigo}/i.gif"):
        answer = visitante().get(path)
        assert answer.status_code == 200 and answer.content == PIXEL
    assert escritos(buffer) == []


def test_a_click_on_a_paused_campaign_still_lands_but_is_not_billable(buffer):
    _, codigo = tracking.enlace(tracking.campania(estados=("CampaniaAprobada", "CampaniaPausada")))

    assert clic(codigo).status_code == 302
    [row] = escritos(buffer)
    assert (row.facturable, row.motivo) == (False, "campania_no_aprobada")


@pytest.mark.parametrize("user_agent", [GOOGLEBOT, "curl/8.5.0", "python-requests/2.32", ""])
def test_a_known_bot_or_a_missing_user_agent_is_not_billable(buffer, user_agent):
    _, codigo = tracking.enlace(tracking.campania())

    assert clic(codigo, visitante(user_agent=user_agent)).status_code == 302
    [row] = escritos(buffer)
    assert (row.facturable, row.motivo, row.user_agent) == (False, "bot", user_agent)


def test_a_repeat_within_the_window_is_not_billable_but_another_person_behind_the_same_address_is(buffer):
    _, codigo = tracking.enlace(tracking.campania())
    direccion = f"198.51.100.{uuid.uuid4().int % 250 + 1}"  # Redis keeps keys across tests

    for cliente in [visitante(direccion, CHROME), visitante(direccion, CHROME), visitante(direccion, FIREFOX),
                    visitante("2001:db8:aa:bb::5", CHROME)]:
        assert clic(codigo, cliente).status_code == 302
    rows = escritos(buffer)
    assert [(row.facturable, row.motivo) for row in rows] == [(True, None), (False, "repetido"), (True, None), (True, None)]
    assert rows[3].ip == "2001:db8:aa::"


def test_a_visitor_is_not_billable_when_the_repeat_store_cannot_tell(buffer, monkeypatch):
    _, codigo = tracking.enlace(tracking.campania())

    class RedisAway:
        def pipeline(self, **kwargs):
            raise ConnectionError("Redis away")

    monkeypatch.setattr(clicks, "repeat_store", lambda: RedisAway())
    assert clic(codigo).status_code == 302
    [row] = escritos(buffer)
    assert (row.facturable, row.motivo) == (False, "sin_verificar")


def test_repeats_within_one_batch_are_told_apart_in_arrival_order(buffer):
    _, codigo = tracking.enlace(tracking.campania())
    direccion = f"198.51.100.{uuid.uuid4().int % 250 + 1}"

    for _ in range(3):
        clic(codigo, visitante(direccion, FIREFOX))
    assert [(row.facturable, row.motivo) for row in escritos(buffer)] == [
        (True, None), (False, "repetido"), (False, "repetido")]


def test_a_batch_kept_after_a_failed_write_is_written_later_with_the_same_decisions(buffer, monkeypatch):
    _, codigo = tracking.enlace(tracking.campania())
    direccion = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    for _ in range(2):
        clic(codigo, visitante(direccion, CHROME))

    def database_away(model, rows):
        raise ConnectionError("database away")

    monkeypatch.setattr(write_behind.bulk, "insert", database_away)
    written = []
    writer = threading.Thread(target=lambda: written.append(buffer.flush()))  # the writer's own connection
    writer.start()
    writer.join()
    assert written == [0] and buffer.pending() == 2 and Click.objects.count() == 0
    monkeypatch.undo()
    assert [(row.facturable, row.motivo) for row in escritos(buffer)] == [(True, None), (False, "repetido")]


def test_stored_user_agent_and_referrer_are_bounded(buffer):
    _, codigo = tracking.enlace(tracking.campania())

    clic(codigo, visitante(user_agent=CHROME + "x" * 3000), HTTP_REFERER="https://r.co/" + "y" * 5000)
    [row] = escritos(buffer)
    assert len(row.user_agent) == 512 and len(row.referrer) == 1024


def test_a_known_link_is_looked_up_once_then_served_from_memory():
    _, codigo = tracking.enlace(tracking.campania())
    clic(codigo)

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert clic(codigo).status_code == 302
        assert visitante().get("/t/desconocido2").status_code == 404
        assert visitante().get("/t/desconocido2").status_code == 404
    assert len(queries) == 1  # the unknown code, once; the clicks themselves wait in the buffer


def test_another_method_is_a_405_in_the_error_shape_and_writes_nothing(buffer):
    _, codigo = tracking.enlace(tracking.campania())

    assert_error(BrowserClient(enforce_csrf_checks=True).post(f"/t/{codigo}"), 405, "metodo_no_permitido")
    assert_error(visitante().delete(f"/t/{codigo}/i.gif"), 405, "metodo_no_permitido")
    assert escritos(buffer) == []


def test_with_the_database_away_the_pixel_is_still_a_gif_and_a_click_is_a_503_in_the_error_shape(buffer, monkeypatch):
    def database_away(codigo):
        raise OperationalError("database away")

    monkeypatch.setattr(clicks, "_buscar", database_away)

    answer = visitante().get("/t/desconocido3/i.gif")
    assert answer.status_code == 200 and answer.content == PIXEL
    assert_error(clic("desconocido3"), 503, "servicio_no_disponible")
    assert buffer.pending() == 0
