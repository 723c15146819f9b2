"""The pagos back office: commissions in the state the API shows, payouts with their
transactions, cycles with their totals, and reintentar issued through the command log."""

import csv
import html
import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import formats, timezone

from alpespartners.messaging.models import CommandLog, CommandStatus
from pagos import exports
from pagos.models import CicloPago, Click, Payout, Transaccion
from tests import events
from tests.api.test_cobros_api import medio_pago_registrado
from tests.api.test_conversiones_api import campania, conversion, registrar
from tests.api.test_payouts_api import WAIT, ciclo, ganar, payout_de, socio_con_medio
from tests.api.test_payouts_api import minimos  # noqa: F401 (autouse: a COP minimum these amounts clear)
from tests.api.test_exports_api import leer
from tests.factories import ClickFactory, PayoutFactory, TransaccionFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services", "eager_commands")]


@pytest.fixture
def payouts(api) -> dict:
    """Today's cycle has paid one partner 30.03 COP (two commissions), failed the other's 50.00 COP
    and paid a third 10.00 USD."""
    id_campania, en_dolares = campania("100000.00", dias_retencion=0), campania(moneda="USD", dias_retencion=0)
    pagado, fallido = socio_con_medio(id_campania, "tok_ok"), socio_con_medio(id_campania, "tok_rechazado")
    ganar(api, id_campania, pagado, "400.00", id_externo="pedido-1")
    ganar(api, id_campania, pagado, "200.50", id_externo="pedido-2")
    ganar(api, id_campania, fallido, "1000.00", id_externo="pedido-3")
    venta = conversion(en_dolares, socio_con_medio(en_dolares, "tok_ok"), "VENTA", "200.00", moneda="USD")
    assert registrar(api, venta, **WAIT).status_code == 201
    ciclo(api, **WAIT)
    return {"pagado": payout_de(pagado)["id"], "fallido": payout_de(fallido)["id"], "socio_fallido": fallido}


def page(admin_client, url: str) -> str:
    response = admin_client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def run_reintentar(client, id_payout) -> list[tuple[str, str]]:
    response = client.post(reverse("admin:pagos_payout_changelist"),
                           {"action": "reintentar", "_selected_action": [str(id_payout)], "index": 0}, follow=True)
    assert response.status_code == 200
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def test_a_commission_past_its_retention_is_listed_and_filtered_as_pagable(admin_client, api):
    # given a commission of 20.00 COP stored PENDIENTE whose retention (none) has passed
    id_campania = campania("100000.00", dias_retencion=0)
    ganar(api, id_campania, socio_con_medio(id_campania, "tok_ok"), "400.00", id_externo="pedido-1")
    transaccion = Transaccion.objects.get()
    assert transaccion.estado == "PENDIENTE"

    # when staff lists the commissions by the state the API shows, then it is PAGABLE
    changelist = reverse("admin:pagos_transaccion_changelist")
    listed = page(admin_client, changelist + "?estado=PAGABLE")
    assert "pedido-1" in listed and "20,00 COP" in listed
    assert "pedido-1" not in page(admin_client, changelist + "?estado=PENDIENTE")
    detail = page(admin_client, reverse("admin:pagos_transaccion_change", args=[transaccion.id]))
    assert "PAGABLE" in detail and "400,00 COP" in detail and "20,00 COP" in detail


def test_payouts_are_listed_filtered_and_shown_with_their_transactions(admin_client, payouts):
    changelist = reverse("admin:pagos_payout_changelist")
    listed = page(admin_client, changelist)
    assert "30,03 COP" in listed and "50,00 COP" in listed and 'value="reintentar"' in listed
    fallidos = page(admin_client, changelist + "?estado__exact=FALLIDO")
    assert "50,00 COP" in fallidos and "30,03 COP" not in fallidos

    detail = page(admin_client, reverse("admin:pagos_payout_change", args=[payouts["pagado"]]))
    assert "<td>pedido-1</td><td>VENTA</td><td>20,00 COP</td><td>PAGADA</td>" in detail
    assert "<td>pedido-2</td><td>VENTA</td><td>10,03 COP</td><td>PAGADA</td>" in detail
    assert f'{reverse("admin:pagos_transaccion_changelist")}?id_payout={payouts["pagado"]}' in detail
    # its commands: the cycle's calculation (and retries, none here), found from its page
    [comandos] = re.findall(r'href="([^"]+)">Ver el cálculo de su ciclo y sus reintentos', detail)
    listed_commands = page(admin_client, html.unescape(comandos))
    assert re.findall(r'<td class="field-type">(\w+)</td>', listed_commands) == ["EjecutarCiclo"]

    # the transactions link back to their payout, and a failed payout's are released
    transacciones = page(admin_client, reverse("admin:pagos_transaccion_changelist") + f"?id_payout={payouts['fallido']}")
    hoy = formats.localize(timezone.localdate())
    assert f'<a href="{reverse("admin:pagos_payout_change", args=[payouts["fallido"]])}">del corte {hoy}</a>' in transacciones
    assert "pedido-3" in transacciones and "pedido-1" not in transacciones


