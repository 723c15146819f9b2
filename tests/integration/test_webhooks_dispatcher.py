"""The `entregar_webhooks` process against real HTTP receivers on 127.0.0.1: retries with backoff
until a 2xx, every attempt logged; an endpoint that never answers disabled after N failures in a
row while the others get their events on time; a replay sends the same event id again. The events
become deliveries through webhooks' consumer path (inbox, handler) on PostgreSQL."""

import time
import uuid

import pytest
from django.test import Client as BrowserClient
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import events, factories
from tests.conftest import manage, wait_until
from tests.webhook_receiver import Receptor
from tests.e2e.test_web_metrics import free_port
from webhooks import endpoints
from webhooks.entregas import ClienteHttp
from webhooks.models import Endpoint, Entrega, Intento

pytestmark = pytest.mark.real_services

TIMEOUT_SEGUNDOS = 2.0
FALLOS_PARA_DESHABILITAR = 3
DESPACHADOR = {"WEBHOOKS_PERMITIR_LOOPBACK": "true", "WEBHOOKS_REINTENTO_INICIAL_SEGUNDOS": "0.2",
               "WEBHOOKS_TIMEOUT_SEGUNDOS": str(TIMEOUT_SEGUNDOS), "WEBHOOKS_ESPERA_SEGUNDOS": "0.5"}


@pytest.fixture
def receptores():
    abiertos = []

    def abrir(**kwargs) -> Receptor:
        abiertos.append(Receptor(**kwargs))
        return abiertos[-1]

    yield abrir
    for receptor in abiertos:
        receptor.close()


@pytest.fixture
def campania(settings):
    """A brand's campaign webhooks heard of, a partner; loopback endpoints allowed in this process."""
    settings.WEBHOOKS_PERMITIR_LOOPBACK = True
    marca, socio, id_campania = factories.ClienteViewFactory().id, factories.ClienteViewFactory().id, uuid.uuid4()
    events.deliver("webhooks", "eventos.campanias", events.envelope("CampaniaCreada", id_campania,
                                                                    {"id_cliente": str(marca)}))
    return marca, socio, id_campania


def registrar(receptor: Receptor, id_cliente) -> Endpoint:
    registro = endpoints.registrar(id_cliente, receptor.url, ["ComisionRegistrada"])
    receptor.secreto = registro.secreto
    return registro.endpoint


def comision(id_campania, id_socio) -> dict:
    envelope = events.envelope("ComisionRegistrada", uuid.uuid4(), {"id_campania": str(id_campania),
                                                                    "id_socio": str(id_socio)})
    assert events.deliver("webhooks", "eventos.pagos", envelope)
    return envelope


def test_a_failing_receiver_gets_the_event_again_until_it_answers_2xx_and_every_attempt_is_logged(
        processes, receptores, campania):
    marca, socio, id_campania = campania
    receptor = receptores(respuestas=[500, 500, 500])
    endpoint = registrar(receptor, marca)
    despachador = processes("webhooks", *manage("entregar_webhooks"), **DESPACHADOR,
                            WEBHOOKS_FALLOS_PARA_DESHABILITAR="10")

    evento = comision(id_campania, socio)

    entrega = wait_until(lambda: Entrega.objects.filter(endpoint=endpoint, estado="ENTREGADA").first(), 30,
                         "the delivery to succeed after retries", diagnose=lambda: despachador.log()[-3000:])
    assert [(recibido.status, recibido.intento) for recibido in receptor.recibidos] == [
        (500, 1), (500, 2), (500, 3), (200, 4)]
    assert {recibido.event_id for recibido in receptor.recibidos} == {evento["id"]}
    assert all(recibido.firma_valida for recibido in receptor.recibidos)
    esperas = [despues.llegado - antes.llegado for antes, despues in zip(receptor.recibidos, receptor.recibidos[1:])]
    assert esperas[2] > esperas[0]  # backing off: 0.1–0.2 s, 0.2–0.4 s, 0.4–0.8 s
    intentos = list(entrega.intentos_registrados.order_by("numero"))
    assert [(intento.numero, intento.status) for intento in intentos] == [(1, 500), (2, 500), (3, 500), (4, 200)]
    assert intentos[0].respuesta == "fallo del receptor" and intentos[3].respuesta == "ok"
    assert all(intento.latencia_ms < TIMEOUT_SEGUNDOS * 1000 for intento in intentos)
    assert entrega.intentos == 4 and Endpoint.objects.get(id=endpoint.id).fallos_seguidos == 0
    time.sleep(1)
    assert len(receptor.recibidos) == 4  # delivered once: nothing after the 200


