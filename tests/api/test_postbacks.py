"""POST and GET /api/v1/pagos/postbacks and POST /clientes/{id}/secreto-postback on PostgreSQL and
Redis: a brand's server reports a sale with the click id its visitor brought, proven by its postback
secret (the token itself, or an HMAC of the request); the click decides campaign and partner."""

import json
import re
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, parse_qs

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alpespartners.access.models import Rol, UsuarioCliente
from alpespartners.messaging.models import CommandLog, OutboxMessage
from pagos import clicks, domain
from pagos.models import Click, CredencialPostback, Transaccion
from tests import events, tracking
from tests.api.test_clientes_api import assert_error

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services", "eager_commands")]

WAIT = {"HTTP_PREFER": "wait=5"}
POSTBACKS = "/api/v1/pagos/postbacks"


# --- givens: a brand with a campaign, an enrolled partner, a visitor's click ------------------


def marca_con_campania(ventana: int = 30) -> tuple[uuid.UUID, uuid.UUID]:
    """A brand pagos knows, and an APROBADA campaign of it with a landing page."""
    id_marca, id_campania = uuid.uuid4(), uuid.uuid4()
    events.deliver("pagos", "eventos.cliente", events.cliente_registrado(id_marca))
    creada = tracking.campania_creada(id_campania, url_destino="https://tienda.co/gracias", ventana=ventana)
    creada["data"]["id_cliente"] = str(id_marca)
    events.deliver("pagos", "eventos.campanias", creada)
    events.deliver("pagos", "eventos.campanias", events.envelope("CampaniaAprobada", id_campania,
                                                                 {"id_pago": str(uuid.uuid4())}))
    return id_marca, id_campania


