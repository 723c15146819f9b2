"""The back office: the admin's home shows what an operator checks first; failed commands are
re-driven from the admin, through the command log, recording who did it."""

import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from alpespartners import backoffice
from alpespartners.messaging import command_log, dead_letters, outbox
from alpespartners.messaging.models import CommandLog, CommandStatus, DeadLetter, OutboxMessage
from cliente.commands import ReactivarCliente, SuspenderCliente
from cliente.models import ClienteView
from tests import factories
from webhooks import models as webhooks_models
from tests.api.test_admin import registrar_cliente

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services")]


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</t", start)]


def chart_texts(html: str, titulo: str) -> dict[str, list[str]]:
    """What the chart labelled `titulo` writes, by kind: its dates (eje-x), its scale (eje-y), the values
    over its bars (valor) and "sin datos"."""
    svg = re.search(rf'<svg[^>]*aria-label="{re.escape(titulo)}".*?</svg>', html, re.S).group(0)
    texts: dict[str, list[str]] = {}
    for kind, text in re.findall(r'<text class="([^"]+)"[^>]*>([^<]*)</text>', svg):
        texts.setdefault(kind, []).append(text)
    return texts


def test_the_admin_home_shows_the_operator_s_numbers(admin_client):
    cache.clear()  # the commissions' numbers are cached for a minute
    # given two unpublished events, a failed command, a dead letter, payouts and today's commissions
    envelope = {"id": str(uuid.uuid4()), "type": "ClienteRegistrado", "version": 1, "aggregate_id": str(uuid.uuid4())}
    outbox.add("eventos.cliente", [envelope, {**envelope, "id": str(uuid.uuid4())}])
    entry, _ = command_log.submit("cliente", ReactivarCliente(id_cliente=uuid.uuid4()))
    command_log.fail(entry.id, {"code": "no_encontrado", "message": "No existe el cliente.", "field": None})
    dead_letters.record("pagos", "persistent://public/default/eventos.cliente", "(1,2,-1,-1)", b"{roto",
                        {"type": "ClienteRegistrado"})
    factories.PayoutFactory.create_batch(2, monto_total=Decimal("12500.50"), estado="PAGADO")
    factories.TransaccionFactory.create_batch(3, id_campania=uuid.uuid4(), id_socio=uuid.uuid4(),
                                              comision=Decimal("1000"), ocurrida_en=timezone.now())

    # when staff opens the admin
    html = admin_client.get(reverse("admin:index")).content.decode()

    # then
    assert ">2</a>" in section(html, "outbox-pendientes")
    assert ">1 en 24 h</a>" in section(html, "comandos-fallidos")
    assert ">1</a>" in section(html, "mensajes-muertos")
    assert re.search(r'<td>PAGADO</td><td><a href="[^"]+">2</a></td><td style="text-align: right;">25\xa0001,00 COP</td>', html)
    assert re.search(r'<td>PAGABLE</td><td><a href="[^"]+">3</a></td><td style="text-align: right;">3\xa0000,00 COP</td>', html)
    assert "Conversiones por día · últimos 30 días · total 3" in html
    assert "Comisiones por día (COP) · últimos 30 días · total 3\xa0000,00 COP" in html
    assert f"{timezone.localdate():%Y-%m-%d}: 3</title>" in html
    # and each chart reads without hovering: the first and last day under it, its scale, today's value
    hoy = timezone.localdate()
    conversiones = chart_texts(html, "Conversiones por día")
    assert conversiones["eje-x"][0] == f"{hoy - timedelta(days=29):%d/%m}" and conversiones["eje-x"][-1] == f"{hoy:%d/%m}"
    assert conversiones["eje-y"] == ["0", "3"] and conversiones["valor"] == ["3"]
    comisiones = chart_texts(html, "Comisiones por día (COP)")
    assert comisiones["eje-x"] == conversiones["eje-x"]
    assert comisiones["eje-y"] == ["0,00 COP", "3\xa0000,00 COP"] and comisiones["valor"] == ["3\xa0000,00 COP"]


def test_a_chart_without_data_still_draws_its_axes_and_says_so(admin_client):
    cache.clear()

    html = admin_client.get(reverse("admin:index")).content.decode()

    conversiones = chart_texts(html, "Conversiones por día")
    assert conversiones["eje-x"][-1] == f"{timezone.localdate():%d/%m}" and conversiones["eje-y"] == ["0"]
    assert conversiones["sin-datos"] == ["sin datos"] and "valor" not in conversiones