def test_a_dead_endpoint_is_disabled_after_n_failures_while_the_others_get_their_events_on_time(
        processes, receptores, campania, django_user_model):
    marca, socio, id_campania = campania
    muerto, sano = receptores(colgado=True), receptores()
    endpoint_muerto, endpoint_sano = registrar(muerto, marca), registrar(sano, socio)
    # three threads, two per endpoint: without the cap the dead one would hold them all
    despachador = processes("webhooks", *manage("entregar_webhooks", "--hilos", "3", "--por-endpoint", "2"),
                            **DESPACHADOR, WEBHOOKS_FALLOS_PARA_DESHABILITAR=str(FALLOS_PARA_DESHABILITAR))
    wait_until(lambda: "webhooks dispatcher:" in despachador.log(), 30, "the dispatcher to start")

    enviados = {}
    for _ in range(6):
        evento = comision(id_campania, socio)
        enviados[evento["id"]] = time.time()
        time.sleep(0.1)

    wait_until(lambda: set(sano.event_ids()) == set(enviados), 15, "the healthy endpoint to get every event")
    demoras = [recibido.llegado - enviados[recibido.event_id] for recibido in sano.recibidos]
    assert max(demoras) < TIMEOUT_SEGUNDOS / 2, demoras  # none waited for the dead endpoint's timeouts
    assert all(recibido.firma_valida for recibido in sano.recibidos)
    muerto_ahora = wait_until(lambda: Endpoint.objects.filter(id=endpoint_muerto.id, activo=False).first(), 30,
                              "the dead endpoint to be disabled")
    assert muerto_ahora.fallos_seguidos >= FALLOS_PARA_DESHABILITAR and muerto_ahora.deshabilitado_en is not None
    assert "Sin respuesta dentro del tiempo límite" in muerto_ahora.motivo_deshabilitado
    assert Entrega.objects.filter(endpoint=endpoint_muerto).exclude(estado="ENTREGADA").count() == 6  # kept for later
    assert set(Intento.objects.filter(entrega__endpoint=endpoint_muerto).values_list("status", "error")) == {
        (None, "Sin respuesta dentro del tiempo límite.")}

    # the back office's home flags it
    staff = django_user_model.objects.create_user("operaciones", password="x", is_staff=True, is_superuser=True)
    browser = BrowserClient()
    browser.force_login(staff)
    home = browser.get("/admin/").content.decode()
    assert "Endpoints deshabilitados por fallos" in home and muerto.url in home

    # a replay sends the same event, with the same id, once more
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    primera = Entrega.objects.filter(endpoint=endpoint_sano).order_by("fecha_creacion").first()
    answer = api.post(f"/api/v1/webhooks/{endpoint_sano.id}/entregas/{primera.id}/reenviar")
    assert answer.status_code == 202, answer.content
    wait_until(lambda: sano.event_ids().count(str(primera.event_id)) == 2, 15, "the replay to arrive")
    assert Entrega.objects.get(id=primera.id).estado == "ENTREGADA"
    assert [intento.numero for intento in Entrega.objects.get(id=primera.id).intentos_registrados.all()] == [1, 2]
    assert len(sano.recibidos) == 7


def test_an_address_nobody_listens_on_is_a_refused_connection_and_a_private_one_is_never_called():
    cliente = ClienteHttp(timeout=2, permitir_loopback=True, conexiones_por_destino=1)
    respuesta = cliente.enviar(f"http://127.0.0.1:{free_port()}/hook", b"{}", {})
    assert (respuesta.status, respuesta.error) == (None, "No se pudo conectar (conexión rechazada o inalcanzable).")
    prohibida = ClienteHttp(timeout=2, permitir_loopback=False, conexiones_por_destino=1).enviar(
        "https://10.0.0.1/hook", b"{}", {})
    assert prohibida.status is None and "10.0.0.1 es una dirección privada" in prohibida.error