def test_a_failed_payout_tells_its_story_and_is_retried_from_its_page(admin_client, admin_user, payouts):
    url = reverse("admin:pagos_payout_change", args=[payouts["fallido"]])
    detail = page(admin_client, url)
    # the partner by name, linked to its page in cliente; the UUID only among the technical details
    assert "<title>Payout de 50,00 COP a Socia (FALLIDO)" in detail
    assert f'<a href="{reverse("admin:cliente_clienteview_change", args=[payouts["socio_fallido"]])}">Socia</a>' in detail
    # the timeline: calculated, sent to the card's mask, declined with the gateway's code and message
    pasos = timeline(detail)
    assert [que for _, que, _ in pasos] == ["Calculado", "Intento 1: enviado a la pasarela",
                                           "Intento 1: rechazado por la pasarela"]
    assert pasos[1][2] == "al medio de pago **** 4242"
    assert pasos[2][2] == "fondos_insuficientes: Fondos insuficientes."
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d UTC-0500", cuando) for cuando, _, _ in pasos)
    assert 'id="reintentar-payout"' in detail
    assert 'id="reintentar-payout"' not in page(admin_client, reverse("admin:pagos_payout_change",
                                                                      args=[payouts["pagado"]]))

    # when the partner fixes the card and staff presses "Reintentar" on the page
    events.deliver("pagos", "eventos.cliente", medio_pago_registrado(payouts["socio_fallido"], "tok_ok"))
    response = admin_client.post(reverse("admin:pagos_payout_reintentar", args=[payouts["fallido"]]), follow=True)

    # then one ReintentarPayout went through the command log, and the page tells the rest of the story
    assert response.redirect_chain == [(url, 302)]
    (entry,) = CommandLog.objects.filter(type="ReintentarPayout")
    assert (entry.source, entry.issued_by, entry.status) == ("admin", admin_user, CommandStatus.COMPLETADO)
    pasos = timeline(response.content.decode())
    assert [que for _, que, _ in pasos][3:] == ["Reintento pedido", "Intento 2: enviado a la pasarela",
                                               "Intento 2: pagado"]
    assert pasos[3][2] == "por admin (admin): COMPLETADO"
    assert re.fullmatch(r"confirmación sim_po_\w+", pasos[5][2])
    assert 'id="reintentar-payout"' not in response.content.decode()


