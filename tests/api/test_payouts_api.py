"""Payout cycles (/pagos/ciclos, /pagos/payouts, reintentar, the daily schedule and
`manage.py ejecutar_ciclo`) on PostgreSQL with the `simulada` gateway. Commands run on commit,
and so do the payouts they fan out to."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from alpespartners.celery import app
from alpespartners.messaging.models import CommandLog, OutboxMessage
from alpespartners.messaging.together import Origin
from alpespartners.seedwork.domain import DomainError, Monto
from pagos import bootstrap, commands, domain, handlers, tasks
from pagos.models import CicloPago, OperacionSimulada, Payout, Transaccion
from tests import events
from tests.api.test_clientes_api import assert_error
from tests.api.test_cobros_api import medio_pago_registrado
from tests.api.test_conversiones_api import campania, conversion, registrar, socio

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services", "eager_commands")]

WAIT = {"HTTP_PREFER": "wait=10"}
HOY = timezone.localdate


@pytest.fixture(autouse=True)
def minimos(settings):
    settings.PAGOS_MONTOS_MINIMOS = {"COP": Decimal("10.00")}


def socio_con_medio(id_campania, token: str | None) -> uuid.UUID:
    id_socio = socio(id_campania)
    if token:
        events.deliver("pagos", "eventos.cliente", medio_pago_registrado(id_socio, token))
    return id_socio


def ganar(api, id_campania, id_socio, venta: str, id_externo: str | None = None) -> dict:
    """A sale whose 5 % commission is payable at once (the campaign has no retention)."""
    answer = registrar(api, conversion(id_campania, id_socio, "VENTA", venta, id_externo=id_externo), **WAIT)
    assert answer.status_code == 201, answer.content
    return answer.json()


def decidir(conversion: commands.RegistrarConversion) -> None:
    """A single conversion decided by pagos' handler in the caller's thread and transaction."""
    [outcome] = handlers.registrar_conversiones_pendientes(
        [(conversion, Origin(uuid.uuid4(), uuid.uuid4()))], bootstrap.unit_of_work())
    assert outcome.error is None, outcome.error


def ciclo(api, fecha_corte=None, **headers):
    body = {"fecha_corte": str(fecha_corte)} if fecha_corte else {}
    return api.post("/api/v1/pagos/ciclos", body, format="json", **headers)


def payout_de(id_socio) -> dict:
    (payout,) = Payout.objects.filter(id_socio=id_socio).values("id")
    return payout


def events_of(type: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="eventos.pagos", type=type).order_by("id"))


def test_a_cycle_pays_each_partner_by_their_payment_method(api):
    # given three partners with payable commissions, each with a different card
    id_campania = campania("100000.00", dias_retencion=0)
    ok, rechazado, inestable = (socio_con_medio(id_campania, token) for token in ("tok_ok", "tok_rechazado", "tok_inestable"))
    for id_socio, ventas in ((ok, ("400.00", "200.50")), (rechazado, ("1000.00",)), (inestable, ("300.00",))):
        for venta in ventas:
            ganar(api, id_campania, id_socio, venta)

    # when today's cycle runs
    answer = ciclo(api, **WAIT)

    # then one payout per partner, sent through the gateway with the payout id as key
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["payouts"], body["transacciones"], body["totales"]) == (3, 4, [{"valor": "95.03", "moneda": "COP"}])
    assert body["payouts_por_estado"] == {"EXITOSO": 2, "FALLIDO": 1}
    pagado = api.get(f"/api/v1/pagos/payouts?id_socio={ok}").json()["results"][0]
    assert (pagado["estado"], pagado["monto_total"], pagado["transacciones"]) == ("EXITOSO", {"valor": "30.03", "moneda": "COP"}, 2)
    assert pagado["confirmacion"].startswith("sim_po_") and pagado["ciclo"] == body["id"]
    assert {t["estado"] for t in api.get(f"/api/v1/pagos/transacciones?id_socio={ok}").json()["results"]} == {"PAGADA"}
    fallido = api.get(f"/api/v1/pagos/payouts?id_socio={rechazado}").json()["results"][0]
    assert (fallido["estado"], fallido["motivo_fallo"]) == ("FALLIDO", "Fondos insuficientes.")
    # a failed payout releases its commissions for the next cycle
    (liberada,) = api.get(f"/api/v1/pagos/transacciones?id_socio={rechazado}").json()["results"]
    assert liberada["estado"] == "PAGABLE"
    recuperado = api.get(f"/api/v1/pagos/payouts?id_socio={inestable}").json()["results"][0]
    assert recuperado["estado"] == "EXITOSO"
    assert OperacionSimulada.objects.get(clave_idempotencia=f"payout:{recuperado['id']}").intentos == 3
    assert [len(events_of(type)) for type in ("PayoutCreado", "ComisionesCalculadas", "PayoutProcesado",
                                              "PayoutExitoso", "PayoutFallido")] == [3, 3, 3, 2, 1]
    (exitoso,) = [e for e in events_of("PayoutExitoso") if e.envelope["data"]["id_socio"] == str(ok)]
    assert exitoso.envelope["data"]["monto_total"] == {"valor": "30.03", "moneda": "COP"}


def test_the_same_cut_off_twice_is_one_cycle_and_pays_nothing_twice(api):
    id_campania = campania(dias_retencion=0)
    ganar(api, id_campania, socio_con_medio(id_campania, "tok_ok"), "400.00")
    first = ciclo(api, HOY(), **WAIT).json()
    second = ciclo(api, HOY(), **WAIT).json()
    assert first["id"] == second["id"] == str(domain.id_ciclo(HOY()))
    assert Payout.objects.count() == 1 and len(events_of("PayoutExitoso")) == 1
    assert CommandLog.objects.filter(type="EjecutarCiclo").latest("created_at").result == {"ciclo_nuevo": False,
                                                                                          "payouts": 0}


def test_running_a_cut_off_again_sends_its_payouts_whose_sending_was_lost(api):
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, id_socio, "400.00")
    calcular_y_perder_el_envio(HOY())
    assert Payout.objects.get(id_socio=id_socio).estado == "CALCULADO"

    again = ciclo(api, HOY(), **WAIT).json()

    assert again["id"] == str(domain.id_ciclo(HOY())) and Payout.objects.count() == 1
    assert Payout.objects.get(id_socio=id_socio).estado == "EXITOSO"
    assert len(events_of("PayoutExitoso")) == 1


def test_the_periodic_sweep_sends_payouts_left_unsent_for_minutes(api):
    # given the sweep as pagos' migration schedules it
    migration = import_module("pagos.migrations.0007_programa_reenvio_de_payouts")
    migration.crear(django_apps, None)
    barrido = PeriodicTask.objects.get(name=migration.NOMBRE)
    assert (barrido.task, barrido.interval.every, barrido.interval.period) == ("pagos.reenviar_payouts_sin_enviar",
                                                                              300, "seconds")
    assert barrido.task in app.tasks
    # and a payout whose fan-out was lost
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, id_socio, "400.00")
    calcular_y_perder_el_envio(HOY())

    # a fresh one is left alone (its fan-out may be on its way); one left for minutes is sent
    assert tasks.reenviar_payouts_sin_enviar.apply().result == 0
    Payout.objects.update(fecha_actualizacion=timezone.now() - timedelta(minutes=6))
    assert tasks.reenviar_payouts_sin_enviar.apply().result == 1
    assert Payout.objects.get(id_socio=id_socio).estado == "EXITOSO"
    assert tasks.reenviar_payouts_sin_enviar.apply().result == 0


def test_two_cycles_started_at_the_same_moment_pay_each_partner_once(user):
    # given 20 partners with payable commissions
    id_campania = campania("100000.00", dias_retencion=0)
    api = APIClient()
    api.force_authenticate(user)
    socios = [socio_con_medio(id_campania, "tok_ok") for _ in range(20)]
    for id_socio in socios:
        ganar(api, id_campania, id_socio, "400.00")
    barrier = threading.Barrier(4)

    def run(fecha_corte):
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait()
            ciclo(client, fecha_corte, **WAIT)
        finally:
            connection.close()

    # when two schedulers run today's cycle and two operators run tomorrow's, all at once
    cortes = [HOY(), HOY(), HOY() + timedelta(days=1), HOY() + timedelta(days=1)]
    threads = [threading.Thread(target=run, args=(corte,)) for corte in cortes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every partner has exactly one payout, each commission is in exactly one, all paid
    assert sorted(Payout.objects.values_list("id_socio", flat=True)) == sorted(socios)
    assert Transaccion.objects.filter(estado="PAGADA").count() == 20
    assert len(events_of("PayoutExitoso")) == 20
    assert CicloPago.objects.filter(payouts__gt=0).count() >= 1
    assert sum(CicloPago.objects.values_list("transacciones", flat=True)) == 20


def test_totals_under_the_minimum_and_suspended_partners_wait_for_a_later_cycle(api, settings):
    id_campania = campania("100000.00", dias_retencion=0)
    poco = socio_con_medio(id_campania, "tok_ok")
    suspendido = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, poco, "100.00")  # 5.00 < 10.00
    ganar(api, id_campania, suspendido, "400.00")
    events.deliver("pagos", "eventos.cliente", events.cliente_suspendido(suspendido))

    assert ciclo(api, HOY(), **WAIT).json()["payouts"] == 0
    assert api.get("/api/v1/pagos/transacciones?estado=PAGABLE").json()["count"] == 2

    # once the partner earns enough and the other is reactivated, the next cycle pays both in full
    ganar(api, id_campania, poco, "100.00")
    events.deliver("pagos", "eventos.cliente", events.envelope("ClienteReactivado", suspendido, {"motivo": "ok"}))
    body = ciclo(api, HOY() + timedelta(days=1), **WAIT).json()
    assert (body["payouts"], body["totales"]) == (2, [{"valor": "30.00", "moneda": "COP"}])


def test_a_refund_after_payment_is_netted_in_the_next_payout(api):
    # given a paid commission of 20.00
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, id_socio, "400.00", id_externo="pedido-1")
    ciclo(api, HOY(), **WAIT)
    assert Transaccion.objects.get().estado == "PAGADA"

    # when its sale is refunded
    body = {"id_campania": str(id_campania), "id_externo": "pedido-1", "motivo": "Devolución"}
    answer = api.post("/api/v1/pagos/conversiones/revertir", body, format="json", **WAIT)

    # then the commission stays paid and a -20.00 adjustment waits for the next payout
    assert answer.status_code == 200, answer.content
    (revertida,) = events_of("ComisionRevertida")
    assert revertida.envelope["data"]["ajuste"] == {"valor": "-20.00", "moneda": "COP"}
    (ajuste,) = api.get(f"/api/v1/pagos/transacciones?id_socio={id_socio}&estado=PAGABLE").json()["results"]
    assert (ajuste["tipo"], ajuste["comision"]) == ("AJUSTE", {"valor": "-20.00", "moneda": "COP"})
    assert_error(api.post("/api/v1/pagos/conversiones/revertir", body, format="json", **WAIT), 422)

    # and the next payout pays 35.00 of new commissions less the 20.00
    ganar(api, id_campania, id_socio, "700.00")
    nuevo = ciclo(api, HOY() + timedelta(days=1), **WAIT).json()
    assert (nuevo["payouts"], nuevo["transacciones"], nuevo["totales"]) == (1, 2, [{"valor": "15.00", "moneda": "COP"}])


def test_a_failed_payout_can_be_retried_once_the_partner_fixes_the_card(api):
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_rechazado")
    ganar(api, id_campania, id_socio, "400.00")
    ciclo(api, HOY(), **WAIT)
    id_payout = payout_de(id_socio)["id"]
    assert Payout.objects.get(id=id_payout).estado == "FALLIDO"

    events.deliver("pagos", "eventos.cliente", medio_pago_registrado(id_socio, "tok_ok"))
    answer = api.post(f"/api/v1/pagos/payouts/{id_payout}/reintentar", format="json", **WAIT)

    assert answer.status_code == 200, answer.content
    assert (answer.json()["estado"], answer.json()["intentos"]) == ("EXITOSO", 2)
    assert OperacionSimulada.objects.filter(clave_idempotencia=f"payout:{id_payout}:2").exists()
    assert Transaccion.objects.get().estado == "PAGADA"
    # a payout that is not FALLIDO cannot be retried
    error = assert_error(api.post(f"/api/v1/pagos/payouts/{id_payout}/reintentar", format="json", **WAIT), 422)
    assert error["message"] == "Solo un payout FALLIDO puede reintentarse; este está EXITOSO."


def test_a_retry_declined_again_reads_as_sent_again_and_the_payout_tells_the_outcome(api):
    """The rule: ReintentarPayout is COMPLETADO once the payout is sent again, with result
    {id_payout, estado: CALCULADO}; whether the gateway paid is the payout's to say."""
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_rechazado")
    ganar(api, id_campania, id_socio, "400.00")
    ciclo(api, HOY(), **WAIT)
    id_payout = payout_de(id_socio)["id"]

    answer = api.post(f"/api/v1/pagos/payouts/{id_payout}/reintentar", format="json", **WAIT)

    assert answer.status_code == 200, answer.content
    assert (answer.json()["estado"], answer.json()["intentos"]) == ("FALLIDO", 2)
    assert answer.json()["motivo_fallo"]
    command = api.get(f"/api/v1/comandos/{CommandLog.objects.get(type='ReintentarPayout').id}").json()
    assert (command["status"], command["result"]) == ("COMPLETADO", {"id_payout": str(id_payout), "estado": "CALCULADO"})
    assert Transaccion.objects.get().estado != "PAGADA"


