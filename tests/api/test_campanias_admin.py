"""The campaigns back office: the read model with its stored history, sagas with their steps,
and actions that issue commands through the command log."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from alpespartners.messaging.models import CommandLog, CommandStatus
from campanias.models import CampaniaView, EventoCampania, SagaAprobacionModel
from tests.api.test_campanias_api import aprobada, crear

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
