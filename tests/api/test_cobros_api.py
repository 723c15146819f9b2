"""The /pagos/cobros rows of the REST contract and the CobrarCampania / RevertirPago commands,
on PostgreSQL. Commands run on commit; cliente's events and campanias' commands arrive through
the real consumer path. The gateway is the `simulada` adapter, whose own table tells how many
times it was called; the only fake wraps it, at the gateway edge."""

import logging
import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from alpespartners.messaging import outbox
from alpespartners.messaging.models import CommandLog, InboxMessage, OutboxMessage
from pagos import domain, pasarela
from pagos.models import ClienteLocal, CobroView, OperacionSimulada, PagoModel
from tests import events
from tests.api.test_clientes_api import assert_error
from tests.factories import CampaniaBody, ClienteEmpresaBody

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services", "eager_commands")]

WAIT = {"HTTP_PREFER": "wait=5"}
PRESUPUESTO = {"valor": "5000000.00", "moneda": "COP"}


# --- givens: cliente's events and campanias' commands, as they arrive -----------------


def medio_pago_registrado(id_cliente, token: str, predeterminado: bool = True) -> dict:
    return events.envelope("MedioPagoRegistrado", id_cliente, {
        "id_medio_pago": str(uuid.uuid4()), "tipo": "TARJETA", "token": token, "mascara": "**** 4242",
        "predeterminado": predeterminado,
    })


def deliver_cliente(message: dict) -> bool:
    return events.deliver("pagos", "eventos.cliente", message)


def marca(token: str | None = "tok_ok") -> uuid.UUID:
    """A brand pagos has heard of, with `token` as its default payment method (None: no method)."""
    id_cliente = uuid.uuid4()
    deliver_cliente(events.cliente_registrado(id_cliente))
    if token:
        deliver_cliente(medio_pago_registrado(id_cliente, token))
    return id_cliente


def cobrar(id_cliente, id_campania=None, monto=None) -> CommandLog:
    """campanias' saga sends CobrarCampania on comandos.pagos; the envelope id is the command id."""
    id_campania = id_campania or uuid.uuid4()
    command_id = uuid.uuid4()
    message = events.envelope("CobrarCampania", id_campania, {
        "id_campania": str(id_campania), "id_cliente": str(id_cliente), "monto": monto or PRESUPUESTO,
    }, event_id=command_id)
    assert events.deliver("pagos", "comandos.pagos", message) is True
    return CommandLog.objects.get(id=command_id)


def pagos_events() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="eventos.pagos").order_by("id"))


def gateway_attempts(clave: str) -> int:
    operacion = OperacionSimulada.objects.filter(clave_idempotencia=clave).first()
    return operacion.intentos if operacion else 0


def revertir(api, id_pago, body=None, **headers):
    return api.post(f"/api/v1/pagos/cobros/{id_pago}/revertir", body if body is not None else {"motivo": "campaña cancelada"},
                    format="json", **headers)


# --- charging a campaign --------------------------------------------------------------


def test_a_brand_with_a_good_card_is_charged_and_pago_confirmado_goes_out(api):
    # given a brand whose default card pays
    id_cliente = marca("tok_ok")

    # when campanias asks for its campaign's charge
    command = cobrar(id_cliente)

    # then the command completed with the pago as its resource, charged once, with one event
    assert command.status == "COMPLETADO" and command.source == "comandos"
    id_campania = command.payload["id_campania"]
    assert command.resource_id == domain.id_pago(uuid.UUID(id_campania))
    cobro = api.get(f"/api/v1/pagos/cobros/{command.resource_id}").json()
    assert cobro == {"id": str(command.resource_id), "id_campania": id_campania, "id_cliente": str(id_cliente),
                     "monto": PRESUPUESTO, "estado": "CONFIRMADO", "motivo": None}
    (event,) = pagos_events()
    assert (event.type, event.version, str(event.aggregate_id)) == ("PagoConfirmado", 1, str(command.resource_id))
    data = event.envelope["data"]
    assert set(data) == {"id_campania", "id_cliente", "monto", "confirmacion"}
    assert (data["id_campania"], data["monto"]) == (id_campania, PRESUPUESTO)
    assert data["confirmacion"] == PagoModel.objects.get().confirmacion and data["confirmacion"].startswith("sim_ch_")
    assert event.envelope["causation_id"] == str(command.id)  # the event says which command caused it
    assert gateway_attempts(f"cobro:{id_campania}") == 1