def test_a_failed_payout_whose_commissions_went_to_a_later_cycle_cannot_be_retried(api):
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_rechazado")
    ganar(api, id_campania, id_socio, "400.00")
    ciclo(api, HOY(), **WAIT)
    fallido = payout_de(id_socio)["id"]
    events.deliver("pagos", "eventos.cliente", medio_pago_registrado(id_socio, "tok_ok"))
    ciclo(api, HOY() + timedelta(days=1), **WAIT)  # pays the released commission

    error = assert_error(api.post(f"/api/v1/pagos/payouts/{fallido}/reintentar", format="json", **WAIT), 422)
    assert "ciclo posterior" in error["message"]
    assert Payout.objects.get(id=fallido).estado == "FALLIDO"
    assert Transaccion.objects.get().estado == "PAGADA" and len(events_of("PayoutExitoso")) == 1


# --- between a cycle's calculation and its payouts' sending ---------------------------------
# A cycle writes no commission: each payout claims what it covers when it is first sent. Inside an
# outer atomic block the sending (an on_commit task) waits until the block commits, which holds
# the platform in that gap while the test acts.


def calcular(fecha_corte) -> None:
    handlers.ejecutar_ciclo(commands.EjecutarCiclo(fecha_corte=fecha_corte), bootstrap.unit_of_work())


