"""The back-office admin: read-only views of the messaging tables, and client actions that issue commands."""

import re
import uuid
from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from alpespartners.messaging import command_log
from alpespartners.messaging.models import CommandLog, CommandStatus, OutboxMessage
from cliente.commands import RegistrarCliente
from cliente.models import ClienteView

MESSAGING_MODELS = ["commandlog", "outboxmessage", "inboxmessage", "deadletter"]


def registrar_cliente() -> uuid.UUID:
    id_cliente = uuid.uuid4()
    command_log.submit("cliente", RegistrarCliente(
        id=id_cliente, tipo="NATURAL", nombre="Ana Pérez", email=f"ana-{id_cliente.hex[:8]}@example.com",
        cedula="1234567890", fecha_nacimiento=date(1990, 5, 17),
    ))
    return id_cliente


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", MESSAGING_MODELS)
def test_messaging_changelists_render_for_staff(admin_client, eager_commands, model):
    # given a client registered through the command log
    registrar_cliente()

    # when staff opens the changelist
    response = admin_client.get(reverse(f"admin:messaging_{model}_changelist"))

    # then it renders
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", MESSAGING_MODELS)
def test_messaging_admin_cannot_add(admin_client, model):
    # when staff opens the add form
    response = admin_client.get(reverse(f"admin:messaging_{model}_add"))

    # then it is forbidden
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_command_log_cannot_be_deleted_from_the_admin(admin_client, eager_commands):
    # given a command in the log
    registrar_cliente()
    entry = CommandLog.objects.get()

    # when staff tries to delete it
    response = admin_client.post(reverse("admin:messaging_commandlog_delete", args=[entry.id]), {"post": "yes"})

    # then it is forbidden and the entry stays
    assert response.status_code == 403
    assert CommandLog.objects.filter(id=entry.id).exists()


@pytest.mark.django_db(transaction=True)
def test_outbox_changelist_shows_pending_count(admin_client, eager_commands, settings):
    # given Pulsar configured but no relay running, so a registered client's event stays pending
    settings.PULSAR_URL = "pulsar://relay-not-running:6650"
    registrar_cliente()
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 1

    # when staff opens the outbox
    response = admin_client.get(reverse("admin:messaging_outboxmessage_changelist"))

    # then the pending count and the age of the oldest pending row are shown
    assert response.status_code == 200
    assert response.context["outbox_pending_count"] == 1
    assert response.context["outbox_oldest_pending_age"]  # e.g. "0 minutos"
    assert '<a href="?publicado=no">1</a>' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_suspender_action_issues_a_command(admin_client, admin_user, eager_commands):
    # given an active client
    id_cliente = registrar_cliente()
    assert ClienteView.objects.get(id=id_cliente).estado == "ACTIVO"

    # when staff runs the Suspender action on it
    response = admin_client.post(
        reverse("admin:cliente_clienteview_changelist"),
        {"action": "suspender", "_selected_action": [str(id_cliente)], "index": 0},
        follow=True,
    )

    # then a command was logged from the admin, by that user, and the client ends suspended
    assert response.status_code == 200
    entry = CommandLog.objects.get(type="SuspenderCliente")
    assert entry.source == "admin"
    assert entry.issued_by == admin_user
    assert entry.resource_id == id_cliente
    assert entry.status == CommandStatus.COMPLETADO
    assert ClienteView.objects.get(id=id_cliente).estado == "SUSPENDIDO"
    assert "registro de comandos" in " ".join(str(message) for message in response.context["messages"])


def grupos(html: str) -> dict[str, str]:
    """The app list's groups as rendered, in order: each caption with the table under it."""
    return dict(re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>\s*</caption>(.*?)</table>', html, re.S))


@pytest.mark.django_db(transaction=True)
def test_the_index_and_the_sidebar_list_internal_tables_after_every_business_app(admin_client):
    # when staff opens the home, and a list (its sidebar)
    for url in (reverse("admin:index"), reverse("admin:messaging_commandlog_changelist")):
        listado = grupos(admin_client.get(url).content.decode())

        # then the internal tables are in groups of their own, after every business app
        nombres = list(listado)
        internos = [nombre for nombre in nombres if nombre.startswith("Interno · ")]
        assert internos and nombres[-len(internos):] == internos, nombres
        assert "Inbox" in listado["Interno · Mensajería"] and "Outbox" in listado["Interno · Mensajería"]
        assert "Inbox" not in listado["Mensajería"] and "Comandos" in listado["Mensajería"]


@pytest.mark.django_db(transaction=True)
def test_every_app_on_the_index_is_named_in_spanish(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()

    nombres = set(grupos(html))

    assert {"Usuarios y permisos", "Token de autenticación", "Tareas programadas", "Bloqueo de accesos"} <= nombres
    assert not nombres & {"Authentication and Authorization", "Periodic Tasks", "Auth Token", "Axes"}


@pytest.mark.django_db(transaction=True)
def test_the_command_page_keeps_technical_fields_in_a_collapsed_fieldset(admin_client, eager_commands):
    registrar_cliente()
    entry = CommandLog.objects.get()

    html = admin_client.get(reverse("admin:messaging_commandlog_change", args=[entry.id])).content.decode()

    tecnicos = html[html.index('<fieldset class="module aligned collapse"'):]
    tecnicos = tecnicos[:tecnicos.index("</fieldset>")]
    assert re.search(r"<details><summary>\s*<h2[^>]*>Detalles técnicos</h2>", tecnicos)  # closed until clicked
    assert "Idempotency-Key" in tecnicos and "huella de la petición" in tecnicos.lower()
    assert html.index("Payload") < html.index("Detalles técnicos")  # after the business fields
    # the correlation id stays in sight: the way to the request in the logs
    assert str(entry.correlation_id) in html and str(entry.correlation_id) not in tecnicos


@pytest.mark.django_db(transaction=True)
def test_every_list_and_page_of_the_admin_renders_with_rows_and_never_a_link_inside_a_link(admin_client):
    from tests.api.test_back_office import what_needs_attention  # here: that module imports this one

    # given rows in the tables the home counts (payouts, commissions, a failed command, a dead letter...)
    fallido = what_needs_attention()
    # then every list answers 200, and a name linking to its page is never inside the row's own link
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert "</a></a>" not in response.content.decode(), url
    detail = admin_client.get(reverse("admin:pagos_payout_change", args=[fallido.id]))
    assert detail.status_code == 200 and "</a></a>" not in detail.content.decode()
