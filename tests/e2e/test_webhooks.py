"""Webhooks on the whole system: two brands and a partner register endpoints through the API on
gunicorn; a campaign's life (created, charged, approved, a partner enrolled, a sale) goes through
worker, relay, Pulsar and the consumers to the webhooks dispatcher, which POSTs each event, signed,
to the receivers of the clients it concerns — never to another brand's."""

import http.client
import json
import random

import pytest
from rest_framework.authtoken.models import Token

from campanias.models import ClienteLocal as ClienteEnCampanias
from cliente.domain import digito_verificacion_nit
from pagos.models import SocioCampaniaLocal
from tests.conftest import celery_worker, manage, wait_until
from tests.e2e.test_campania_saga import accepted, estado
from tests.e2e.test_pagos_journey import conversion, registrar_cliente
from tests.e2e.test_web_metrics import free_port
from tests.factories import CampaniaBody, ClienteEmpresaBody, ClienteNaturalBody
from tests.pulsar_helpers import skip_backlog
from tests.webhook_receiver import Receptor

pytestmark = pytest.mark.real_services

CONTEXTS = ["cliente", "campanias", "pagos", "webhooks"]
DE_LA_MARCA = ["CampaniaCreada", "PagoConfirmado", "CampaniaAprobada", "SocioInscrito", "ComisionRegistrada"]
DEL_SOCIO = ["PagoConfirmado", "SocioInscrito", "ComisionRegistrada"]  # a brand's charge: asked for, never sent
LOOPBACK = {"WEBHOOKS_PERMITIR_LOOPBACK": "true"}  # the receivers listen on 127.0.0.1


def marca(api) -> str:
    numero = f"{random.randrange(800_000_000, 999_999_999)}"
    return registrar_cliente(api, ClienteEmpresaBody(nit=f"{numero}-{digito_verificacion_nit(numero)}"), "tok_ok")


def registrar_endpoint(port: int, token: str, id_cliente: str, receptor: Receptor, eventos: list[str]) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("POST", "/api/v1/webhooks", body=json.dumps(
            {"url": receptor.url, "eventos": eventos, "id_cliente": id_cliente}),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"})
        answer = connection.getresponse()
        body = json.loads(answer.read())
    finally:
        connection.close()
    assert answer.status == 201, body
    receptor.secreto = body["secreto"]
    return body


def tipos(receptor: Receptor) -> list[str]:
    return sorted(json.loads(recibido.cuerpo)["type"] for recibido in receptor.recibidos)


def test_each_client_gets_signed_the_events_about_its_own_objects_and_nothing_of_another_brand(api, user, processes):
    # given the whole system running, the web with the test setting that lets endpoints be on 127.0.0.1
    skip_backlog(CONTEXTS)
    processes("worker", *celery_worker())
    processes("relay", *manage("relay"))
    consumer = processes("consumer", *manage("consume"))
    despachador = processes("webhooks", *manage("entregar_webhooks"), **LOOPBACK)
    port = free_port()
    web = processes("web", "-m", "gunicorn", "alpespartners.wsgi:application", "-c", "python:alpespartners.gunicorn_conf",
                    "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread", "--threads", "2",
                    **LOOPBACK)
    receptores = {nombre: Receptor() for nombre in ("marca_a", "marca_b", "socio")}
    try:
        # two brands and a partner, each with a receiver registered through the API
        id_marca_a, id_marca_b = marca(api), marca(api)
        id_socio = registrar_cliente(api, ClienteNaturalBody(), "tok_ok")
        token = Token.objects.get_or_create(user=user)[0].key
        wait_until(lambda: _answers(port), 60, "gunicorn to answer", diagnose=web.log)
        registrar_endpoint(port, token, id_marca_a, receptores["marca_a"], DE_LA_MARCA)
        registrar_endpoint(port, token, id_marca_b, receptores["marca_b"], DE_LA_MARCA)
        registrar_endpoint(port, token, id_socio, receptores["socio"], DEL_SOCIO)
        wait_until(lambda: ClienteEnCampanias.objects.filter(id__in=[id_marca_a, id_marca_b, id_socio]).count() == 3,
                   30, "campanias to know the clients")

        # when brand A's campaign is created and approved, the partner enrolled, and a sale reported; and B's too
        campania_a = accepted(api.post("/api/v1/campanias", CampaniaBody(id_cliente=id_marca_a), format="json"))
        campania_b = accepted(api.post("/api/v1/campanias", CampaniaBody(id_cliente=id_marca_b), format="json"))
        estado(campania_a, "APROBADA")
        estado(campania_b, "APROBADA")
        accepted(api.post(f"/api/v1/campanias/{campania_a}/socios", {"id_socio": id_socio}, format="json"))
        wait_until(lambda: SocioCampaniaLocal.objects.filter(id_campania=campania_a, id_socio=id_socio).exists(), 60,
                   "pagos to know the enrolment")
        venta = conversion(campania_a, id_socio, "VENTA", "200000.00", "pedido-webhook-1")
        answer = api.post("/api/v1/pagos/conversiones", venta, format="json", HTTP_PREFER="wait=10")
        assert answer.status_code == 201, answer.content

        # then brand A's receiver gets its campaign's life, each event once, each signed with its secret
        diagnostico = lambda: despachador.log()[-3000:] + consumer.log()[-2000:]  # noqa: E731
        wait_until(lambda: tipos(receptores["marca_a"]) == sorted(DE_LA_MARCA), 60,
                   "brand A's receiver to get its campaign's events", diagnose=diagnostico)
        wait_until(lambda: tipos(receptores["socio"]) == ["ComisionRegistrada", "SocioInscrito"], 60,
                   "the partner's receiver to get its enrolment and its commission", diagnose=diagnostico)
        wait_until(lambda: tipos(receptores["marca_b"]) == ["CampaniaAprobada", "CampaniaCreada", "PagoConfirmado"],
                   60, "brand B's receiver to get its own campaign's events", diagnose=diagnostico)
        for nombre, receptor in receptores.items():
            assert all(recibido.firma_valida for recibido in receptor.recibidos), nombre
            ids = receptor.event_ids()
            assert len(ids) == len(set(ids)), f"{nombre} got an event twice"
            for recibido in receptor.recibidos:
                evento = json.loads(recibido.cuerpo)
                assert recibido.event_id == evento["id"]
                campania = evento["data"].get("id_campania", evento["aggregate_id"])
                assert campania == (campania_b if nombre == "marca_b" else campania_a), (nombre, evento)
        comision = next(json.loads(r.cuerpo) for r in receptores["socio"].recibidos
                        if json.loads(r.cuerpo)["type"] == "ComisionRegistrada")
        assert comision["data"]["id_socio"] == id_socio and comision["data"]["id_externo"] == "pedido-webhook-1"
    finally:
        for receptor in receptores.values():
            receptor.close()


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