def click_de_visitante(id_campania) -> tuple[uuid.UUID, uuid.UUID]:
    """An ACTIVO partner enrolled with its link, and a visitor's click on it as the web process
    records it: (the partner, the click_id the landing page received)."""
    id_socio, codigo = tracking.enlace(id_campania)
    events.deliver("pagos", "eventos.cliente", events.cliente_registrado(id_socio, tipo="NATURAL", nombre="Socia"))
    answer = BrowserClient(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Mozilla/5.0 Firefox/121.0").get(f"/t/{codigo}")
    clicks.BUFFER.flush()
    return id_socio, uuid.UUID(parse_qs(urlsplit(answer["Location"]).query)["click_id"][0])


def secreto_de(id_marca) -> str:
    api = marca_api(id_marca)
    answer = api.post(f"/api/v1/clientes/{id_marca}/secreto-postback", {}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()["secreto"]


def marca_api(id_marca) -> APIClient:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(f"marca-{uuid.uuid4().hex[:8]}")
    UsuarioCliente.objects.create(user=user, id_cliente=id_marca, rol=Rol.MARCA)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def venta(id_click, *, id_externo: str | None = None, monto: str = "200.00", **extra) -> dict:
    return {"click_id": str(id_click), "id_externo": id_externo or f"pedido-{uuid.uuid4().hex[:8]}", "tipo": "VENTA",
            "monto": {"valor": monto, "moneda": "COP"}, **extra}


def con_token(body: dict, secreto: str, **headers):
    return APIClient().post(POSTBACKS, body, format="json", HTTP_X_ALPES_TOKEN=secreto, **headers)


def firmado(body: dict, secreto: str, id_marca, *, timestamp: int | None = None, **headers):
    raw = json.dumps(body).encode()
    timestamp = str(timestamp or int(time.time()))
    return APIClient().generic("POST", POSTBACKS, raw, content_type="application/json",
                               HTTP_X_ALPES_CLIENTE=str(id_marca), HTTP_X_ALPES_TIMESTAMP=timestamp,
                               HTTP_X_ALPES_SIGNATURE=domain.firmar(secreto, timestamp, raw), **headers)


def nothing_written() -> None:
    assert not Transaccion.objects.exists()
    assert not CommandLog.objects.filter(type="RegistrarConversion").exists()
    assert not OutboxMessage.objects.filter(topic="eventos.pagos", type="ComisionRegistrada").exists()


# --- the postback ------------------------------------------------------------------------


def test_a_postback_with_the_brands_token_earns_the_clicked_partner_its_commission():
    id_marca, id_campania = marca_con_campania()
    id_socio, id_click = click_de_visitante(id_campania)
    secreto = secreto_de(id_marca)

    answer = con_token(venta(id_click, id_externo="pedido-1"), secreto, **WAIT)

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["id_campania"], body["id_socio"], body["id_externo"]) == (str(id_campania), str(id_socio), "pedido-1")
    assert body["comision"] == {"valor": "10.00", "moneda": "COP"}  # 5 % of 200.00
    entry = CommandLog.objects.get(type="RegistrarConversion")
    assert entry.payload["id_click"] == str(id_click) and entry.issued_by is None
    assert OutboxMessage.objects.filter(topic="eventos.pagos", type="ComisionRegistrada").count() == 1


def test_a_signed_postback_is_accepted_and_answers_202_like_a_conversion():
    id_marca, id_campania = marca_con_campania()
    id_socio, id_click = click_de_visitante(id_campania)
    secreto = secreto_de(id_marca)

    answer = firmado(venta(id_click), secreto, id_marca)

    assert answer.status_code == 202, answer.content
    assert set(answer.json()) == {"command_id", "status", "resource_id", "links"}
    transaccion = Transaccion.objects.get(id=answer.json()["resource_id"])
    assert (transaccion.id_campania, transaccion.id_socio) == (id_campania, id_socio)


def test_a_tracker_can_send_it_as_a_get_with_the_token_in_the_query():
    id_marca, id_campania = marca_con_campania()
    id_socio, id_click = click_de_visitante(id_campania)
    query = urlencode({"token": secreto_de(id_marca), "click_id": str(id_click), "id_externo": "pedido-get",
                       "tipo": "VENTA", "monto": "300.00", "moneda": "COP"})

    answer = APIClient().get(f"{POSTBACKS}?{query}", **WAIT)

    assert answer.status_code == 201, answer.content
    assert answer.json()["comision"] == {"valor": "15.00", "moneda": "COP"}


def test_a_signed_get_signs_its_query():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    secreto, timestamp = secreto_de(id_marca), str(int(time.time()))
    query = urlencode({"click_id": str(id_click), "id_externo": "pedido-firmado", "tipo": "VENTA", "monto": "10.00",
                       "moneda": "COP"})

    answer = APIClient().get(f"{POSTBACKS}?{query}", HTTP_X_ALPES_CLIENTE=str(id_marca), HTTP_X_ALPES_TIMESTAMP=timestamp,
                             HTTP_X_ALPES_SIGNATURE=domain.firmar(secreto, timestamp, query.encode()), **WAIT)

    assert answer.status_code == 201, answer.content


def test_the_same_id_externo_twice_is_the_same_commission():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    secreto = secreto_de(id_marca)

    first = con_token(venta(id_click, id_externo="pedido-2"), secreto, **WAIT)
    again = con_token(venta(id_click, id_externo="pedido-2", monto="999.00"), secreto, **WAIT)

    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["comision"] == first.json()["comision"]
    assert Transaccion.objects.count() == 1


def test_an_idempotency_key_reused_with_another_body_is_a_409_and_keys_are_each_brands_own():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    otra_marca, otra_campania = marca_con_campania()
    _, otro_click = click_de_visitante(otra_campania)
    secreto, otro_secreto = secreto_de(id_marca), secreto_de(otra_marca)

    first = con_token(venta(id_click), secreto, HTTP_IDEMPOTENCY_KEY="k-1")
    replay = con_token(venta(id_click, id_externo="otro"), secreto, HTTP_IDEMPOTENCY_KEY="k-1")
    other_brand = con_token(venta(otro_click), otro_secreto, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 202
    assert_error(replay, 409, "conflicto")
    assert other_brand.status_code == 202 and other_brand.json()["command_id"] != first.json()["command_id"]


# --- refusals, each with its reason, and nothing written ---------------------------------------


def test_an_unknown_click_id_is_refused_with_its_reason():
    id_marca, _ = marca_con_campania()
    secreto = secreto_de(id_marca)

    error = assert_error(con_token(venta(uuid.uuid4()), secreto, **WAIT), 422, "click_desconocido")

    assert "click_id" in error["message"]
    nothing_written()


def test_an_impressions_id_is_not_a_click():
    id_marca, id_campania = marca_con_campania()
    _, codigo = tracking.enlace(id_campania)
    BrowserClient().get(f"/t/{codigo}/i.gif")
    clicks.BUFFER.flush()
    impresion = Click.objects.get(tipo="IMPRESION")

    assert_error(con_token(venta(impresion.id), secreto_de(id_marca)), 422, "click_desconocido")
    nothing_written()


def test_a_click_of_another_brands_campaign_is_refused():
    id_marca, _ = marca_con_campania()
    _, otra_campania = marca_con_campania()
    _, click_ajeno = click_de_visitante(otra_campania)

    assert_error(con_token(venta(click_ajeno), secreto_de(id_marca), **WAIT), 422, "click_de_otra_marca")
    nothing_written()


def test_a_sale_later_than_the_campaigns_window_after_the_click_is_refused_as_its_command():
    id_marca, id_campania = marca_con_campania(ventana=7)
    _, id_click = click_de_visitante(id_campania)
    Click.objects.filter(id=id_click).update(ocurrido_en=timezone.now() - timedelta(days=8))

    error = assert_error(con_token(venta(id_click), secreto_de(id_marca), **WAIT), 422, "click_fuera_de_ventana")

    assert "7 días" in error["message"]
    assert CommandLog.objects.get(type="RegistrarConversion").status == "FALLIDO"
    assert not Transaccion.objects.exists()
    assert not OutboxMessage.objects.filter(topic="eventos.pagos", type="ComisionRegistrada").exists()


def test_a_sale_dated_before_its_click_is_refused():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    antes = (timezone.now() - timedelta(hours=1)).isoformat()

    assert_error(con_token(venta(id_click, ocurrida_en=antes), secreto_de(id_marca), **WAIT), 422, "anterior_al_click")
    assert not Transaccion.objects.exists()


@pytest.mark.parametrize("credenciales, motivo", [
    ({}, "Falta la credencial"),
    ({"HTTP_X_ALPES_TOKEN": "pbs_no-es-un-secreto"}, "no es válido"),
])
def test_without_a_valid_token_it_is_a_401_saying_why(credenciales, motivo):
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    secreto_de(id_marca)

    answer = APIClient().post(POSTBACKS, venta(id_click), format="json", **credenciales)

    assert motivo in assert_error(answer, 401, "no_autenticado")["message"]
    nothing_written()


def test_a_signature_made_with_another_secret_or_too_old_is_a_401_saying_why():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    secreto = secreto_de(id_marca)

    wrong = firmado(venta(id_click), "pbs_otro", id_marca)
    old = firmado(venta(id_click), secreto, id_marca, timestamp=int(time.time()) - 3600)
    tampered = firmado(venta(id_click), secreto, id_marca)  # valid headers, then another body
    raw = json.dumps(venta(id_click, monto="999999.00")).encode()
    timestamp = str(int(time.time()))
    swapped = APIClient().generic("POST", POSTBACKS, raw, content_type="application/json",
                                  HTTP_X_ALPES_CLIENTE=str(id_marca), HTTP_X_ALPES_TIMESTAMP=timestamp,
                                  HTTP_X_ALPES_SIGNATURE=domain.firmar(secreto, timestamp, b"{}"))

    assert "no corresponde" in assert_error(wrong, 401, "no_autenticado")["message"]
    assert "minutos" in assert_error(old, 401, "no_autenticado")["message"]
    assert "no corresponde" in assert_error(swapped, 401, "no_autenticado")["message"]
    assert tampered.status_code == 202  # the control: the same brand and secret, signed right
    assert CommandLog.objects.filter(type="RegistrarConversion").count() == 1


def test_a_bad_body_is_a_400_and_writes_nothing():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    secreto = secreto_de(id_marca)

    error = assert_error(con_token({"click_id": "no-uuid", "tipo": "REGALO"}, secreto), 400, "datos_invalidos")

    assert {"click_id", "id_externo", "tipo"} <= set(error["details"])
    get = APIClient().get(f"{POSTBACKS}?{urlencode({'token': secreto, 'click_id': str(id_click), 'id_externo': 'x', 'tipo': 'VENTA', 'monto': '10.00'})}")
    assert "moneda" in assert_error(get, 400, "datos_invalidos")["details"]
    nothing_written()


# --- the secret ------------------------------------------------------------------------------


def test_a_rotation_shows_the_new_secret_once_and_the_old_one_works_a_day_more():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    api = marca_api(id_marca)
    primero = api.post(f"/api/v1/clientes/{id_marca}/secreto-postback", {}, format="json")

    segundo = api.post(f"/api/v1/clientes/{id_marca}/secreto-postback", {}, format="json")

    assert primero.json()["anterior_vale_hasta"] is None
    assert segundo.status_code == 201 and segundo["Cache-Control"] == "no-store"
    body = segundo.json()
    assert body["secreto"].startswith("pbs_") and body["secreto"] != primero.json()["secreto"]
    vale_hasta = datetime.fromisoformat(body["anterior_vale_hasta"])
    assert timedelta(hours=23, minutes=59) < vale_hasta - timezone.now() <= timedelta(hours=24)
    assert con_token(venta(id_click), primero.json()["secreto"]).status_code == 202
    assert con_token(venta(id_click), body["secreto"]).status_code == 202
    assert all(primero.json()["secreto"] not in json.dumps(message.envelope)
               for message in OutboxMessage.objects.all())  # never on Pulsar


def test_a_rotation_that_revokes_the_old_secret_refuses_it_at_once():
    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    viejo = secreto_de(id_marca)
    api = marca_api(id_marca)

    answer = api.post(f"/api/v1/clientes/{id_marca}/secreto-postback", {"revocar_anterior": True}, format="json")

    assert answer.status_code == 201
    assert_error(con_token(venta(id_click), viejo), 401, "no_autenticado")
    assert con_token(venta(id_click), answer.json()["secreto"]).status_code == 202


def test_only_staff_or_the_brand_itself_rotates_its_secret(api, socio_api):
    id_marca, _ = marca_con_campania()
    otra_marca, _ = marca_con_campania()

    assert_error(marca_api(otra_marca).post(f"/api/v1/clientes/{id_marca}/secreto-postback", {}, format="json"), 404)
    assert_error(socio_api(uuid.uuid4()).post(f"/api/v1/clientes/{id_marca}/secreto-postback", {}, format="json"), 403)
    assert_error(api.post(f"/api/v1/clientes/{uuid.uuid4()}/secreto-postback", {}, format="json"), 404)
    assert_error(api.post(f"/api/v1/clientes/{id_marca}/secreto-postback", {"revocar_anterior": "si"}, format="json"),
                 400, "datos_invalidos")
    assert not CredencialPostback.objects.exists()
    assert api.post(f"/api/v1/clientes/{id_marca}/secreto-postback", {}, format="json").status_code == 201


# --- the back office ---------------------------------------------------------------------------


def test_the_admin_rotates_a_brands_secret_and_shows_it_once(admin_client):
    from django.urls import reverse

    id_marca, id_campania = marca_con_campania()
    _, id_click = click_de_visitante(id_campania)
    viejo = secreto_de(id_marca)
    add = reverse("admin:pagos_credencialpostback_add")

    refused = admin_client.post(add, {"id_cliente": str(uuid.uuid4())})
    answer = admin_client.post(add, {"id_cliente": str(id_marca), "revocar_anterior": "on"})

    assert refused.status_code == 200 and "No existe el cliente" in refused.content.decode()
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    page = answer.content.decode()
    [nuevo] = re.findall(r'<code id="secreto-postback">([^<]+)</code>', page)
    assert nuevo.startswith("pbs_") and nuevo != viejo
    assert_error(con_token(venta(id_click), viejo), 401, "no_autenticado")
    assert con_token(venta(id_click), nuevo).status_code == 202
    changelist = admin_client.get(reverse("admin:pagos_credencialpostback_changelist")).content.decode()
    assert nuevo not in changelist and viejo not in changelist
    assert domain.huella(nuevo)[:12] in changelist
    assert CredencialPostback.objects.filter(id_cliente=id_marca).count() == 2