def test_a_chart_groups_thousands_and_writes_only_the_values_it_has_room_for():
    dias = backoffice.dias_del_grafico()
    grafico = backoffice.barras("Clics por día", {dia: 15_500 if indice % 2 else 1_000 for indice, dia in enumerate(dias)})

    assert grafico["total"] == "247\xa0500" and [marca["texto"] for marca in grafico["escala"]] == ["0", "15\xa0500"]
    # "15 500" is wider than a bar: written over every other day's (the peaks, today's first), not over the
    # 1 000s between them, which it would cross
    assert [etiqueta["texto"] for etiqueta in grafico["etiquetas"]] == ["15\xa0500"] * 15
    assert grafico["etiquetas"][0]["x"] == grafico["barras"][-1]["centro"]
    spans = sorted((etiqueta["x"] - ancho / 2, etiqueta["x"] + ancho / 2) for etiqueta in grafico["etiquetas"]
                   for ancho in [backoffice.ancho_de_texto(etiqueta["texto"], backoffice.CHART_VALUE_FONT)])
    assert all(anterior[1] <= siguiente[0] for anterior, siguiente in zip(spans, spans[1:]))
    assert spans[0][0] >= grafico["izquierda"] and spans[-1][1] <= grafico["ancho"]


def listed_rows(admin_client, url: str) -> int:
    """How many rows the admin list at `url` shows (its result count)."""
    html = admin_client.get(url.replace("&amp;", "&")).content.decode()
    assert 'id="changelist"' in html, url
    return len(re.findall(r'<tr[^>]*>\s*<td class="action-checkbox">', html))


def what_needs_attention():
    """Two failed payouts (and a paid one), three commissions, a failed command, a dead letter and a
    disabled webhook endpoint: the home's "Requiere atención" counts 2, 1, 1, 1. Returns a failed payout,
    with its story: its partner (whose card works now), its three commissions released by its failure,
    the gateway's refusal."""
    cache.clear()  # the home's commission numbers are cached for a minute
    fallido, _ = factories.PayoutFactory.create_batch(2, monto_total=Decimal("12500.50"), estado="FALLIDO",
                                                      intentos=1, transacciones=3, motivo_fallo="Fondos insuficientes.")
    factories.PayoutFactory(monto_total=Decimal("700"), moneda="USD", estado="PAGADO")
    factories.ClienteLocalFactory(id=fallido.id_socio, nombre="Ana Pérez", token_predeterminado="tok_ok",
                                  mascara="**** 4242")
    id_campania = uuid.uuid4()
    for comision in ("4000", "4000", "4500.50"):
        factories.TransaccionFactory(id_campania=id_campania, id_socio=fallido.id_socio, id_payout=fallido.id,
                                     comision=Decimal(comision))
    factories.IntentoPayoutFactory(id_payout=fallido.id)
    entry, _ = command_log.submit("cliente", ReactivarCliente(id_cliente=uuid.uuid4()))
    command_log.fail(entry.id, {"code": "no_encontrado", "message": "No existe el cliente.", "field": None})
    dead_letters.record("pagos", "persistent://public/default/eventos.cliente", "(1,2,-1,-1)", b"{roto",
                        {"type": "ClienteRegistrado"})
    tienda = webhooks_models.ClienteLocal.objects.create(id=uuid.uuid4(), nombre="Tienda Sur S.A.S.")
    factories.EndpointFactory(id_cliente=tienda.id, activo=False, deshabilitado_en=timezone.now(),
                              motivo_deshabilitado="50 intentos fallidos")
    return fallido


def test_every_count_on_the_home_equals_the_rows_of_the_list_it_links_to(admin_client):
    what_needs_attention()

    html = admin_client.get(reverse("admin:index")).content.decode()

    # then the disabled endpoint reads by its client's name, from webhooks' own copy
    assert re.search(r'de <a href="/admin/cliente/clienteview/[0-9a-f-]+/change/">Tienda Sur S\.A\.S\.</a>', html)
    # and the panel that needs attention comes first, and each count is what its link lists
    assert html.index('id="atencion"') < html.index('id="payouts"')
    enlaces = re.findall(r'<a href="([^"]+)">(\d+)</a>', html[html.index('id="atencion"'):html.index("</table>",
                                                                                                 html.index('id="atencion"'))])
    assert [int(count) for _, count in enlaces] == [2, 1, 1, 1]
    enlaces += re.findall(r'<td><a href="([^"]+)">(\d+)</a></td><td style="text-align: right;">', html)
    assert len(enlaces) == 4 + 2 + 1  # payouts by state and currency, commissions by state
    for url, count in enlaces:
        assert listed_rows(admin_client, url) == int(count), url


def test_billed_clicks_add_to_the_home_s_commissions_not_to_its_conversions(admin_client):
    cache.clear()
    venta = dict(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), ocurrida_en=timezone.now())
    factories.TransaccionFactory(comision=Decimal("1000"), **venta)
    factories.TransaccionFactory.create_batch(2, tipo="CLICK", comision=Decimal("0.10"), **venta)

    html = admin_client.get(reverse("admin:index")).content.decode()

    assert "Conversiones por día · últimos 30 días · total 1" in html
    assert "Comisiones por día (COP) · últimos 30 días · total 1\xa0000,20 COP" in html


