"""Billable clicks and impressions become CLICK and IMPRESION commissions (pagos.facturar_interacciones)
on PostgreSQL: the campaign's fixed terms, its budget consumed exactly and its exhaustion announced
once, each row billed once whatever runs at the same time, and refusals recorded on the row."""

import io
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from pagos import bootstrap, commands, handlers, tasks
from pagos.models import Click, Transaccion
from tests.api.test_conversiones_api import campania, disponible, pagos_events, socio

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

SOLO_CLICKS = {"CLICK": {"tipo": "FIJA", "valor": "0.10"}}


def interacciones(id_campania, id_socio, tipos: str = "CLICK", n: int = 1, *, facturable: bool = True) -> list[uuid.UUID]:
    """Rows as the web process writes them, one millisecond apart in the order given (`tipos` repeats)."""
    inicio = timezone.now() - timedelta(minutes=10)
    filas = [Click(id=uuid.uuid4(), tipo=tipo, codigo="codigo", id_campania=id_campania, id_socio=id_socio,
                   ocurrido_en=inicio + timedelta(milliseconds=i), facturable=facturable,
                   motivo=None if facturable else "bot")
             for i, tipo in enumerate(tipos.split(",") * n)]
    Click.objects.bulk_create(filas)
    return [fila.id for fila in filas]


def marca(id_click) -> tuple:
    fila = Click.objects.get(id=id_click)
    return fila.facturado_en is not None, fila.id_transaccion, fila.rechazo


def test_billable_clicks_and_impressions_become_commissions_of_their_fixed_terms_and_consume_the_budget():
    id_campania = campania("1000.00")
    id_socio = socio(id_campania)
    billable = interacciones(id_campania, id_socio, "CLICK,IMPRESION", 3)
    [bot] = interacciones(id_campania, id_socio, facturable=False)

    assert tasks.facturar_interacciones() == 6

    filas = {fila.id_externo: fila for fila in Transaccion.objects.all()}
    assert sorted(filas) == sorted(str(id) for id in billable)
    assert sorted((fila.tipo, fila.comision) for fila in filas.values()) == (
        [("CLICK", Decimal("0.10"))] * 3 + [("IMPRESION", Decimal("0.01"))] * 3)
    assert {(fila.id_campania, fila.id_socio, fila.monto_conversion) for fila in filas.values()} == {
        (id_campania, id_socio, None)}
    assert disponible(id_campania) == Decimal("999.67")
    for id_click in billable:
        assert marca(id_click) == (True, filas[str(id_click)].id, None)
        assert filas[str(id_click)].ocurrida_en == Click.objects.get(id=id_click).ocurrido_en
    assert marca(bot) == (False, None, None)  # never billed
    assert len(pagos_events("ComisionRegistrada")) == 6 and pagos_events("PresupuestoAgotado") == []


def test_a_budget_running_out_mid_batch_bills_what_fits_and_records_why_the_rest_earned_nothing():
    # 0.25: two clicks (0.05 left), a third is too large while impressions still fit, five impressions
    # use the rest, and then nothing fits
    id_campania = campania("0.25")
    id_socio = socio(id_campania)
    ids = interacciones(id_campania, id_socio, "CLICK,CLICK,CLICK,IMPRESION,IMPRESION,IMPRESION,IMPRESION,"
                                               "IMPRESION,IMPRESION,CLICK")

    assert tasks.facturar_interacciones(limite=4) == 10  # three batches, the budget carried between them

    rechazos = [marca(id_click)[2] for id_click in ids]
    assert rechazos == [None, None, "presupuesto_insuficiente", None, None, None, None, None,
                        "presupuesto_agotado", "presupuesto_agotado"]
    assert [marca(id_click)[1] is not None for id_click in ids] == [rechazo is None for rechazo in rechazos]
    assert Transaccion.objects.count() == 7 and disponible(id_campania) == 0
    assert len(pagos_events("PresupuestoAgotado")) == 1

    # later clicks of the exhausted campaign: refused, the exhaustion not announced again
    [tarde] = interacciones(id_campania, id_socio)
    assert tasks.facturar_interacciones() == 1
    assert marca(tarde) == (True, None, "presupuesto_agotado")
    assert len(pagos_events("PresupuestoAgotado")) == 1 and Transaccion.objects.count() == 7


