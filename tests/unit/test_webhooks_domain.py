"""Webhooks' rules without a database: who receives which event, which addresses are never called,
when a failed delivery is tried again, and the signature a receiver checks."""

import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from django.conf import settings

from alpespartners.messaging import contexts
from alpespartners.seedwork.firmas import firma_valida
from webhooks import domain

MARCA, SOCIO, OTRO_SOCIO, CAMPANIA = (uuid.uuid4() for _ in range(4))
AHORA = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def envelope(type: str, aggregate_id, **data) -> dict:
    return {"id": str(uuid.uuid4()), "type": type, "aggregate_id": str(aggregate_id), "data": data}


def test_the_routing_table_names_every_published_event_and_only_those():
    publicados = {topic: set(contexts.integration(context).PUBLISHED)
                  for context in settings.BOUNDED_CONTEXTS if (topic := contexts.integration(context).TOPIC)}
    assert {topic: set(tipos) for topic, tipos in domain.RUTAS.items()} == publicados


def test_a_commission_goes_to_the_brand_paying_it_and_the_partner_earning_it():
    comision = envelope("ComisionRegistrada", uuid.uuid4(), id_campania=str(CAMPANIA), id_socio=str(SOCIO))
    assert domain.destinatarios("eventos.pagos", comision, {CAMPANIA: MARCA}, {}) == {MARCA, SOCIO}


def test_a_brands_charge_never_goes_to_a_partner_and_a_payout_never_to_a_brand():
    cobro = envelope("PagoConfirmado", uuid.uuid4(), id_campania=str(CAMPANIA), id_cliente=str(MARCA))
    inscritos = {CAMPANIA: {SOCIO, OTRO_SOCIO}}
    assert domain.destinatarios("eventos.pagos", cobro, {CAMPANIA: MARCA}, inscritos) == {MARCA}
    payout = envelope("PayoutExitoso", uuid.uuid4(), id_socio=str(SOCIO))
    assert domain.destinatarios("eventos.pagos", payout, {CAMPANIA: MARCA}, inscritos) == {SOCIO}
    agotado = envelope("PresupuestoAgotado", CAMPANIA, id_campania=str(CAMPANIA))
    assert domain.destinatarios("eventos.pagos", agotado, {CAMPANIA: MARCA}, inscritos) == {MARCA}


def test_a_paused_campaign_is_told_to_its_brand_and_its_enrolled_partners():
    pausada = envelope("CampaniaPausada", CAMPANIA, motivo="inventario")
    assert domain.destinatarios("eventos.campanias", pausada, {CAMPANIA: MARCA}, {CAMPANIA: {SOCIO, OTRO_SOCIO}}) == \
        {MARCA, SOCIO, OTRO_SOCIO}


def test_an_event_of_a_campaign_not_yet_known_is_refused_to_be_retried_not_dropped():
    comision = envelope("ComisionRegistrada", uuid.uuid4(), id_campania=str(CAMPANIA), id_socio=str(SOCIO))
    with pytest.raises(domain.CampaniaDesconocida, match=str(CAMPANIA)):
        domain.destinatarios("eventos.pagos", comision, {}, {})


@pytest.mark.parametrize("direccion, motivo", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.1", "privada"), ("192.168.1.20", "privada"),
    ("172.16.4.4", "privada"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("::ffff:10.0.0.1", "privada"), ("100.64.0.1", "no es una dirección pública"), ("0.0.0.0", "privada"),
    ("224.0.0.1", "pública"),
])
def test_private_loopback_and_link_local_addresses_are_never_called(direccion, motivo):
    assert motivo in domain.motivo_direccion_prohibida(direccion, permitir_loopback=False)


def test_public_addresses_are_called_and_loopback_only_where_the_setting_allows_it():
    assert domain.motivo_direccion_prohibida("1.1.1.1", permitir_loopback=False) is None
    assert domain.motivo_direccion_prohibida("2606:4700:4700::1111", permitir_loopback=False) is None
    assert domain.motivo_direccion_prohibida("127.0.0.1", permitir_loopback=True) is None
    assert "privada" in domain.motivo_direccion_prohibida("10.0.0.1", permitir_loopback=True)


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(domain.WebhookInvalido, match="10.1.2.3 es una dirección privada"):
        domain.direcciones_permitidas("mixto.example", ["1.1.1.1", "10.1.2.3"], permitir_loopback=False)


@pytest.mark.parametrize("url, motivo", [
    ("http://tienda.co/hook", "https://"), ("ftp://tienda.co/hook", "https://"),
    ("https://usuario:clave@tienda.co/hook", "usuario ni contraseña"), ("https:///hook", "nombre de servidor"),
    ("https://tienda.co:99999/hook", "no es válida"), ("https://tienda.co/" + "a" * 2000, "2000 caracteres"),
])
def test_a_url_must_be_https_without_credentials(url, motivo):
    with pytest.raises(domain.WebhookInvalido, match=motivo):
        domain.destino(url, permitir_loopback=False)


def test_plain_http_is_taken_only_where_loopback_is_allowed():
    assert domain.destino("http://127.0.0.1:8123/hook", permitir_loopback=True) == domain.Destino("http", "127.0.0.1", 8123)


def test_retries_back_off_exponentially_with_jitter_until_the_deadline():
    reintentos = domain.Reintentos(inicial=timedelta(seconds=30), maximo=timedelta(hours=1))
    plazo_hasta = AHORA + timedelta(hours=24)
    azar = random.Random(7)
    esperas = [(reintentos.siguiente(fallos, AHORA, plazo_hasta, azar) - AHORA).total_seconds() for fallos in range(1, 12)]
    for fallos, espera in enumerate(esperas, start=1):
        nominal = min(30 * 2 ** (fallos - 1), 3600)
        assert nominal / 2 <= espera < nominal
    assert esperas[-1] >= 1800  # capped at an hour, jittered
    assert reintentos.siguiente(3, plazo_hasta - timedelta(seconds=10), plazo_hasta, azar) is None


def test_the_signature_is_hmac_of_timestamp_dot_body_with_the_endpoints_secret():
    secreto, cuerpo = domain.nuevo_secreto(), b'{"id":"e1","type":"ComisionRegistrada"}'
    cabeceras = domain.cabeceras(secreto, "e1", "ComisionRegistrada", cuerpo, AHORA, intento=2)
    assert cabeceras["X-Alpes-Event-Id"] == "e1" and cabeceras["X-Alpes-Timestamp"] == str(int(AHORA.timestamp()))
    assert firma_valida(secreto, cabeceras["X-Alpes-Timestamp"], cuerpo, cabeceras["X-Alpes-Signature"])
    assert not firma_valida(secreto, cabeceras["X-Alpes-Timestamp"], cuerpo + b" ", cabeceras["X-Alpes-Signature"])
    assert secreto.startswith("whsec_") and domain.nuevo_secreto() != secreto


def test_event_types_must_be_known_and_at_least_one():
    assert domain.validar_tipos(["PayoutExitoso", "ComisionRegistrada", "PayoutExitoso"]) == [
        "ComisionRegistrada", "PayoutExitoso"]
    with pytest.raises(domain.WebhookInvalido, match="PagoInventado"):
        domain.validar_tipos(["PagoInventado"])
    with pytest.raises(domain.WebhookInvalido, match="al menos un tipo"):
        domain.validar_tipos([])