def calcular_y_perder_el_envio(fecha_corte) -> None:
    """A cycle whose fan-out is lost after its commit: the broker never got it."""
    with transaction.atomic():
        pending = len(connection.run_on_commit)
        calcular(fecha_corte)
        del connection.run_on_commit[pending:]


def test_a_commission_registered_after_the_cycle_calculated_waits_for_the_next_cycle(api):
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, id_socio, "400.00")
    with transaction.atomic():
        calcular(HOY())
        # dated before the cut-off, but registered once the cycle had calculated
        tarde = commands.RegistrarConversion(id_externo="tarde", id_campania=id_campania, id_socio=id_socio,
                                             tipo="VENTA", monto=Monto(Decimal("600.00"), "COP"),
                                             ocurrida_en=timezone.now() - timedelta(minutes=5))
        decidir(tarde)

    (pagado,) = Payout.objects.filter(id_socio=id_socio)
    assert (pagado.estado, pagado.monto_total, pagado.transacciones) == ("EXITOSO", Decimal("20.00"), 1)
    assert OperacionSimulada.objects.get(clave_idempotencia=f"payout:{pagado.id}").valor == Decimal("20.00")
    assert Transaccion.objects.get(id_externo="tarde").estado == "PENDIENTE"  # payable, for the next cycle
    siguiente = ciclo(api, HOY() + timedelta(days=1), **WAIT).json()
    assert (siguiente["payouts"], siguiente["totales"]) == (1, [{"valor": "30.00", "moneda": "COP"}])