def test_a_declined_card_rejects_the_charge_with_the_reason(api):
    command = cobrar(marca("tok_rechazado"))
    assert command.status == "COMPLETADO"  # an answer for the saga, not a failed command
    cobro = api.get(f"/api/v1/pagos/cobros/{command.resource_id}").json()
    assert (cobro["estado"], cobro["motivo"]) == ("RECHAZADO", "Fondos insuficientes.")
    (event,) = pagos_events()
    assert event.type == "PagoRechazado" and event.envelope["data"]["motivo"] == "Fondos insuficientes."
    assert event.envelope["data"]["monto"] == PRESUPUESTO


def test_a_flaky_gateway_is_retried_and_confirms_on_the_third_attempt(api):
    # given a card whose gateway fails twice with a transient error
    command = cobrar(marca("tok_inestable"))

    # then the task retried with the same key: three gateway attempts, one charge, one event
    assert command.status == "COMPLETADO" and command.attempts == 3
    assert gateway_attempts(f"cobro:{command.payload['id_campania']}") == 3
    assert OperacionSimulada.objects.count() == 1
    assert api.get(f"/api/v1/pagos/cobros/{command.resource_id}").json()["estado"] == "CONFIRMADO"
    assert [event.type for event in pagos_events()] == ["PagoConfirmado"]


def marca_que_no_puede_pagar(caso: str) -> uuid.UUID:
    if caso == "desconocida":
        return uuid.uuid4()
    if caso == "suspendida":
        id_cliente = marca("tok_ok")
        deliver_cliente(events.cliente_suspendido(id_cliente))
        return id_cliente
    id_cliente = marca(token=None)
    if caso == "solo_medio_no_predeterminado":
        deliver_cliente(medio_pago_registrado(id_cliente, "tok_ok", predeterminado=False))
    return id_cliente


@pytest.mark.parametrize(("caso", "motivo"), [
    ("sin_medio_de_pago", "La marca no tiene un medio de pago predeterminado."),
    ("solo_medio_no_predeterminado", "La marca no tiene un medio de pago predeterminado."),
    ("desconocida", "no está registrada."),
    ("suspendida", "La marca está suspendida."),
])
def test_a_brand_that_cannot_pay_gets_a_rejected_charge_without_calling_the_gateway(api, settings, caso, motivo):
    # given a brand without a default method, unknown to pagos, or suspended (nothing about it on its way)
    id_cliente = marca_que_no_puede_pagar(caso)

    # when its campaign is charged
    command = cobrar(id_cliente)

    # then the charge is RECHAZADO with the reason, the saga hears it, and no money was asked for
    assert command.status == "COMPLETADO"
    cobro = api.get(f"/api/v1/pagos/cobros/{command.resource_id}").json()
    assert cobro["estado"] == "RECHAZADO" and motivo in cobro["motivo"]
    assert [event.type for event in pagos_events()] == ["PagoRechazado"]
    assert OperacionSimulada.objects.count() == 0


def test_a_charge_sent_after_the_brand_s_events_waits_until_pagos_has_applied_them(api, settings):
    # given a brand registered with a card: its events committed (in the outbox) but still on their
    # way to pagos, on another topic than the charge
    id_cliente = uuid.uuid4()
    registro, tarjeta = events.cliente_registrado(id_cliente), medio_pago_registrado(id_cliente, "tok_ok")
    outbox.add("eventos.cliente", [registro, tarjeta])

    def late_events():
        try:
            threading.Event().wait(0.5)
            deliver_cliente(registro)
            deliver_cliente(tarjeta)
        finally:
            connection.close()

    arriving = threading.Thread(target=late_events)
    arriving.start()

    # when the charge command is handled first
    command = cobrar(id_cliente)
    arriving.join()

    # then it was decided only once they arrived: the brand charged once, not refused as unknown
    assert command.status == "COMPLETADO" and command.attempts == 1
    assert (command.completed_at - command.created_at).total_seconds() >= 0.5
    assert api.get(f"/api/v1/pagos/cobros/{command.resource_id}").json()["estado"] == "CONFIRMADO"
    assert [event.type for event in pagos_events()] == ["PagoConfirmado"]
    assert OperacionSimulada.objects.count() == 1


