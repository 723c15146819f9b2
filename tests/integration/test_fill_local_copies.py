"""pagos' copies of clients and campaigns started keeping names and masks after rows existed, and
webhooks a copy of client names: `fill_local_copies` fills them from the events the broker still
keeps (the outbox in the embedded default), blanks only, so what the consumers applied since stands."""

import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from alpespartners.messaging import pulsar_transport
from alpespartners.messaging.models import OutboxMessage
from pagos.models import CampaniaLocal, ClienteLocal
from webhooks import models as webhooks_models
from tests import events, tracking
from tests.api.test_cobros_api import medio_pago_registrado
from tests.factories import CampaniaLocalFactory, ClienteLocalFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services")]


def historia(marca, socia, campania) -> dict[str, list[dict]]:
    """What cliente and campanias published before pagos kept names: a renamed brand with two
    cards (the second its default), a partner renamed since, a campaign. Whole events, as their
    contexts write them: the topics are the real ones, which other subscriptions read too."""
    tarjeta_vieja = medio_pago_registrado(marca, "tok_rechazado")
    tarjeta_vieja["data"]["mascara"] = "**** 1111"
    return {
        "eventos.cliente": [
            events.cliente_registrado(marca, nombre="Marca Vieja S.A.S."),
            events.envelope("ClienteActualizado", marca, {"nombre": "Marca Nueva S.A.S.", "email": "m@correo.co"}),
            tarjeta_vieja, medio_pago_registrado(marca, "tok_ok"),
            events.cliente_registrado(socia, tipo="NATURAL", nombre="Socia de antes"),
        ],
        "eventos.campanias": [tracking.campania_creada(campania, url_destino=None) | {"data": {
            **tracking.campania_creada(campania, url_destino=None)["data"], "id_cliente": str(marca),
            "nombre": "Verano 2026"}}],
    }


def copias_sin_nombres(marca, socia, campania) -> None:
    ClienteLocalFactory(id=marca, token_predeterminado="tok_ok")
    ClienteLocalFactory(id=socia, nombre="Socia de ahora")  # applied by the consumer since: stays
    CampaniaLocalFactory(id=campania, id_marca=marca)
    webhooks_models.ClienteLocal.objects.create(id=socia, nombre="Socia de ahora")


def publicar(por_topico: dict[str, list[dict]]) -> None:
    client = pulsar_transport.client()
    try:
        for topico, envelopes in por_topico.items():
            producer = client.create_producer(pulsar_transport.topic_name(topico))
            for envelope in envelopes:
                producer.send(pulsar_transport.encode(envelope), properties=pulsar_transport.properties(envelope))
            producer.close()
    finally:
        client.close()


def assert_rellenadas(marca, socia, campania, salida: str) -> None:
    assert ClienteLocal.objects.filter(id=marca).values_list("nombre", "mascara").get() == (
        "Marca Nueva S.A.S.", "**** 4242")
    assert ClienteLocal.objects.get(id=socia).nombre == "Socia de ahora"
    assert CampaniaLocal.objects.get(id=campania).nombre == "Verano 2026"
    assert webhooks_models.ClienteLocal.objects.get(id=marca).nombre == "Marca Nueva S.A.S."
    assert webhooks_models.ClienteLocal.objects.get(id=socia).nombre == "Socia de ahora"
    assert "pagos: 1 nombres de clientes, 1 máscaras, 1 nombres de campañas" in salida
    assert "webhooks: " in salida


def test_names_and_masks_are_filled_from_what_pulsar_keeps(capsys):
    marca, socia, campania = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    copias_sin_nombres(marca, socia, campania)
    publicar(historia(marca, socia, campania))

    call_command("fill_local_copies")

    assert_rellenadas(marca, socia, campania, capsys.readouterr().out)
    call_command("fill_local_copies")  # again: nothing left to fill, nothing overwritten
    assert ClienteLocal.objects.get(id=marca).nombre == "Marca Nueva S.A.S."


def test_the_embedded_default_fills_them_from_the_outbox(settings, capsys):
    settings.PULSAR_URL = ""
    marca, socia, campania = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    copias_sin_nombres(marca, socia, campania)
    # as the embedded transport leaves them: delivered, published; among them two that are not of the
    # contract (no data, an aggregate that is no UUID), passed over
    raras = {"eventos.cliente": [{**events.cliente_registrado(marca), "data": None},
                                 {**events.cliente_registrado(marca, nombre="Otra"), "aggregate_id": "marca-1"}]}
    OutboxMessage.objects.bulk_create([
        OutboxMessage(event_id=envelope["id"], topic=topico, type=envelope["type"], version=envelope["version"],
                      aggregate_id=marca, envelope=envelope, published_at=timezone.now())
        for por_topico in (raras, historia(marca, socia, campania))
        for topico, envelopes in por_topico.items() for envelope in envelopes])

    call_command("fill_local_copies")

    assert_rellenadas(marca, socia, campania, capsys.readouterr().out)