def test_a_commission_in_a_calculated_payout_is_refunded_only_after_its_answer(api, admin_client):
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, id_socio, "400.00", id_externo="pedido-1")
    refund = commands.RevertirConversion(id_campania=id_campania, id_externo="pedido-1", motivo="Devolución")
    with transaction.atomic():
        calcular(HOY())
        (calculado,) = Payout.objects.filter(id_socio=id_socio, estado="CALCULADO")
        # the payout lists the commission it covers before claiming it
        listed = api.get(f"/api/v1/pagos/transacciones?id_payout={calculado.id}").json()
        assert [row["id_externo"] for row in listed["results"]] == ["pedido-1"]
        page = admin_client.get(f"/admin/pagos/payout/{calculado.id}/change/").content.decode()
        assert "pedido-1" in page and "Las comisiones que cubre; las toma al enviarse." in page
        with pytest.raises(DomainError, match=f"está en el payout {calculado.id}, calculado y por enviarse"):
            handlers.revertir_conversion(refund, bootstrap.unit_of_work())
        assert not events_of("ComisionRevertida") and Transaccion.objects.get().estado == "PENDIENTE"

    # once paid, the refund is a negative adjustment for the next payout
    assert Transaccion.objects.get().estado == "PAGADA"
    handlers.revertir_conversion(refund, bootstrap.unit_of_work())
    assert Transaccion.objects.get(tipo="AJUSTE").comision == Decimal("-20.00")