def test_running_billing_again_bills_nothing_twice_even_a_row_whose_mark_was_lost():
    id_campania = campania("1000.00")
    id_socio = socio(id_campania)
    ids = interacciones(id_campania, id_socio, n=5)
    assert tasks.facturar_interacciones() == 5
    assert tasks.facturar_interacciones() == 0
    antes = marca(ids[0])

    # a row seen as unbilled again (a restored backup, say) finds the commission it earned
    Click.objects.filter(id=ids[0]).update(facturado_en=None, id_transaccion=None)
    assert tasks.facturar_interacciones() == 1

    assert marca(ids[0])[1:] == antes[1:]
    assert Transaccion.objects.count() == 5 and disponible(id_campania) == Decimal("999.50")
    assert len(pagos_events("ComisionRegistrada")) == 5


@pytest.mark.django_db(transaction=True)  # the other connection sees the rows
def test_a_row_another_run_holds_is_skipped_not_waited_for_nor_billed_twice():
    id_campania = campania("1000.00")
    id_socio = socio(id_campania)
    ids = interacciones(id_campania, id_socio, n=3)
    tomado, soltar, hecho = threading.Event(), threading.Event(), []

    def otra_corrida():
        # another connection holds the oldest row, as a run in the middle of its batch does
        try:
            with transaction.atomic():
                list(Click.objects.select_for_update().filter(id=ids[0]))
                tomado.set()
                soltar.wait(10)
        finally:
            connection.close()

    hilo = threading.Thread(target=otra_corrida)
    hilo.start()
    try:
        assert tomado.wait(10)
        hecho.append(handlers.facturar_interacciones(commands.FacturarInteracciones(limite=10), bootstrap.unit_of_work()))
    finally:
        soltar.set()
        hilo.join()
    assert hecho == [2]
    assert [marca(id_click)[0] for id_click in ids] == [False, True, True]


@pytest.mark.django_db(transaction=True)
def test_three_runs_at_once_bill_1000_clicks_each_once_against_a_budget_for_600():
    id_campania = campania("60.00", comisiones=SOLO_CLICKS)
    id_socio = socio(id_campania)
    ids = interacciones(id_campania, id_socio, n=1000)
    errores, facturadas = [], []

    def corrida():
        try:
            facturadas.append(tasks.facturar_interacciones(limite=50, segundos=60))
        except Exception as error:  # pragma: no cover - reported below
            errores.append(error)
        finally:
            connection.close()

    hilos = [threading.Thread(target=corrida) for _ in range(3)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert errores == [] and sum(facturadas) == 1000  # no row counted by two runs
    assert Click.objects.filter(id__in=ids, facturado_en__isnull=True).count() == 0
    assert Transaccion.objects.filter(id_campania=id_campania).count() == 600
    assert Click.objects.filter(id__in=ids, id_transaccion__isnull=False).count() == 600
    assert Click.objects.filter(id__in=ids, rechazo="presupuesto_agotado").count() == 400
    assert disponible(id_campania) == 0
    assert len(pagos_events("ComisionRegistrada")) == 600 and len(pagos_events("PresupuestoAgotado")) == 1


def test_a_click_of_a_campaign_paused_by_billing_time_is_refused_with_its_reason_and_nothing_else_written():
    id_campania = campania("1000.00", estados=("CampaniaAprobada", "CampaniaPausada"))
    id_socio = socio(id_campania)
    [id_click] = interacciones(id_campania, id_socio)  # billable when clicked, paused since

    assert tasks.facturar_interacciones() == 1

    assert marca(id_click) == (True, None, "campania_no_aprobada")
    assert Transaccion.objects.count() == 0 and disponible(id_campania) == Decimal("1000.00")
    assert pagos_events() == []


def test_billing_is_scheduled_every_five_seconds():
    tarea = PeriodicTask.objects.get(task="pagos.facturar_interacciones")
    assert (tarea.interval.every, tarea.interval.period, tarea.enabled) == (5, "seconds", True)


def test_an_operator_bills_everything_waiting_now_from_the_console():
    id_campania = campania("1000.00")
    interacciones(id_campania, socio(id_campania), "CLICK", 7)
    out = io.StringIO()

    call_command("facturar_interacciones", stdout=out)

    assert out.getvalue().strip() == "7 clicks and impressions billed"
    assert Transaccion.objects.count() == 7 and disponible(id_campania) == Decimal("999.30")