def test_a_charge_whose_brand_events_never_arrive_fails_as_a_pending_dependency(api, settings):
    # given a brand whose registration is committed but never reaches pagos, and a short bound
    settings.COMMAND_DEPENDENCY_TIMEOUT_SECONDS = 1
    id_cliente = uuid.uuid4()
    outbox.add("eventos.cliente", [events.cliente_registrado(id_cliente)])

    # when its campaign is charged
    command = cobrar(id_cliente)

    # then the command fails with its own code after the bound, having charged nothing and said nothing
    assert command.status == "FALLIDO" and command.error["code"] == "dependencia_pendiente"
    assert str(id_cliente) in command.error["message"]
    assert PagoModel.objects.count() == 0 and pagos_events() == [] and OperacionSimulada.objects.count() == 0


def test_a_second_request_for_the_same_campaign_charges_once(api):
    # given a campaign already charged
    id_cliente, id_campania = marca("tok_ok"), uuid.uuid4()
    first = cobrar(id_cliente, id_campania)

    # when campanias asks again (another command id)
    second = cobrar(id_cliente, id_campania)

    # then the second completes with the same pago: one row, one gateway call, one event
    assert second.status == "COMPLETADO" and second.resource_id == first.resource_id
    assert PagoModel.objects.count() == 1 and CobroView.objects.count() == 1
    assert gateway_attempts(f"cobro:{id_campania}") == 1
    assert [event.type for event in pagos_events()] == ["PagoConfirmado"]


class PasarelaConBarrera(pasarela.PasarelaSimulada):
    """The simulated gateway, holding each charge until both racing commands have called it."""

    barrera = threading.Barrier(2, timeout=15)

    def cobrar(self, clave_idempotencia, token, monto):
        confirmacion = super().cobrar(clave_idempotencia, token, monto)
        self.barrera.wait()
        return confirmacion


def test_two_concurrent_requests_for_one_campaign_make_one_charge_and_one_event(monkeypatch, settings, caplog):
    # given two CobrarCampania for one campaign, both past the "already charged?" check at once
    caplog.set_level(logging.INFO, logger="pagos.handlers")
    monkeypatch.setitem(pasarela.PASARELAS, "con_barrera", PasarelaConBarrera)
    settings.PASARELA_PAGOS = "con_barrera"
    id_cliente, id_campania = marca("tok_ok"), uuid.uuid4()
    commands = []

    def request():
        try:
            commands.append(cobrar(id_cliente, id_campania))
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # then the gateway key made it one charge, the unique campaign made it one pago and one event
    assert [command.status for command in commands] == ["COMPLETADO", "COMPLETADO"]
    assert {command.resource_id for command in commands} == {domain.id_pago(id_campania)}
    assert PagoModel.objects.count() == 1 and CobroView.objects.count() == 1
    (operacion,) = OperacionSimulada.objects.all()
    assert operacion.intentos == 2 and operacion.confirmacion == PagoModel.objects.get().confirmacion
    assert [event.type for event in pagos_events()] == ["PagoConfirmado"]
    assert "charged by a concurrent command" in caplog.text  # the insert race, not the early check, decided


def test_a_malformed_amount_fails_the_command_and_writes_nothing():
    command = cobrar(marca("tok_ok"), monto={"valor": "10.001", "moneda": "COP"})
    assert command.status == "FALLIDO"
    assert command.error["message"] == "El monto tiene más decimales de los que admite COP (2)."
    assert PagoModel.objects.count() == 0 and pagos_events() == [] and OperacionSimulada.objects.count() == 0


# --- reverting ------------------------------------------------------------------------------