def test_the_reintentar_button_needs_the_permission_and_a_post(client, admin_client, django_user_model, payouts):
    viewer = django_user_model.objects.create_user("lectora", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_payout"))
    client.force_login(viewer)
    boton = reverse("admin:pagos_payout_reintentar", args=[payouts["fallido"]])

    assert 'id="reintentar-payout"' not in page(client, reverse("admin:pagos_payout_change", args=[payouts["fallido"]]))
    assert client.post(boton).status_code == 403
    assert admin_client.get(boton).status_code == 403  # a link followed by mistake issues nothing
    assert not CommandLog.objects.filter(type="ReintentarPayout").exists()
    assert Payout.objects.get(id=payouts["fallido"]).estado == "FALLIDO"


def timeline(detail: str) -> list[tuple[str, str, str]]:
    """(cuándo, qué, detalle) rows of a payout page's timeline, as text."""
    [tabla] = re.findall(r'<table class="linea-de-tiempo">(.*?)</table>', detail, re.S)
    return [tuple(html.unescape(re.sub(r"<[^>]+>", "", celda)).strip() for celda in fila)
            for fila in re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", tabla, re.S)]


def test_lists_name_partners_and_campaigns_from_pagos_own_copies_in_a_bounded_number_of_queries(
        admin_client, payouts, django_assert_max_num_queries):
    # given a commission of a partner and a campaign pagos has no copy of (their events never arrived)
    desconocida = TransaccionFactory(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), id_externo="huerfana")
    ficha = reverse("admin:cliente_clienteview_change", args=[payouts["socio_fallido"]])
    transacciones = reverse("admin:pagos_transaccion_changelist")

    # then the list reads names, each linked to its own context's page, and ids where there is no name
    with django_assert_max_num_queries(12):  # whatever the rows: one subquery per name column
        listed = page(admin_client, transacciones)
    assert f'<a href="{ficha}">Socia</a>' in listed and ">Campaña</a>" in listed
    assert f'>{desconocida.id_socio}</a>' in listed and f">{desconocida.id_campania}</a>" in listed
    payouts_listed = page(admin_client, reverse("admin:pagos_payout_changelist"))
    assert f'<a href="{ficha}">Socia</a>' in payouts_listed and f'>{payouts["socio_fallido"]}<' not in payouts_listed
    assert "</a></a>" not in listed + payouts_listed  # a name's link is never inside the row's link


def test_a_cycle_shows_its_totals_per_currency_and_its_payouts_by_state(admin_client, api, payouts):
    ciclo_pagado = CicloPago.objects.get().id
    assert "80,03 COP, 10,00 USD" in page(admin_client, reverse("admin:pagos_ciclopago_changelist"))

    detail = page(admin_client, reverse("admin:pagos_ciclopago_change", args=[ciclo_pagado]))
    payouts_del_ciclo = f"{reverse('admin:pagos_payout_changelist')}?id_ciclo={ciclo_pagado}"
    assert f'<a href="{payouts_del_ciclo}&amp;estado__exact=EXITOSO">EXITOSO: 2</a>' in detail
    assert f'<a href="{payouts_del_ciclo}&amp;estado__exact=FALLIDO">FALLIDO: 1</a>' in detail
    assert "50,00 COP" in page(admin_client, payouts_del_ciclo + "&estado__exact=FALLIDO")


def test_reintentar_issues_the_command_and_the_payout_is_paid_once_the_partner_fixes_the_card(
        admin_client, admin_user, payouts):
    # given the partner of the failed payout registered a card that works
    events.deliver("pagos", "eventos.cliente", medio_pago_registrado(payouts["socio_fallido"], "tok_ok"))

    # when staff retries the failed payout
    messages = run_reintentar(admin_client, payouts["fallido"])

    # then one ReintentarPayout went through the command log, and the payout is paid
    assert "registro de comandos" in " ".join(text for _, text in messages)
    (entry,) = CommandLog.objects.filter(type="ReintentarPayout")
    assert (entry.source, entry.issued_by, entry.status) == ("admin", admin_user, CommandStatus.COMPLETADO)
    payout = Payout.objects.get(id=payouts["fallido"])
    assert (payout.estado, payout.intentos) == ("EXITOSO", 2)


def test_reintentar_skips_a_payout_that_is_not_fallido_with_a_warning(admin_client, payouts):
    messages = run_reintentar(admin_client, payouts["pagado"])

    assert messages == [("warning", "Se omitió 1 payout que no está FALLIDO: solo un payout FALLIDO puede reintentarse.")]
    assert not CommandLog.objects.filter(type="ReintentarPayout").exists()
    assert Payout.objects.get(id=payouts["pagado"]).intentos == 1


def test_a_user_without_change_permission_cannot_reintentar(client, django_user_model, payouts):
    viewer = django_user_model.objects.create_user("lector", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_payout"))
    client.force_login(viewer)

    assert 'value="reintentar"' not in page(client, reverse("admin:pagos_payout_changelist"))
    client.post(reverse("admin:pagos_payout_changelist"),
                {"action": "reintentar", "_selected_action": [str(payouts["fallido"])], "index": 0})
    assert not CommandLog.objects.filter(type="ReintentarPayout").exists()
    assert Payout.objects.get(id=payouts["fallido"]).estado == "FALLIDO"


@pytest.mark.parametrize("model", ["transaccion", "payout", "ciclopago", "campanialocal"])
def test_pagos_admin_shows_every_row_and_is_read_only(admin_client, payouts, model):
    changelist = page(admin_client, reverse(f"admin:pagos_{model}_changelist"))
    assert 'value="delete_selected"' not in changelist and reverse(f"admin:pagos_{model}_add") not in changelist
    row = apps.get_model("pagos", model).objects.first()
    detail = page(admin_client, reverse(f"admin:pagos_{model}_change", args=[row.pk]))
    assert reverse(f"admin:pagos_{model}_delete", args=[row.pk]) not in detail
    assert admin_client.get(reverse(f"admin:pagos_{model}_add")).status_code == 403
    assert admin_client.post(reverse(f"admin:pagos_{model}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403


def test_clicks_are_listed_with_why_they_are_not_billable_and_their_commission(admin_client):
    comision = TransaccionFactory(tipo="CLICK", id_campania=uuid.uuid4(), id_socio=uuid.uuid4())
    facturado = ClickFactory(id_campania=comision.id_campania, id_socio=comision.id_socio, id_transaccion=comision.id)
    bot = ClickFactory(facturable=False, motivo="bot", user_agent="Googlebot/2.1")

    todos = page(admin_client, reverse("admin:pagos_click_changelist"))
    bots = page(admin_client, reverse("admin:pagos_click_changelist") + "?motivo=bot")

    assert str(facturado.id) in todos and reverse("admin:pagos_transaccion_change", args=[comision.id]) in todos
    assert str(bot.id) in bots and str(facturado.id) not in bots
    assert admin_client.get(reverse("admin:pagos_click_add")).status_code == 403
    assert Click.objects.count() == 2


def exportar(admin_client, changelist: str, seleccion, todas: bool = False) -> list[dict]:
    response = admin_client.post(changelist, {"action": "exportar_csv", "_selected_action": [str(id) for id in seleccion],
                                              "select_across": "1" if todas else "0", "index": 0})
    assert response.status_code == 200 and response.streaming, response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_exportar_a_csv_streams_the_selected_commissions_or_the_filtered_list_as_the_api_does(admin_client, api):
    # given a commission past its retention (PAGABLE by the clock), one still held and one paid
    pagable = TransaccionFactory(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), estado="PENDIENTE",
                                 comision=Decimal("20.5"), pagable_desde=timezone.now() - timedelta(hours=1))
    retenida = TransaccionFactory(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), estado="PENDIENTE",
                                  pagable_desde=timezone.now() + timedelta(days=1))
    TransaccionFactory(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), estado="PAGADA")
    changelist = reverse("admin:pagos_transaccion_changelist")

    # when staff exports the two selected, then those two rows, with the API export's columns and values
    filas = exportar(admin_client, changelist, [pagable.id, retenida.id])
    assert list(filas[0]) == list(exports.TRANSACCIONES.encabezados)
    assert {fila["id"]: (fila["estado"], fila["comision_valor"]) for fila in filas} == {
        str(pagable.id): ("PAGABLE", "20.50"), str(retenida.id): ("PENDIENTE", "10000.00")}
    with_api = {fila["id"]: fila for fila in leer(api.get("/api/v1/pagos/transacciones.csv"))}
    assert all(with_api[fila["id"]] == fila for fila in filas)

    # and "all N" of a changelist filtered by the state the API shows is every row of that filter
    otra = TransaccionFactory(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), estado="PAGABLE")
    filas = exportar(admin_client, changelist + "?estado=PAGABLE", [pagable.id], todas=True)  # one on the page ticked
    assert {fila["id"] for fila in filas} == {str(pagable.id), str(otra.id)}


def test_exportar_a_csv_streams_the_selected_payouts(admin_client):
    elegido = PayoutFactory(monto_total=Decimal("1500"), moneda="CLP", estado="PAGADO")
    PayoutFactory()

    [fila] = exportar(admin_client, reverse("admin:pagos_payout_changelist"), [elegido.id])

    assert list(fila) == list(exports.PAYOUTS.encabezados)
    assert (fila["id"], fila["monto_total_valor"], fila["monto_total_moneda"]) == (str(elegido.id), "1500", "CLP")

