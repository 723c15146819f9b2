"""Tracking links on the whole system: a brand's campaign with a landing page, a partner enrolled
through the API, its link known to pagos through Pulsar, visitors clicking it on gunicorn, the
billable click billed by the scheduled task, and the brand's server reporting the visitor's sale
with a signed postback. Web, worker, beat, relay and consumers run as real processes."""

import http.client
import json
import random
import time
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from campanias.models import ClienteLocal as ClienteEnCampanias
from cliente.domain import digito_verificacion_nit
from pagos import domain
from pagos.models import CampaniaLocal, ClienteLocal, Click, EnlaceLocal, Transaccion
from tests.conftest import celery_worker, manage, wait_until
from tests.e2e.test_campania_saga import accepted, estado
from tests.e2e.test_pagos_journey import registrar_cliente
from tests.factories import CampaniaBody, ClienteEmpresaBody, ClienteNaturalBody
from tests.integration.test_clicks_processes import CHROME, gunicorn
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services

CONTEXTS = ["cliente", "campanias", "pagos", "webhooks"]  # `consume` with no argument runs them all
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def click(port: int, codigo: str, user_agent: str) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", f"/t/{codigo}", headers={"User-Agent": user_agent})
        answer = connection.getresponse()
        return answer.status, answer.getheader("Location")
    finally:
        connection.close()


def postback(port: int, body: dict, secreto: str, id_marca: str) -> tuple[int, dict]:
    """As a brand's server sends it: signed with its postback secret, waiting for the answer."""
    raw, timestamp = json.dumps(body).encode(), str(int(time.time()))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("POST", "/api/v1/pagos/postbacks", body=raw, headers={
            "Content-Type": "application/json", "Prefer": "wait=10", "X-Alpes-Cliente": id_marca,
            "X-Alpes-Timestamp": timestamp, "X-Alpes-Signature": domain.firmar(secreto, timestamp, raw)})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_a_partners_link_takes_visitors_to_the_landing_page_and_records_each_click(api, processes):
    # given the whole system running
    skip_backlog(CONTEXTS)
    # billing every second (the migration's row may have gone with an earlier test's flush)
    PeriodicTask.objects.update_or_create(name="pagos: facturar clics e impresiones", defaults={
        "task": "pagos.facturar_interacciones",
        "interval": IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)[0]})
    processes("worker", *celery_worker())
    processes("beat", "-m", "celery", "-A", "alpespartners", "beat", "-l", "info")
    processes("relay", *manage("relay"))
    consumer = processes("consumer", *manage("consume"))
    web, port = gunicorn(processes, flush_seconds=0.2)

    # a brand's approved campaign with a landing page, and a partner enrolled through the API
    numero = f"{random.randrange(800_000_000, 999_999_999)}"
    id_marca = registrar_cliente(api, ClienteEmpresaBody(nit=f"{numero}-{digito_verificacion_nit(numero)}"), "tok_ok")
    id_socio = registrar_cliente(api, ClienteNaturalBody(), "tok_ok")
    wait_until(lambda: ClienteEnCampanias.objects.filter(id__in=[id_marca, id_socio]).count() == 2, 30,
               "campanias to know the clients")
    id_campania = accepted(api.post("/api/v1/campanias", CampaniaBody(
        id_cliente=id_marca, url_destino="https://tienda.co/navidad?utm_source=alpes"), format="json"))
    estado(id_campania, "APROBADA")
    accepted(api.post(f"/api/v1/campanias/{id_campania}/socios", {"id_socio": id_socio}, format="json"))
    wait_until(lambda: api.get(f"/api/v1/campanias/{id_campania}/enlaces").json(), 30, "campanias to give the link")
    (enlace,) = api.get(f"/api/v1/campanias/{id_campania}/enlaces").json()
    wait_until(lambda: EnlaceLocal.objects.filter(codigo=enlace["codigo"]).exists(), 60,
               "pagos to know the link\n" + consumer.log()[-2000:])

    # when a visitor and a crawler click it
    status, location = click(port, enlace["codigo"], CHROME)
    bot_status, _ = click(port, enlace["codigo"], GOOGLEBOT)

    # then both land on the brand's page with a click id, its own parameters kept
    assert (status, bot_status) == (302, 302)
    destino = urlsplit(location)
    assert (destino.scheme, destino.netloc, destino.path) == ("https", "tienda.co", "/navidad")
    query = parse_qs(destino.query)
    assert query["utm_source"] == ["alpes"] and len(query["click_id"]) == 1

    # and, once the web process stops, both clicks are recorded: the visitor's billable, the bot's not
    assert web.stop() == 0, web.log()[-2000:]
    clicks = {row.user_agent: row for row in Click.objects.filter(codigo=enlace["codigo"])}
    assert str(clicks[CHROME].id) == query["click_id"][0]
    assert (clicks[CHROME].facturable, str(clicks[CHROME].id_socio), str(clicks[CHROME].id_campania)) == (
        True, id_socio, id_campania)
    assert (clicks[GOOGLEBOT].facturable, clicks[GOOGLEBOT].motivo) == (False, "bot")

    # and the visitor's click earns its partner the campaign's CLICK term (0.10 COP); the bot's nothing
    wait_until(lambda: Click.objects.get(id=clicks[CHROME].id).id_transaccion is not None, 60, "the click to be billed")
    (comision,) = Transaccion.objects.filter(id_campania=id_campania)
    assert (comision.tipo, comision.comision, str(comision.id_socio)) == ("CLICK", Decimal("0.10"), id_socio)
    assert Click.objects.get(id=clicks[GOOGLEBOT].id).id_transaccion is None

    # when the brand moves its landing page, pagos follows
    accepted(api.patch(f"/api/v1/campanias/{id_campania}", {"url_destino": "https://tienda.co/enero"}, format="json"))
    wait_until(lambda: CampaniaLocal.objects.get(id=id_campania).url_destino == "https://tienda.co/enero", 60,
               "pagos to hear of the new landing page")
    _, port = gunicorn(processes, flush_seconds=0.2)
    status, location = click(port, enlace["codigo"], CHROME)
    assert status == 302 and location.startswith("https://tienda.co/enero?click_id=")

    # when the brand's server reports the visitor's sale with the click id, signed with its secret
    wait_until(lambda: ClienteLocal.objects.filter(id=id_marca).exists(), 30, "pagos to know the brand")
    secreto = api.post(f"/api/v1/clientes/{id_marca}/secreto-postback", {}, format="json").json()["secreto"]
    venta = {"click_id": query["click_id"][0], "id_externo": "pedido-navidad-1", "tipo": "VENTA",
             "monto": {"valor": "250000.00", "moneda": "COP"}}
    status, body = postback(port, venta, secreto, id_marca)

    # then the sale is the clicked partner's: 5 % of 250,000 COP, decided by the worker
    assert status == 201, body
    assert (body["id_socio"], body["id_campania"], body["comision"]) == (
        id_socio, id_campania, {"valor": "12500.00", "moneda": "COP"})
    assert Transaccion.objects.get(id=body["id"]).tipo == "VENTA"

    # and a click id nobody clicked is refused with its reason, nothing written
    status, body = postback(port, {**venta, "click_id": str(uuid.uuid4()), "id_externo": "pedido-2"}, secreto, id_marca)
    assert (status, body["error"]["code"]) == (422, "click_desconocido")
    assert not Transaccion.objects.filter(id_externo="pedido-2").exists()