def test_reverting_a_confirmed_charge_refunds_it_and_pago_revertido_goes_out(api):
    # given a confirmed charge
    id_pago = cobrar(marca("tok_ok")).resource_id

    # when a user reverts it
    answer = revertir(api, id_pago, {"motivo": "La marca desistió."}, **WAIT)

    # then it is REVERTIDO, refunded once, and PagoRevertido goes out with the reason
    assert answer.status_code == 200, answer.content
    assert (answer.json()["estado"], answer.json()["motivo"]) == ("REVERTIDO", "La marca desistió.")
    assert answer["Location"].endswith(f"/api/v1/pagos/cobros/{id_pago}")
    assert [event.type for event in pagos_events()] == ["PagoConfirmado", "PagoRevertido"]
    revertido = pagos_events()[1].envelope
    assert revertido["aggregate_id"] == str(id_pago) and revertido["data"]["motivo"] == "La marca desistió."
    assert revertido["data"]["monto"] == PRESUPUESTO
    pago = PagoModel.objects.get()
    assert (pago.estado, pago.version) == ("REVERTIDO", 2) and pago.confirmacion_reembolso.startswith("sim_re_")
    assert gateway_attempts(f"reembolso:{id_pago}") == 1


def test_reverting_answers_202_with_the_command_and_campanias_can_revert_through_comandos(api):
    # the API path without waiting
    id_pago = cobrar(marca("tok_ok")).resource_id
    answer = revertir(api, id_pago)
    assert answer.status_code == 202
    assert answer.json()["resource_id"] == str(id_pago)
    assert answer.json()["links"]["resource"].endswith(reverse("pago-cobro-detalle", args=[id_pago]))
    assert api.get(f"/api/v1/comandos/{answer.json()['command_id']}").json()["status"] == "COMPLETADO"

    # the saga's path: RevertirPago on comandos.pagos for another confirmed charge
    other = cobrar(marca("tok_ok")).resource_id
    command_id = uuid.uuid4()
    events.deliver("pagos", "comandos.pagos", events.envelope(
        "RevertirPago", other, {"id_pago": str(other), "motivo": "La campaña se canceló."}, event_id=command_id))
    assert CommandLog.objects.get(id=command_id).status == "COMPLETADO"
    assert CobroView.objects.get(id=other).estado == "REVERTIDO"


def test_a_flaky_gateway_refund_is_retried_with_the_same_key(api):
    id_pago = cobrar(marca("tok_inestable")).resource_id
    answer = revertir(api, id_pago, **WAIT)
    assert answer.status_code == 200 and answer.json()["estado"] == "REVERTIDO"
    assert gateway_attempts(f"reembolso:{id_pago}") == 3
    assert [event.type for event in pagos_events()] == ["PagoConfirmado", "PagoRevertido"]


def test_reverting_a_rejected_charge_fails_the_command_and_writes_nothing(api):
    # given a rejected charge
    id_pago = cobrar(marca("tok_rechazado")).resource_id
    outbox_before = OutboxMessage.objects.count()

    # when a user tries to revert it
    answer = revertir(api, id_pago)

    # then the command is FALLIDO with the rule's message: no refund, no event, no change
    assert answer.status_code == 202
    command = api.get(f"/api/v1/comandos/{answer.json()['command_id']}").json()
    assert command["status"] == "FALLIDO"
    assert command["error"]["message"] == "Solo un cobro CONFIRMADO puede revertirse; este está RECHAZADO."
    assert OutboxMessage.objects.count() == outbox_before
    assert [event.type for event in pagos_events()] == ["PagoRechazado"]
    assert not OperacionSimulada.objects.filter(tipo="REEMBOLSO").exists()
    assert (PagoModel.objects.get().estado, PagoModel.objects.get().version) == ("RECHAZADO", 1)
    # with Prefer: wait the refusal is a 422 in the error shape
    refused = assert_error(revertir(api, id_pago, **WAIT), 422)
    assert "este está RECHAZADO" in refused["message"]


