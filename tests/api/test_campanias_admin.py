"""The campaigns back office: the read model with its stored history, sagas with their steps,
and actions that issue commands through the command log."""

import re
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from alpespartners.messaging.models import CommandLog, CommandStatus
from campanias.models import CampaniaView, ClienteLocal, EventoCampania, SagaAprobacionModel
from tests import events, factories
from tests.api.test_back_office import chart_texts
from tests.api.test_campanias_api import WAIT, aprobada, crear

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services", "eager_commands")]


def run_action(admin_client, action: str, id_campania) -> list[str]:
    response = admin_client.post(reverse("admin:campanias_campaniaview_changelist"),
                                 {"action": action, "_selected_action": [str(id_campania)], "index": 0}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_pausar_reanudar_finalizar_go_through_the_command_log(admin_client, admin_user, api, marca):
    id_campania = aprobada(api, marca)
    for action, estado in [("pausar", "PAUSADA"), ("reanudar", "APROBADA"), ("finalizar", "FINALIZADA")]:
        messages = run_action(admin_client, action, id_campania)
        assert "registro de comandos" in " ".join(messages)
        assert CampaniaView.objects.get(id=id_campania).estado == estado
    entries = CommandLog.objects.filter(source="admin").order_by("created_at")
    assert [entry.type for entry in entries] == ["PausarCampania", "ReanudarCampania", "FinalizarCampania"]
    assert all(entry.issued_by == admin_user and entry.status == CommandStatus.COMPLETADO for entry in entries)


def test_a_refused_admin_action_is_a_failed_command_and_changes_nothing(admin_client, api, marca):
    id_campania = crear(api, marca).json()["id"]  # PENDIENTE: cannot be paused
    run_action(admin_client, "pausar", id_campania)
    entry = CommandLog.objects.get(type="PausarCampania")
    assert entry.status == CommandStatus.FALLIDO and "No se puede pausar una campaña PENDIENTE" in entry.error["message"]
    assert EventoCampania.objects.filter(aggregate_id=id_campania).count() == 1


def test_campaign_detail_shows_its_event_history_and_saga(admin_client, api, marca):
    id_campania = aprobada(api, marca)
    page = admin_client.get(reverse("admin:campanias_campaniaview_change", args=[id_campania])).content.decode()
    assert "CampaniaCreada v3" in page and "CampaniaAprobada v1" in page
    saga = SagaAprobacionModel.objects.get()
    assert reverse("admin:campanias_sagaaprobacionmodel_change", args=[saga.pk]) in page
    saga_page = admin_client.get(reverse("admin:campanias_sagaaprobacionmodel_change", args=[saga.pk])).content.decode()
    assert "CobrarCampania enviado a pagos" in saga_page and "PagoConfirmado: campaña aprobada" in saga_page


def test_campaign_charts_show_their_dates_scale_and_values(admin_client, api, marca):
    # given an approved campaign with a click on the chart's first day, 3 today and today's 1234.50 COP commission
    id_campania, id_socio = aprobada(api, marca), uuid.uuid4()
    hoy = timezone.localdate()
    primer_dia = hoy - timedelta(days=29)
    factories.ClickFactory(id_campania=id_campania, id_socio=id_socio,
                           ocurrido_en=timezone.make_aware(datetime.combine(primer_dia, time(12))))
    factories.ClickFactory.create_batch(3, id_campania=id_campania, id_socio=id_socio)
    factories.TransaccionFactory(id_campania=id_campania, id_socio=id_socio, comision=Decimal("1234.50"))

    page = admin_client.get(reverse("admin:campanias_campaniaview_change", args=[id_campania])).content.decode()

    # then each chart names its first and last day, its scale from 0 to its maximum, and its bars' values
    clicks = chart_texts(page, "Clics por día")
    assert clicks["eje-x"][0] == f"{primer_dia:%d/%m}" and clicks["eje-x"][-1] == f"{hoy:%d/%m}"
    assert clicks["eje-y"] == ["0", "3"] and clicks["valor"] == ["3", "1"]
    comisiones = chart_texts(page, "Comisiones por día (COP)")
    assert comisiones["eje-x"] == clicks["eje-x"]
    assert comisiones["eje-y"] == ["0,00 COP", "1\xa0234,50 COP"] and comisiones["valor"] == ["1\xa0234,50 COP"]
    assert "Comisiones por día (COP) · últimos 30 días · total 1\xa0234,50 COP" in page


@pytest.mark.parametrize("model", ["campaniaview", "sagaaprobacionmodel"])
def test_campaign_admin_is_read_only(admin_client, api, marca, model):
    aprobada(api, marca)
    assert admin_client.get(reverse(f"admin:campanias_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:campanias_{model}_add")).status_code == 403


def test_a_user_without_change_permission_cannot_issue_commands(client, django_user_model, api, marca):
    id_campania = aprobada(api, marca)
    viewer = django_user_model.objects.create_user("lector", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaniaview"))
    client.force_login(viewer)
    response = client.post(reverse("admin:campanias_campaniaview_changelist"),
                           {"action": "pausar", "_selected_action": [str(id_campania)], "index": 0})
    assert not CommandLog.objects.filter(type="PausarCampania").exists()
    assert response.status_code in (200, 302)


def test_campaign_list_and_page_name_the_brand_and_the_partners_and_link_to_them(admin_client, api, marca):
    id_campania = aprobada(api, marca)
    id_socia = uuid.uuid4()
    events.deliver("campanias", "eventos.cliente", events.cliente_registrado(id_socia, tipo="NATURAL", nombre="Socia Ana"))
    assert api.post(f"/api/v1/campanias/{id_campania}/socios", {"id_socio": str(id_socia)}, format="json",
                    **WAIT).status_code == 200
    enlace_marca = f'<a href="{reverse("admin:cliente_clienteview_change", args=[marca])}">Marca S.A.S.</a>'

    lista = admin_client.get(reverse("admin:campanias_campaniaview_changelist")).content.decode()
    assert enlace_marca in lista and f">{marca}<" not in lista  # the id only in the link's address

    pagina = admin_client.get(reverse("admin:campanias_campaniaview_change", args=[id_campania])).content.decode()
    assert enlace_marca in pagina and str(marca) in pagina  # the id stays, beside the name
    assert f'<a href="{reverse("admin:cliente_clienteview_change", args=[id_socia])}">Socia Ana</a>' in pagina
    assert re.search(r'<fieldset class="module aligned collapse"[^>]*>\s*<details><summary>\s*<h2[^>]*>Detalles técnicos'
                     r'.*?Versión', pagina, re.S)


def test_the_saga_list_and_title_name_the_campaign(admin_client, api, marca):
    id_campania = aprobada(api, marca)
    nombre = CampaniaView.objects.get(id=id_campania).nombre

    lista = admin_client.get(reverse("admin:campanias_sagaaprobacionmodel_changelist")).content.decode()
    enlace_a_la_saga = f'<a href="{reverse("admin:campanias_sagaaprobacionmodel_change", args=[id_campania])}">{nombre}</a>'
    assert enlace_a_la_saga in lista and f">{id_campania}<" not in lista
    assert admin_client.get(reverse("admin:campanias_sagaaprobacionmodel_changelist"),
                            {"q": nombre}).context["cl"].result_count == 1

    pagina = admin_client.get(reverse("admin:campanias_sagaaprobacionmodel_change", args=[id_campania])).content.decode()
    assert f"saga de {nombre} (APROBADA)" in pagina and str(id_campania) in pagina
    assert f'<a href="{reverse("admin:campanias_campaniaview_change", args=[id_campania])}">{nombre}</a>' in pagina


def test_a_brand_whose_copy_has_not_arrived_shows_its_id_and_is_found_by_it(admin_client):
    sin_copia = factories.CampaniaViewFactory(id_cliente=uuid.uuid4())
    url = reverse("admin:campanias_campaniaview_changelist")

    lista = admin_client.get(url, {"q": str(sin_copia.id_cliente)})

    assert lista.context["cl"].result_count == 1
    assert f'">{sin_copia.id_cliente}</a>' in lista.content.decode()


@pytest.mark.parametrize("filas", [1, 30])
def test_the_campaign_list_runs_the_same_queries_whatever_its_rows(admin_client, django_assert_max_num_queries, filas):
    for _ in range(filas):
        marca = ClienteLocal.objects.create(id=uuid.uuid4(), tipo="EMPRESA", nombre="Marca", estado="ACTIVO")
        factories.CampaniaViewFactory(id_cliente=marca.id)
    admin_client.get(reverse("admin:campanias_campaniaview_changelist"))  # the session and user, read once

    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:campanias_campaniaview_changelist"))

    assert response.context["cl"].result_count == filas