def test_a_paid_commission_is_refunded_while_a_later_payout_of_the_partner_waits_to_be_sent(api):
    # given a paid commission, and the partner's next payout calculated but not sent yet
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, id_socio, "400.00", id_externo="pedido-1")
    ciclo(api, HOY(), **WAIT)
    ganar(api, id_campania, id_socio, "700.00", id_externo="pedido-2")
    refund = commands.RevertirConversion(id_campania=id_campania, id_externo="pedido-1", motivo="Devolución")
    with transaction.atomic():
        calcular(HOY() + timedelta(days=1))
        (calculado,) = Payout.objects.filter(id_socio=id_socio, estado="CALCULADO")

        # when the paid sale is refunded: that payout does not cover it
        handlers.revertir_conversion(refund, bootstrap.unit_of_work())

    # then it becomes a -20.00 adjustment for a later payout, and the calculated one pays its 35.00
    assert Transaccion.objects.get(tipo="AJUSTE").comision == Decimal("-20.00")
    calculado.refresh_from_db()
    assert (calculado.estado, calculado.monto_total) == ("EXITOSO", Decimal("35.00"))


def test_a_payout_whose_commissions_changed_before_sending_fails_unsent(api):
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_ok")
    ganar(api, id_campania, id_socio, "400.00")
    ganar(api, id_campania, id_socio, "200.00", id_externo="cambiada")
    with transaction.atomic():
        calcular(HOY())
        # a writer outside the rules of pagos reverts a covered commission
        Transaccion.objects.filter(id_externo="cambiada").update(estado="REVERTIDA")

    (payout,) = Payout.objects.filter(id_socio=id_socio)
    assert payout.estado == "FALLIDO" and payout.motivo_fallo.startswith("Sus comisiones cambiaron desde el cálculo")
    assert not OperacionSimulada.objects.exists() and not events_of("PayoutExitoso")
    assert Transaccion.objects.get(estado__in=["PAGABLE", "PENDIENTE"]).comision == Decimal("20.00")  # released