def test_reverting_twice_refunds_once(api):
    id_pago = cobrar(marca("tok_ok")).resource_id
    revertir(api, id_pago, **WAIT)
    assert "este está REVERTIDO" in assert_error(revertir(api, id_pago, **WAIT), 422)["message"]
    assert gateway_attempts(f"reembolso:{id_pago}") == 1
    assert [event.type for event in pagos_events()] == ["PagoConfirmado", "PagoRevertido"]


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"motivo": ""}, {"motivo": "   "}, {"motivo": "x" * 501}, {"motivo": None}])
def test_a_revert_without_a_valid_motivo_is_a_400_that_writes_nothing(api, body):
    id_pago = cobrar(marca("tok_ok")).resource_id
    commands_before, outbox_before = CommandLog.objects.count(), OutboxMessage.objects.count()
    error = assert_error(revertir(api, id_pago, body), 400, "datos_invalidos")
    assert "motivo" in error["details"]
    assert (CommandLog.objects.count(), OutboxMessage.objects.count()) == (commands_before, outbox_before)
    assert CobroView.objects.get().estado == "CONFIRMADO"


def test_unknown_ids_and_bad_filters_are_errors_in_the_shape_and_write_nothing(api):
    unknown = uuid.uuid4()
    assert_error(api.get(f"/api/v1/pagos/cobros/{unknown}"), 404, "no_encontrado")
    assert_error(revertir(api, unknown), 404, "no_encontrado")
    assert_error(api.get("/api/v1/pagos/cobros/no-es-uuid"), 404, "no_encontrado")
    error = assert_error(api.get("/api/v1/pagos/cobros", {"id_campania": "no-es-uuid", "estado": "PAGADO"}), 400,
                         "datos_invalidos")
    assert set(error["details"]) == {"id_campania", "estado"}
    assert CommandLog.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_the_list_is_paginated_and_filters_by_campaign_brand_and_state(api):
    id_cliente = marca("tok_ok")
    confirmado = cobrar(id_cliente)
    cobrar(marca("tok_rechazado"))
    page = api.get("/api/v1/pagos/cobros").json()
    assert set(page) == {"count", "next", "previous", "results"} and page["count"] == 2
    by_campaign = api.get("/api/v1/pagos/cobros", {"id_campania": confirmado.payload["id_campania"]}).json()
    assert [item["id"] for item in by_campaign["results"]] == [str(confirmado.resource_id)]
    assert api.get("/api/v1/pagos/cobros", {"id_cliente": str(id_cliente)}).json()["count"] == 1
    assert api.get("/api/v1/pagos/cobros", {"estado": "RECHAZADO"}).json()["count"] == 1


# --- the local copy of brands (eventos.cliente) ----------------------------------------------


def test_the_same_cliente_event_delivered_twice_has_one_effect():
    # given a brand whose first card was replaced by a new default
    id_cliente = marca(token=None)
    primero = medio_pago_registrado(id_cliente, "tok_rechazado")
    assert deliver_cliente(primero) is True
    deliver_cliente(medio_pago_registrado(id_cliente, "tok_ok"))

    # when the first card's event is delivered again
    assert deliver_cliente(primero) is False

    # then it was skipped: the newer default stays
    assert ClienteLocal.objects.get(id=id_cliente).token_predeterminado == "tok_ok"
    assert InboxMessage.objects.filter(event_id=primero["id"], consumer="pagos").count() == 1


def test_a_non_default_method_never_replaces_the_default_and_states_follow_the_events():
    id_cliente = marca("tok_ok")
    deliver_cliente(medio_pago_registrado(id_cliente, "tok_rechazado", predeterminado=False))
    assert ClienteLocal.objects.get(id=id_cliente).token_predeterminado == "tok_ok"
    deliver_cliente(events.cliente_suspendido(id_cliente))
    assert ClienteLocal.objects.get(id=id_cliente).estado == "SUSPENDIDO"
    deliver_cliente(events.envelope("ClienteReactivado", id_cliente, {"motivo": "aclarado"}))
    assert ClienteLocal.objects.get(id=id_cliente).estado == "ACTIVO"
    assert cobrar(id_cliente).resource_id and CobroView.objects.get().estado == "CONFIRMADO"