def test_a_failed_command_is_redriven_from_the_admin_by_whoever_did_it(admin_client, admin_user, eager_commands):
    # given a reactivation refused because the client was active, and the client suspended since
    id_cliente = registrar_cliente()
    refused, _ = command_log.submit("cliente", ReactivarCliente(id_cliente=id_cliente, motivo="pago al día"))
    refused.refresh_from_db()
    assert refused.status == CommandStatus.FALLIDO
    command_log.submit("cliente", SuspenderCliente(id_cliente=id_cliente, motivo="mora"))
    assert ClienteView.objects.get(id=id_cliente).estado == "SUSPENDIDO"

    # when staff re-drives the failed command
    response = admin_client.post(reverse("admin:messaging_commandlog_changelist"),
                                 {"action": "redrive", "_selected_action": [str(refused.id)]}, follow=True)

    # then a new command, issued by that user, pointing at the first, ran and reactivated the client
    assert response.status_code == 200
    redriven = CommandLog.objects.get(redrive_of=refused)
    assert (redriven.status, redriven.source, redriven.issued_by) == (CommandStatus.COMPLETADO, "admin", admin_user)
    assert (redriven.payload, redriven.correlation_id) == (refused.payload, refused.correlation_id)
    assert ClienteView.objects.get(id=id_cliente).estado == "ACTIVO"
    refused.refresh_from_db()
    assert refused.status == CommandStatus.FALLIDO  # its history stays
    # and the log shows who issued it, and links one to the other
    listing = admin_client.get(reverse("admin:messaging_commandlog_changelist") + "?source__exact=admin").content.decode()
    assert admin_user.username in listing
    detail = admin_client.get(reverse("admin:messaging_commandlog_change", args=[refused.id])).content.decode()
    assert str(redriven.id) in detail


def test_a_completed_command_is_not_redriven(admin_client, eager_commands):
    registrar_cliente()
    done = CommandLog.objects.get()
    admin_client.post(reverse("admin:messaging_commandlog_changelist"),
                      {"action": "redrive", "_selected_action": [str(done.id)]})
    assert CommandLog.objects.count() == 1


def test_an_unreadable_dead_letter_can_be_discarded_not_redriven(admin_client, admin_user):
    dead_letters.record("cliente", "persistent://public/default/comandos.cliente", "(9,9,-1,-1)", b'{"id": "x", "type":',
                        {"type": "RegistrarCliente"})
    dead = DeadLetter.objects.get()
    page = admin_client.get(reverse("admin:messaging_deadletter_change", args=[dead.id])).content.decode()
    assert "{&quot;id&quot;: &quot;x&quot;, &quot;type&quot;:" in page  # shown as received, escaped

    admin_client.post(reverse("admin:messaging_deadletter_changelist"),
                      {"action": "redrive", "_selected_action": [str(dead.id)]})
    dead.refresh_from_db()
    assert dead.status == "PENDIENTE" and OutboxMessage.objects.count() == 0

    admin_client.post(reverse("admin:messaging_deadletter_changelist"),
                      {"action": "discard", "_selected_action": [str(dead.id)]})
    dead.refresh_from_db()
    assert (dead.status, dead.resolved_by) == ("DESCARTADO", admin_user)


def test_redriving_a_dead_letter_whose_outbox_row_was_purged_writes_it_anew(admin_client):
    envelope = {"id": str(uuid.uuid4()), "type": "ClienteRegistrado", "version": 1, "aggregate_id": str(uuid.uuid4()),
                "correlation_id": str(uuid.uuid4()), "data": {}}
    dead_letters.record("pagos", "persistent://public/default/eventos.cliente", "(3,4,-1,-1)",
                        json.dumps(envelope).encode(), {"type": "ClienteRegistrado", "event_id": envelope["id"]})
    assert not dead_letters.record("pagos", "persistent://public/default/eventos.cliente", "(3,4,-1,-1)",
                                   json.dumps(envelope).encode(), {})  # the DLQ redelivered it: recorded once
    admin_client.post(reverse("admin:messaging_deadletter_changelist"),
                      {"action": "redrive", "_selected_action": [str(DeadLetter.objects.get().id)]})
    row = OutboxMessage.objects.get(event_id=envelope["id"])
    assert (row.topic, row.envelope, row.published_at) == ("eventos.cliente", envelope, None)
    assert DeadLetter.objects.get().status == "REENVIADO"


def test_a_command_whose_task_was_lost_is_enqueued_again_and_runs_once(admin_client, eager_commands):
    # given a command logged whose task never reached a worker (written as submit writes it, without the task)
    id_cliente = registrar_cliente()
    lost = CommandLog.objects.create(context="cliente", type="SuspenderCliente", source="api", resource_id=id_cliente,
                                     payload={"id_cliente": str(id_cliente), "motivo": "mora"})

    # when staff re-drives it twice
    for _ in range(2):
        admin_client.post(reverse("admin:messaging_commandlog_changelist"),
                          {"action": "redrive", "_selected_action": [str(lost.id)]})

    # then it ran once, as itself: no new command, the client suspended, one event
    lost.refresh_from_db()
    assert lost.status == CommandStatus.COMPLETADO and not CommandLog.objects.filter(redrive_of=lost).exists()
    assert ClienteView.objects.get(id=id_cliente).estado == "SUSPENDIDO"
    assert OutboxMessage.objects.filter(aggregate_id=id_cliente, type="ClienteSuspendido").count() == 1
