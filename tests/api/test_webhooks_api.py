"""/api/v1/webhooks on PostgreSQL: registering an endpoint (https, public addresses only, the secret
shown once), who sees and changes which endpoint, its deliveries with their attempts, replays, and
the events a client's endpoints are given (webhooks' consumer path, the routing table)."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alpespartners.access.models import Rol, UsuarioCliente
from tests import events, factories
from tests.api.test_clientes_api import assert_error
from webhooks import endpoints, entregas
from webhooks.models import Endpoint, Entrega

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

WEBHOOKS = "/api/v1/webhooks"
PUBLICA = "https://1.1.1.1/hooks/alpes"  # a public address literal: registered, never called here


@pytest.fixture
def clientes():
    return {"marca": factories.ClienteViewFactory().id, "otra_marca": factories.ClienteViewFactory().id,
            "socio": factories.ClienteViewFactory(tipo="NATURAL", tipo_documento="CC").id}


@pytest.fixture
def clients(clientes, django_user_model) -> dict[str, APIClient]:
    users = {"staff": django_user_model.objects.create_user("operaciones", is_staff=True)}
    for role, rol in (("marca", Rol.MARCA), ("otra_marca", Rol.MARCA), ("socio", Rol.SOCIO)):
        users[role] = django_user_model.objects.create_user(f"usuario-{role}")
        UsuarioCliente.objects.create(user=users[role], id_cliente=clientes[role], rol=rol)
    users["sin_vinculo"] = django_user_model.objects.create_user("recien-llegado")
    result = {}
    for role, user in users.items():
        result[role] = APIClient()
        result[role].credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return result


def registrar(client, url=PUBLICA, eventos=("ComisionRegistrada",), **extra):
    return client.post(WEBHOOKS, {"url": url, "eventos": list(eventos), **extra}, format="json")


# --- registration ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url, motivo", [
    ("http://127.0.0.1/hook", "https://"),
    ("https://127.0.0.1/hook", "127.0.0.1 es una dirección de loopback"),
    ("https://10.0.0.1/hook", "10.0.0.1 es una dirección privada"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254 es una dirección link-local"),
    ("https://localhost:8443/hook", "es una dirección de loopback"),  # a name resolving to loopback
    ("https://[::1]/hook", "::1 es una dirección de loopback"),
    ("https://nombre-que-no-existe.invalid/hook", "no resuelve"),
])
def test_an_endpoint_that_would_make_us_call_our_own_network_is_refused_with_why(clients, settings, url, motivo):
    settings.WEBHOOKS_PERMITIR_LOOPBACK = False
    answer = registrar(clients["marca"], url)
    error = assert_error(answer, 400, "datos_invalidos")
    assert motivo in error["details"]["url"][0]
    assert not Endpoint.objects.exists()


def test_loopback_is_registered_only_where_the_setting_allows_it(clients, settings):
    settings.WEBHOOKS_PERMITIR_LOOPBACK = True
    assert registrar(clients["marca"], "http://127.0.0.1:9/hook").status_code == 201
    assert_error(registrar(clients["marca"], "https://10.0.0.1/hook"), 400, "datos_invalidos")


def test_a_brand_registers_an_endpoint_and_sees_its_secret_only_once(clients, clientes):
    answer = registrar(clients["marca"], eventos=["PayoutExitoso", "ComisionRegistrada"])
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["secreto"].startswith("whsec_") and answer["Cache-Control"] == "no-store"
    assert body["id_cliente"] == str(clientes["marca"]) and body["activo"] is True
    assert body["eventos"] == ["ComisionRegistrada", "PayoutExitoso"]
    shown = clients["marca"].get(f"{WEBHOOKS}/{body['id']}").json()
    assert "secreto" not in shown and shown["url"] == PUBLICA
    assert "secreto" not in clients["marca"].get(WEBHOOKS).json()["results"][0]
    assert Endpoint.objects.get().secreto == body["secreto"]


@pytest.mark.parametrize("body, field", [
    ({"url": PUBLICA, "eventos": []}, "eventos"),
    ({"url": PUBLICA, "eventos": ["PagoInventado"]}, "eventos"),
    ({"url": PUBLICA}, "eventos"),
    ({"url": 12, "eventos": ["ComisionRegistrada"]}, "url"),
    ({"url": PUBLICA, "eventos": ["ComisionRegistrada"], "activo": "si"}, "activo"),
])
def test_a_bad_registration_says_which_field_and_writes_nothing(clients, body, field):
    error = assert_error(clients["marca"].post(WEBHOOKS, body, format="json"), 400, "datos_invalidos")
    assert field in error["details"]
    assert not Endpoint.objects.exists()


def test_staff_register_for_a_named_client_and_a_brand_only_for_itself(clients, clientes):
    assert_error(registrar(clients["staff"]), 400, "datos_invalidos")  # staff must name the client
    assert registrar(clients["staff"], id_cliente=str(clientes["otra_marca"])).status_code == 201
    assert_error(registrar(clients["marca"], id_cliente=str(clientes["otra_marca"])), 404, "no_encontrado")
    assert_error(registrar(clients["staff"], id_cliente=str(uuid.uuid4())), 404, "no_encontrado")
    assert_error(registrar(clients["sin_vinculo"]), 403, "sin_permiso")
    assert Endpoint.objects.count() == 1


# --- who sees and changes what ---------------------------------------------------------------------


def test_each_client_sees_and_changes_only_its_own_endpoints(clients, clientes):
    propio = factories.EndpointFactory(id_cliente=clientes["marca"])
    ajeno = factories.EndpointFactory(id_cliente=clientes["otra_marca"])
    del_socio = factories.EndpointFactory(id_cliente=clientes["socio"])
    entrega = factories.EntregaFactory(endpoint=ajeno)

    def ids(client):
        return {row["id"] for row in client.get(WEBHOOKS).json()["results"]}

    assert ids(clients["staff"]) == {str(propio.id), str(ajeno.id), str(del_socio.id)}
    assert ids(clients["marca"]) == {str(propio.id)}
    assert ids(clients["socio"]) == {str(del_socio.id)}
    assert_error(clients["sin_vinculo"].get(WEBHOOKS), 403, "sin_permiso")
    marca, ruta = clients["marca"], f"{WEBHOOKS}/{ajeno.id}"
    for answer in (marca.get(ruta), marca.patch(ruta, {"activo": False}, format="json"), marca.delete(ruta),
                   marca.get(f"{ruta}/entregas"), marca.post(f"{ruta}/entregas/{entrega.id}/reenviar"),
                   marca.post(f"{ruta}/reenviar", {"desde": timezone.now().isoformat()}, format="json")):
        assert_error(answer, 404, "no_encontrado")
    assert Endpoint.objects.get(id=ajeno.id).activo and Entrega.objects.get(id=entrega.id).estado == "ENTREGADA"
    assert clients["staff"].get(f"{ruta}/entregas").json()["count"] == 1
    assert clients["marca"].delete(f"{WEBHOOKS}/{propio.id}").status_code == 204
    assert not Endpoint.objects.filter(id=propio.id).exists()


def test_enabling_a_disabled_endpoint_again_clears_its_failures(clients, clientes):
    endpoint = factories.EndpointFactory(id_cliente=clientes["marca"], activo=False, fallos_seguidos=50,
                                         deshabilitado_en=timezone.now(), motivo_deshabilitado="50 intentos fallidos")
    answer = clients["marca"].patch(f"{WEBHOOKS}/{endpoint.id}", {"activo": True}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["activo"] is True and answer.json()["fallos_seguidos"] == 0
    assert answer.json()["deshabilitado_en"] is None and answer.json()["motivo_deshabilitado"] == ""
    assert_error(clients["marca"].patch(f"{WEBHOOKS}/{endpoint.id}", {"url": "https://10.0.0.1/x"}, format="json"),
                 400, "datos_invalidos")
    assert Endpoint.objects.get(id=endpoint.id).url == factories.EndpointFactory.url


# --- deliveries and replays ------------------------------------------------------------------------


def test_a_delivery_is_listed_with_every_attempt_and_replayed_with_the_same_event(clients, clientes):
    endpoint = factories.EndpointFactory(id_cliente=clientes["marca"])
    entrega = factories.EntregaFactory(endpoint=endpoint, estado="FALLIDA", intentos=2, entregada_en=None)
    for numero, status in ((1, 500), (2, None)):
        entrega.intentos_registrados.create(numero=numero, fecha=timezone.now(), status=status, latencia_ms=12,
                                            respuesta="boom" if status else "", error="" if status else "Sin respuesta")
    listed = clients["marca"].get(f"{WEBHOOKS}/{endpoint.id}/entregas?estado=FALLIDA").json()["results"]
    assert [(row["event_id"], row["estado"]) for row in listed] == [(str(entrega.event_id), "FALLIDA")]
    assert [(intento["status"], intento["error"]) for intento in listed[0]["registro"]] == [
        (500, ""), (None, "Sin respuesta")]

    answer = clients["marca"].post(f"{WEBHOOKS}/{endpoint.id}/entregas/{entrega.id}/reenviar")
    assert answer.status_code == 202, answer.content
    assert answer.json()["estado"] == "PENDIENTE" and answer.json()["event_id"] == str(entrega.event_id)
    replayed = Entrega.objects.get(id=entrega.id)
    assert replayed.proximo_intento_en <= timezone.now() < replayed.plazo_hasta
    assert_error(clients["marca"].post(f"{WEBHOOKS}/{endpoint.id}/entregas/{uuid.uuid4()}/reenviar"), 404)


def test_replay_from_a_time_reaches_back_only_as_far_as_deliveries_are_kept(clients, clientes, settings):
    settings.WEBHOOKS_RETENCION_DIAS = 7
    endpoint = factories.EndpointFactory(id_cliente=clientes["marca"])
    viejas = [factories.EntregaFactory(endpoint=endpoint, fecha_creacion=timezone.now() - timedelta(days=3))
              for _ in range(2)]
    nueva = factories.EntregaFactory(endpoint=endpoint)
    ruta = f"{WEBHOOKS}/{endpoint.id}/reenviar"
    error = assert_error(clients["marca"].post(ruta, {"desde": (timezone.now() - timedelta(days=8)).isoformat()},
                                               format="json"), 400, "fuera_de_retencion")
    assert "se guardan 7 días" in error["message"]
    assert not Entrega.objects.filter(estado="PENDIENTE").exists()
    answer = clients["marca"].post(ruta, {"desde": (timezone.now() - timedelta(days=1)).isoformat()}, format="json")
    assert answer.status_code == 202 and answer.json() == {"reenviadas": 1}
    assert set(Entrega.objects.filter(estado="PENDIENTE").values_list("id", flat=True)) == {nueva.id}
    answer = clients["marca"].post(ruta, {"desde": (timezone.now() - timedelta(days=4)).isoformat()}, format="json")
    assert answer.json() == {"reenviadas": 3} and {entrega.id for entrega in viejas} < set(
        Entrega.objects.filter(estado="PENDIENTE").values_list("id", flat=True))


def test_a_disabled_endpoint_is_enabled_before_anything_is_replayed_to_it(clients, clientes):
    endpoint = factories.EndpointFactory(id_cliente=clientes["marca"], activo=False, motivo_deshabilitado="50 fallos")
    entrega = factories.EntregaFactory(endpoint=endpoint)
    error = assert_error(clients["marca"].post(f"{WEBHOOKS}/{endpoint.id}/entregas/{entrega.id}/reenviar"), 409,
                         "endpoint_deshabilitado")
    assert "activo: true" in error["message"] and Entrega.objects.get(id=entrega.id).estado == "ENTREGADA"


def test_the_purge_keeps_what_is_still_due_and_deletes_only_what_is_older_than_the_retention(settings):
    settings.WEBHOOKS_RETENCION_DIAS = 30
    vieja = factories.EntregaFactory(fecha_creacion=timezone.now() - timedelta(days=31))
    vieja.intentos_registrados.create(numero=1, fecha=vieja.fecha_creacion, status=200, latencia_ms=5)
    pendiente = factories.EntregaFactory(fecha_creacion=timezone.now() - timedelta(days=31), estado="PENDIENTE")
    reciente = factories.EntregaFactory(fecha_creacion=timezone.now() - timedelta(days=29))
    assert entregas.purgar() == 1
    assert set(Entrega.objects.values_list("id", flat=True)) == {pendiente.id, reciente.id}


# --- which events a client's endpoints get (webhooks' consumer) -----------------------------------


def test_each_event_becomes_a_delivery_for_the_clients_the_routing_table_names(clientes):
    marca, otra_marca, socio = clientes["marca"], clientes["otra_marca"], clientes["socio"]
    todos = ["CampaniaCreada", "PagoConfirmado", "SocioInscrito", "CampaniaPausada", "ComisionRegistrada",
             "PayoutExitoso"]
    de_marca = factories.EndpointFactory(id_cliente=marca, eventos=todos)
    de_otra = factories.EndpointFactory(id_cliente=otra_marca, eventos=todos)
    del_socio = factories.EndpointFactory(id_cliente=socio, eventos=todos)
    solo_pagos = factories.EndpointFactory(id_cliente=marca, eventos=["PagoConfirmado"])
    campania = uuid.uuid4()
    creada = events.envelope("CampaniaCreada", campania, {"id_cliente": str(marca)})
    cobro = events.envelope("PagoConfirmado", uuid.uuid4(), {"id_campania": str(campania), "id_cliente": str(marca)})
    inscrito = events.envelope("SocioInscrito", campania, {"id_socio": str(socio)})
    pausada = events.envelope("CampaniaPausada", campania, {"motivo": "inventario"})
    comision = events.envelope("ComisionRegistrada", uuid.uuid4(), {"id_campania": str(campania), "id_socio": str(socio)})
    payout = events.envelope("PayoutExitoso", uuid.uuid4(), {"id_socio": str(socio)})
    for topic, envelope in (("eventos.campanias", creada), ("eventos.pagos", cobro), ("eventos.campanias", inscrito),
                            ("eventos.campanias", pausada), ("eventos.pagos", comision), ("eventos.pagos", payout)):
        assert events.deliver("webhooks", topic, envelope)
    assert not events.deliver("webhooks", "eventos.pagos", comision)  # a redelivery: no second delivery

    def recibidos(endpoint):
        return sorted(Entrega.objects.filter(endpoint=endpoint).values_list("tipo", flat=True))

    assert recibidos(de_marca) == sorted(["CampaniaCreada", "PagoConfirmado", "SocioInscrito", "CampaniaPausada",
                                          "ComisionRegistrada"])
    assert recibidos(del_socio) == sorted(["SocioInscrito", "CampaniaPausada", "ComisionRegistrada", "PayoutExitoso"])
    assert recibidos(de_otra) == [] and recibidos(solo_pagos) == ["PagoConfirmado"]
    entrega = Entrega.objects.get(endpoint=de_marca, tipo="ComisionRegistrada")
    assert entrega.event_id == uuid.UUID(comision["id"]) and entrega.estado == "PENDIENTE"
    assert json.loads(entrega.cuerpo) == comision  # the envelope as it was published


def test_a_commission_of_a_campaign_never_heard_of_is_refused_and_writes_nothing(clientes):
    factories.EndpointFactory(id_cliente=clientes["socio"], eventos=["ComisionRegistrada"])
    comision = events.envelope("ComisionRegistrada", uuid.uuid4(), {"id_campania": str(uuid.uuid4()),
                                                                     "id_socio": str(clientes["socio"])})
    with pytest.raises(Exception, match="aún no se conoce"):
        events.deliver("webhooks", "eventos.pagos", comision)
    assert not Entrega.objects.exists()


def test_a_delivery_whose_run_ended_while_it_waited_is_failed_not_sent_late():
    endpoint = factories.EndpointFactory(activo=False, deshabilitado_en=timezone.now())
    vencida = factories.EntregaFactory(endpoint=endpoint, estado="PENDIENTE", entregada_en=None,
                                       plazo_hasta=timezone.now() - timedelta(minutes=1))
    vigente = factories.EntregaFactory(endpoint=endpoint, estado="PENDIENTE", entregada_en=None)
    assert entregas.vencer(timezone.now()) == 1
    assert Entrega.objects.get(id=vencida.id).estado == "FALLIDA"
    assert Entrega.objects.get(id=vigente.id).estado == "PENDIENTE"


# --- the admin --------------------------------------------------------------------------------------


@pytest.fixture
def admin_browser(django_user_model):
    from django.test import Client as BrowserClient

    staff = django_user_model.objects.create_user("operaciones", password="x", is_staff=True, is_superuser=True)
    browser = BrowserClient()
    browser.force_login(staff)
    return browser


def test_staff_add_an_endpoint_in_the_admin_and_see_its_secret_once(admin_browser, clientes):
    refused = admin_browser.post("/admin/webhooks/endpoint/add/", {
        "id_cliente": str(clientes["marca"]), "url": "https://10.0.0.1/x", "eventos": ["ComisionRegistrada"],
        "activo": "on"})
    assert refused.status_code == 200 and "10.0.0.1 es una dirección privada" in refused.content.decode()
    assert not Endpoint.objects.exists()
    answer = admin_browser.post("/admin/webhooks/endpoint/add/", {
        "id_cliente": str(clientes["marca"]), "url": PUBLICA, "eventos": ["ComisionRegistrada", "PayoutExitoso"],
        "activo": "on"})
    endpoint = Endpoint.objects.get()
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    assert endpoint.secreto in answer.content.decode() and endpoint.eventos == ["ComisionRegistrada", "PayoutExitoso"]
    assert endpoint.secreto not in admin_browser.get(f"/admin/webhooks/endpoint/{endpoint.id}/change/").content.decode()


def test_the_endpoint_list_names_its_client_from_webhooks_own_copy(admin_browser, clientes):
    # given two endpoints, one of a brand whose registration and rename webhooks consumed
    marca, sin_copia = clientes["marca"], clientes["otra_marca"]
    factories.EndpointFactory(id_cliente=marca)
    factories.EndpointFactory(id_cliente=sin_copia)
    events.deliver("webhooks", "eventos.cliente", events.cliente_registrado(marca, nombre="Marca S.A.S."))
    events.deliver("webhooks", "eventos.cliente", events.envelope(
        "ClienteActualizado", marca, {"nombre": "Marca Renombrada", "email": "m@correo.co"}))

    listed = admin_browser.get("/admin/webhooks/endpoint/").content.decode()

    # then the brand reads by its latest name, linked to its page; one it has no copy of by its id
    assert f'<a href="/admin/cliente/clienteview/{marca}/change/">Marca Renombrada</a>' in listed
    assert f'<a href="/admin/cliente/clienteview/{sin_copia}/change/">{sin_copia}</a>' in listed


def test_staff_replay_from_a_time_in_the_admin_within_the_retention(admin_browser, clientes, settings):
    settings.WEBHOOKS_RETENCION_DIAS = 7
    endpoint = factories.EndpointFactory(id_cliente=clientes["marca"])
    entrega = factories.EntregaFactory(endpoint=endpoint, fecha_creacion=timezone.now() - timedelta(days=2))
    pagina = f"/admin/webhooks/endpoint/{endpoint.id}/reenviar/"
    assert "Reenviar desde un instante" in admin_browser.get(f"/admin/webhooks/endpoint/{endpoint.id}/change/").content.decode()
    lejos = admin_browser.post(pagina, {"desde": (timezone.localtime() - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")})
    assert "se guardan 7 días" in lejos.content.decode() and Entrega.objects.get(id=entrega.id).estado == "ENTREGADA"
    cerca = admin_browser.post(pagina, {"desde": (timezone.localtime() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")})
    assert cerca.status_code == 302 and Entrega.objects.get(id=entrega.id).estado == "PENDIENTE"


def test_a_replay_asked_while_an_attempt_is_under_way_is_not_undone_by_that_attempt(clientes):
    endpoint = factories.EndpointFactory(id_cliente=clientes["marca"])
    entrega = factories.EntregaFactory(endpoint=endpoint, estado="PENDIENTE", intentos=0, entregada_en=None,
                                       proximo_intento_en=timezone.now() - timedelta(seconds=1))
    [trabajo] = entregas.reclamar(4, {}, 4, timezone.now())
    assert (trabajo.id_entrega, trabajo.numero) == (entrega.id, 1)
    assert entregas.reclamar(4, {}, 4, timezone.now()) == []  # leased: nobody else takes it

    endpoints.reenviar(endpoint, ahora=timezone.now())  # replay everything, this delivery included
    entregas.registrar(trabajo, entregas.Respuesta(200, 12, "ok"), timezone.now())

    replayed = Entrega.objects.get(id=entrega.id)
    assert replayed.estado == "PENDIENTE" and replayed.proximo_intento_en <= timezone.now()
    assert [(intento.numero, intento.status) for intento in replayed.intentos_registrados.all()] == [(1, 200)]