def test_a_failed_payout_is_not_retried_while_a_later_one_of_the_partner_is_in_flight(api):
    id_campania = campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(id_campania, "tok_rechazado")
    ganar(api, id_campania, id_socio, "400.00")
    ciclo(api, HOY(), **WAIT)
    (fallido,) = Payout.objects.filter(id_socio=id_socio)
    with transaction.atomic():
        calcular(HOY() + timedelta(days=1))  # covers the released commission
        (siguiente,) = Payout.objects.filter(id_socio=id_socio, estado="CALCULADO")
        with pytest.raises(DomainError, match=f"otro payout en curso \\({siguiente.id}\\)"):
            handlers.reintentar_payout(commands.ReintentarPayout(id_payout=fallido.id), bootstrap.unit_of_work())
        assert Payout.objects.get(id=fallido.id).estado == "FALLIDO"


def test_a_cycle_waits_for_a_commission_being_written_and_pays_it_with_the_later_ones(api):
    # given a partner in two campaigns, a commission registered long ago
    primera, segunda = campania("100000.00", dias_retencion=0), campania("100000.00", dias_retencion=0)
    id_socio = socio_con_medio(primera, "tok_ok")
    events.deliver("pagos", "eventos.campanias", events.envelope("SocioInscrito", segunda, {"id_socio": str(id_socio)}))
    ganar(api, primera, id_socio, "400.00")
    inserted, go, committed, calculated = (threading.Event() for _ in range(4))

    def venta(id_campania, id_externo):
        return commands.RegistrarConversion(id_externo=id_externo, id_campania=id_campania, id_socio=id_socio,
                                            tipo="VENTA", monto=Monto(Decimal("200.00"), "COP"),
                                            ocurrida_en=timezone.now() - timedelta(minutes=1))

    def slow_writer():  # a commission numbered first, committed last
        try:
            with transaction.atomic():
                decidir(venta(primera, "lenta"))
                inserted.set()
                go.wait(10)
            committed.set()
        finally:
            connection.close()

    def cycle():  # sends its payout only once the slow writer has committed
        try:
            with transaction.atomic():
                calcular(HOY())
                calculated.set()
                committed.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(10)
    decidir(venta(segunda, "rapida"))  # numbered after, committed
    calculator = threading.Thread(target=cycle)
    calculator.start()
    # when the cycle starts while the first commission is still being written
    waited = not calculated.wait(1)
    go.set()
    for thread in (writer, calculator):
        thread.join(20)

    # then the cycle waited for it, and its payout pays all three, as announced
    assert waited, "the cycle calculated while a commission was being written"
    (payout,) = Payout.objects.filter(id_socio=id_socio)
    assert (payout.estado, payout.transacciones, payout.monto_total) == ("EXITOSO", 3, Decimal("40.00"))
    assert set(Transaccion.objects.values_list("estado", flat=True)) == {"PAGADA"}


def test_the_daily_schedule_runs_at_two_in_bogota_and_issues_one_cycle_per_day():
    # given the schedule as pagos' migration creates it (the test database is flushed between tests)
    migration = import_module("pagos.migrations.0004_programa_ciclo_diario")
    migration.crear(django_apps, None)
    programa = PeriodicTask.objects.get(name=migration.NOMBRE)
    assert (programa.task, programa.crontab.hour, programa.crontab.minute) == ("pagos.ejecutar_ciclo_programado", "2", "0")
    assert str(programa.crontab.timezone) == "America/Bogota" and programa.enabled
    assert programa.task in app.tasks

    # and the scheduled task issues one command per day, however many times it fires
    first, second = tasks.ejecutar_ciclo_programado.apply().result, tasks.ejecutar_ciclo_programado.apply().result
    assert first == second
    assert CicloPago.objects.get().origen == "programador"


