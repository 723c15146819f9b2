"""pagos' local copies of campaigns' tracking settings and of tracking links, from campanias'
events through the real consumer path (inbox, positions, handler, Unit of Work)."""

import uuid

import pytest

from alpespartners.messaging import inbox
from pagos.models import CampaniaLocal, EnlaceLocal
from tests import events, tracking

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

TOPIC = "eventos.campanias"


def apply_at(position: int, envelope: dict) -> str:
    [delivery] = inbox.apply_batch("pagos", [inbox.Delivery(TOPIC, envelope, position=position)])
    return delivery.outcome


def actualizada(id_campania, url_destino, ventana: int) -> dict:
    return events.envelope("CampaniaActualizada", id_campania,
                           {"url_destino": url_destino, "ventana_atribucion_dias": ventana})


def test_a_v2_campaign_has_no_landing_page_and_the_default_window():
    id_campania = uuid.uuid4()
    assert events.deliver("pagos", TOPIC, tracking.campania_creada(id_campania))
    campania = CampaniaLocal.objects.get(id=id_campania)
    assert (campania.url_destino, campania.ventana_atribucion_dias) == (None, 30)


def test_a_v3_campaign_keeps_its_landing_page_and_window():
    id_campania = uuid.uuid4()
    events.deliver("pagos", TOPIC, tracking.campania_creada(id_campania, url_destino="https://tienda.co/a", ventana=7))
    campania = CampaniaLocal.objects.get(id=id_campania)
    assert (campania.url_destino, campania.ventana_atribucion_dias) == ("https://tienda.co/a", 7)


def test_campania_actualizada_overwrites_the_settings_and_an_older_one_arriving_later_is_skipped():
    id_campania = uuid.uuid4()
    apply_at(1, tracking.campania_creada(id_campania, url_destino="https://tienda.co/a", ventana=30))

    assert apply_at(5, actualizada(id_campania, "https://tienda.co/b", 60)) == "aplicado"
    assert apply_at(3, actualizada(id_campania, "https://tienda.co/viejo", 10)) == "obsoleto"
    assert apply_at(7, actualizada(id_campania, None, 15)) == "aplicado"

    campania = CampaniaLocal.objects.get(id=id_campania)
    assert (campania.url_destino, campania.ventana_atribucion_dias) == (None, 15)


def test_a_link_is_created_active_and_retired_with_its_enrolment():
    id_campania, id_socio, codigo = uuid.uuid4(), uuid.uuid4(), "Ab3_-xYz9Qk"
    apply_at(1, tracking.campania_creada(id_campania, url_destino="https://tienda.co/a"))
    apply_at(2, events.envelope("SocioInscrito", id_campania, {"id_socio": str(id_socio)}))
    assert apply_at(3, tracking.enlace_creado(id_campania, id_socio, codigo)) == "aplicado"
    enlace = EnlaceLocal.objects.get(codigo=codigo)
    assert (enlace.id_campania, enlace.id_socio, enlace.activo) == (id_campania, id_socio, True)

    assert apply_at(4, tracking.socio_retirado(id_campania, id_socio)) == "aplicado"
    assert EnlaceLocal.objects.get(codigo=codigo).activo is False


def test_a_redelivered_older_enlace_creado_never_revives_a_retired_link():
    id_campania, id_socio, codigo = uuid.uuid4(), uuid.uuid4(), "Zz9_-kLm3Np"
    apply_at(1, tracking.campania_creada(id_campania, url_destino="https://tienda.co/a"))
    apply_at(2, events.envelope("SocioInscrito", id_campania, {"id_socio": str(id_socio)}))
    apply_at(4, tracking.socio_retirado(id_campania, id_socio))

    assert apply_at(3, tracking.enlace_creado(id_campania, id_socio, codigo)) == "obsoleto"
    assert not EnlaceLocal.objects.filter(codigo=codigo).exists()


def test_a_backfilled_link_already_known_is_applied_once_and_stays_one_row():
    id_campania, id_socio, codigo = uuid.uuid4(), uuid.uuid4(), "Qq1_-backfil"
    apply_at(1, tracking.campania_creada(id_campania, url_destino="https://tienda.co/a"))
    apply_at(2, tracking.enlace_creado(id_campania, id_socio, codigo))
    apply_at(9, tracking.enlace_creado(id_campania, id_socio, codigo))  # the one-off backfill, later
    assert list(EnlaceLocal.objects.filter(codigo=codigo).values_list("activo", flat=True)) == [True]