def test_events_arriving_before_the_registration_still_count():
    # given a payment method and a suspension that overtook the client's registration
    id_cliente = uuid.uuid4()
    deliver_cliente(medio_pago_registrado(id_cliente, "tok_ok"))
    deliver_cliente(events.cliente_suspendido(id_cliente))

    # when the registration arrives, then the suspension is not undone
    deliver_cliente(events.cliente_registrado(id_cliente))
    local = ClienteLocal.objects.get(id=id_cliente)
    assert (local.estado, local.token_predeterminado) == ("SUSPENDIDO", "tok_ok")


def test_the_copy_keeps_the_clients_latest_name_and_its_default_methods_mask():
    # given a brand renamed twice, its registration redelivered after the renames
    id_cliente = uuid.uuid4()
    registro = events.cliente_registrado(id_cliente, nombre="Marca S.A.S.")
    deliver_cliente(events.envelope("ClienteActualizado", id_cliente, {"nombre": "Marca Uno", "email": "a@correo.co"}))
    deliver_cliente(events.envelope("ClienteActualizado", id_cliente, {"nombre": "Marca Dos", "email": "a@correo.co"}))
    deliver_cliente(registro)  # arrived last: the name it carries is older than the renames

    # and a default card, then a card that is not the default
    deliver_cliente(medio_pago_registrado(id_cliente, "tok_ok"))
    otra = medio_pago_registrado(id_cliente, "tok_rechazado", predeterminado=False)
    otra["data"]["mascara"] = "**** 1111"
    deliver_cliente(otra)

    local = ClienteLocal.objects.get(id=id_cliente)
    assert (local.nombre, local.token_predeterminado, local.mascara) == ("Marca Dos", "tok_ok", "**** 4242")


# --- across contexts and in the admin ------------------------------------------------------


def test_the_approval_saga_end_to_end_in_process(api, settings):
    # given the embedded transport: committed outbox rows go straight to the local consumers
    settings.PULSAR_URL = ""
    id_marca = api.post("/api/v1/clientes", ClienteEmpresaBody(), format="json").json()["resource_id"]
    api.post(f"/api/v1/clientes/{id_marca}/medios-pago",
             {"tipo": "TARJETA", "token": "tok_ok", "mascara": "**** 4242"}, format="json")

    # when the brand creates a campaign
    id_campania = api.post("/api/v1/campanias", CampaniaBody(id_cliente=id_marca), format="json").json()["resource_id"]

    # then pagos charged it and campanias approved it
    cobro = api.get("/api/v1/pagos/cobros", {"id_campania": id_campania}).json()["results"]
    assert [(item["estado"], item["monto"]) for item in cobro] == [("CONFIRMADO", {"valor": "1000000.00", "moneda": "COP"})]
    assert api.get(f"/api/v1/campanias/{id_campania}").json()["estado"] == "APROBADA"

    # and reverting the charge cancels the campaign as compensation
    revertir(api, cobro[0]["id"], {"motivo": "Contracargo del banco."})
    assert api.get(f"/api/v1/pagos/cobros/{cobro[0]['id']}").json()["estado"] == "REVERTIDO"
    assert api.get(f"/api/v1/campanias/{id_campania}").json()["estado"] == "CANCELADA"


def test_the_admin_lists_charges_read_only_with_filters_and_search(admin_client):
    command = cobrar(marca("tok_ok"))
    changelist = reverse("admin:pagos_cobroview_changelist")
    for query in ({}, {"estado": "CONFIRMADO"}, {"moneda": "COP"}, {"q": command.payload["id_campania"][:8]}):
        answer = admin_client.get(changelist, query)
        assert answer.status_code == 200
        assert answer.context["cl"].result_count == 1, query
    assert admin_client.get(changelist, {"q": str(uuid.uuid4())}).context["cl"].result_count == 0
    assert admin_client.get(reverse("admin:pagos_cobroview_change", args=[command.resource_id])).status_code == 200
    assert admin_client.get(reverse("admin:pagos_cobroview_add")).status_code == 403