def test_ejecutar_ciclo_runs_a_cycle_from_the_console(api):
    id_campania = campania("100000.00", dias_retencion=0)
    ganar(api, id_campania, socio_con_medio(id_campania, "tok_ok"), "400.00")
    out = StringIO()
    call_command("ejecutar_ciclo", "--fecha-corte", str(HOY()), stdout=out, stderr=StringIO())
    assert f"(cut-off {HOY()}): 1 payouts, 1 transactions, 20.00 COP: EXITOSO 1" in out.getvalue()
    assert CicloPago.objects.get().origen == "consola"


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("post", "/api/v1/pagos/ciclos", {"fecha_corte": "mañana"}, 400),
    ("post", "/api/v1/pagos/ciclos", {"fecha_corte": "2026-02-30"}, 400),
    ("post", "/api/v1/pagos/ciclos", {"fecha_corte": "9999-12-31"}, 400),  # overflowed into error_interno
    ("post", "/api/v1/pagos/ciclos", {"fecha_corte": "0001-01-01"}, 400),  # made an empty cycle
    ("post", f"/api/v1/pagos/payouts/{uuid.uuid4()}/reintentar", {}, 404),
    ("get", "/api/v1/pagos/payouts?estado=PAGADO", None, 400),
    ("get", "/api/v1/pagos/payouts?id_socio=x", None, 400),
    ("get", f"/api/v1/pagos/payouts/{uuid.uuid4()}", None, 404),
    ("get", f"/api/v1/pagos/ciclos/{uuid.uuid4()}", None, 404),
])
def test_bad_input_on_cycles_and_payouts_is_an_error_shape_and_writes_nothing(api, method, path, body, status):
    answer = getattr(api, method)(path, body, format="json") if body is not None else getattr(api, method)(path)
    assert_error(answer, status)
    assert CommandLog.objects.count() == 0 and OutboxMessage.objects.count() == 0 and CicloPago.objects.count() == 0


def _por_la_api(api, fecha_corte):
    assert ciclo(api, fecha_corte, **WAIT).status_code == 200


def _por_la_consola(api, fecha_corte):
    call_command("ejecutar_ciclo", "--fecha-corte", str(fecha_corte), "--timeout", "30", stdout=StringIO())


def _por_el_topico_de_comandos(api, fecha_corte):
    envelope = events.envelope("EjecutarCiclo", uuid.uuid4(), {"fecha_corte": str(fecha_corte), "origen": "api"})
    assert events.deliver("pagos", "comandos.pagos", envelope) is True


@pytest.mark.parametrize("ejecutar", [_por_la_api, _por_la_consola, _por_el_topico_de_comandos])
def test_a_cut_off_in_the_future_never_pays_a_commission_still_in_retention(api, ejecutar):
    # given a commission earned today in a campaign with 30 days of retention, and one with none
    retenida = campania("100000.00", dias_retencion=30)
    socio_retenido = socio_con_medio(retenida, "tok_ok")
    ganar(api, retenida, socio_retenido, "400.00")
    libre = campania("100000.00", dias_retencion=0)
    socio_libre = socio_con_medio(libre, "tok_ok")
    ganar(api, libre, socio_libre, "400.00")

    # when a cycle runs today with a cut-off 40 days ahead, from any of its entry points
    ejecutar(api, HOY() + timedelta(days=40))

    # then only what is payable today is paid; the retained commission waits, unpaid
    assert Payout.objects.get(id_socio=socio_libre).estado == "EXITOSO"
    assert not Payout.objects.filter(id_socio=socio_retenido).exists()
    assert Transaccion.objects.get(id_socio=socio_retenido).estado == "PENDIENTE"
