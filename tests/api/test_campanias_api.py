"""The /campanias rows of the REST contract and the approval saga's reactions, on PostgreSQL.
Commands run on commit; events of cliente and pagos arrive through the real consumer path."""

import uuid
from datetime import date, timedelta
from importlib import import_module

import pytest
from django.core.management import call_command
from django.utils import timezone

from alpespartners.messaging.models import CommandLog, OutboxMessage
from campanias import bootstrap, handlers
from campanias.domain import SocioInscrito
from campanias.models import CampaniaView, EventoCampania, SagaAprobacionModel
from tests import events
from tests.api.test_clientes_api import assert_error
from tests.factories import CampaniaBody

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services", "eager_commands")]

WAIT = {"HTTP_PREFER": "wait=5"}


def socio():
    id_socio = uuid.uuid4()
    events.deliver("campanias", "eventos.cliente", events.cliente_registrado(id_socio, tipo="NATURAL", nombre="Socia"))
    return id_socio


def crear(api, marca, **fields):
    return api.post("/api/v1/campanias", CampaniaBody(id_cliente=str(marca), **fields), format="json", **WAIT)


def aprobada(api, marca) -> str:
    id_campania = crear(api, marca).json()["id"]
    events.deliver("campanias", "eventos.pagos", events.pago("PagoConfirmado", id_campania))
    return id_campania


def outbox_types(topic: str) -> list[str]:
    return list(OutboxMessage.objects.filter(topic=topic).order_by("id").values_list("type", flat=True))


def test_a_new_campaign_is_pending_and_asks_pagos_for_its_charge(api, marca):
    answer = crear(api, marca, comisiones={"VENTA": {"tipo": "PORCENTAJE", "valor": "7.5"}})
    assert answer.status_code == 201, answer.content
    campania = answer.json()
    assert campania["estado"] == "PENDIENTE" and campania["version"] == 1
    assert campania["presupuesto"] == {"valor": "1000000.00", "moneda": "COP"} == campania["presupuesto_disponible"]
    assert campania["comisiones"]["VENTA"] == {"tipo": "PORCENTAJE", "valor": "7.5"}
    assert campania["comisiones"]["CLICK"] == {"tipo": "FIJA", "valor": "0.10"}  # defaults fill the rest
    assert campania["dias_retencion"] == 30 and campania["socios"] == []
    # one commit: the event in the store, the integration event and the charge command in the outbox, the saga
    assert EventoCampania.objects.get().type == "CampaniaCreada"
    assert outbox_types("eventos.campanias") == ["CampaniaCreada"]
    cobro = OutboxMessage.objects.get(topic="comandos.pagos")
    assert cobro.type == "CobrarCampania"
    assert cobro.envelope["data"] == {"id_campania": campania["id"], "id_cliente": str(marca),
                                      "monto": {"valor": "1000000.00", "moneda": "COP"}}
    assert SagaAprobacionModel.objects.get().estado == "ESPERANDO_COBRO"


def test_confirmed_charge_approves_and_a_duplicate_delivery_has_one_effect(api, marca):
    id_campania = crear(api, marca).json()["id"]
    confirmado = events.pago("PagoConfirmado", id_campania)
    assert events.deliver("campanias", "eventos.pagos", confirmado) is True
    assert events.deliver("campanias", "eventos.pagos", confirmado) is False
    campania = api.get(f"/api/v1/campanias/{id_campania}").json()
    assert campania["estado"] == "APROBADA" and campania["version"] == 2
    assert outbox_types("eventos.campanias") == ["CampaniaCreada", "CampaniaAprobada"]
    saga = SagaAprobacionModel.objects.get()
    assert saga.estado == "APROBADA" and str(saga.id_pago) == confirmado["aggregate_id"]
    assert [paso["estado"] for paso in saga.pasos] == ["ESPERANDO_COBRO", "APROBADA"]


def test_declined_charge_cancels_with_the_reason(api, marca):
    id_campania = crear(api, marca).json()["id"]
    events.deliver("campanias", "eventos.pagos", events.pago("PagoRechazado", id_campania, motivo="Fondos insuficientes"))
    campania = api.get(f"/api/v1/campanias/{id_campania}").json()
    assert campania["estado"] == "CANCELADA" and campania["motivo"] == "Cobro rechazado: Fondos insuficientes"


def test_a_reverted_charge_cancels_an_approved_campaign(api, marca):
    id_campania = aprobada(api, marca)
    events.deliver("campanias", "eventos.pagos", events.pago("PagoRevertido", id_campania, motivo="contracargo"))
    campania = api.get(f"/api/v1/campanias/{id_campania}").json()
    assert campania["estado"] == "CANCELADA" and campania["motivo"] == "Cobro revertido: contracargo"
    assert SagaAprobacionModel.objects.get().estado == "COMPENSADA"


def test_timeout_cancels_and_a_late_confirmation_asks_for_a_refund(api, marca, settings):
    id_campania = crear(api, marca).json()["id"]
    assert handlers.vencer_sagas(timezone.now(), bootstrap.unit_of_work) == 0  # not due yet
    later = timezone.now() + timedelta(seconds=settings.CAMPANIAS_SAGA_TIMEOUT_SECONDS + 1)
    assert handlers.vencer_sagas(later, bootstrap.unit_of_work) == 1
    assert handlers.vencer_sagas(later, bootstrap.unit_of_work) == 0  # already cancelled
    assert CampaniaView.objects.get().estado == "CANCELADA"
    confirmado = events.pago("PagoConfirmado", id_campania)
    events.deliver("campanias", "eventos.pagos", confirmado)
    reembolso = OutboxMessage.objects.get(topic="comandos.pagos", type="RevertirPago")
    assert reembolso.envelope["data"]["id_pago"] == confirmado["aggregate_id"]
    assert CampaniaView.objects.get().estado == "CANCELADA"  # the late confirmation does not revive it
    events.deliver("campanias", "eventos.pagos", events.pago("PagoRevertido", id_campania, id_pago=confirmado["aggregate_id"]))
    assert SagaAprobacionModel.objects.get().estado == "REEMBOLSADA"


def test_lifecycle_pause_resume_finish(api, marca):
    id_campania = aprobada(api, marca)
    base = f"/api/v1/campanias/{id_campania}"
    assert api.post(f"{base}/pausar", {"motivo": "revisión"}, format="json", **WAIT).json()["estado"] == "PAUSADA"
    assert api.post(f"{base}/reanudar", {}, format="json", **WAIT).json()["estado"] == "APROBADA"
    finished = api.post(f"{base}/finalizar", {"motivo": "fin"}, format="json", **WAIT).json()
    assert finished["estado"] == "FINALIZADA" and finished["version"] == 5
    history = api.get(f"{base}/eventos").json()
    assert [item["type"] for item in history["results"]] == [
        "CampaniaCreada", "CampaniaAprobada", "CampaniaPausada", "CampaniaReanudada", "CampaniaFinalizada"]
    assert [item["version"] for item in history["results"]] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("setup, action, message", [
    ([], "pausar", "No se puede pausar una campaña PENDIENTE; debe estar APROBADA"),
    ([], "reanudar", "No se puede reanudar una campaña PENDIENTE; debe estar PAUSADA"),
    ([], "finalizar", "No se puede finalizar una campaña PENDIENTE; debe estar APROBADA o PAUSADA"),
    (["aprobar"], "reanudar", "No se puede reanudar una campaña APROBADA; debe estar PAUSADA"),
    (["aprobar"], "cancelar", "Una campaña APROBADA solo se cancela si se revierte su cobro"),
    (["aprobar", "pausar"], "pausar", "No se puede pausar una campaña PAUSADA; debe estar APROBADA"),
    (["aprobar", "pausar"], "cancelar", "Una campaña PAUSADA solo se cancela si se revierte su cobro"),
    (["aprobar", "finalizar"], "pausar", "No se puede pausar una campaña FINALIZADA"),
    (["aprobar", "finalizar"], "reanudar", "No se puede reanudar una campaña FINALIZADA"),
    (["aprobar", "finalizar"], "finalizar", "No se puede finalizar una campaña FINALIZADA"),
    (["aprobar", "finalizar"], "cancelar", "No se puede cancelar una campaña FINALIZADA"),
    (["cancelar"], "cancelar", "No se puede cancelar una campaña CANCELADA"),
    (["cancelar"], "finalizar", "No se puede finalizar una campaña CANCELADA"),
])
def test_every_illegal_transition_is_refused_with_a_clear_error_and_writes_nothing(api, marca, setup, action, message):
    id_campania = crear(api, marca).json()["id"]
    base = f"/api/v1/campanias/{id_campania}"
    for step in setup:
        if step == "aprobar":
            events.deliver("campanias", "eventos.pagos", events.pago("PagoConfirmado", id_campania))
        else:
            assert api.post(f"{base}/{step}", {}, format="json", **WAIT).status_code == 200
    stored, published = EventoCampania.objects.count(), OutboxMessage.objects.count()
    error = assert_error(api.post(f"{base}/{action}", {}, format="json", **WAIT), 422)
    assert message in error["message"]
    assert CommandLog.objects.filter(type__endswith="Campania").order_by("-created_at").first().status == "FALLIDO"
    assert EventoCampania.objects.count() == stored and OutboxMessage.objects.count() == published


def test_partners_enrol_only_when_active_and_suspension_flags_them(api, marca):
    id_campania = aprobada(api, marca)
    base = f"/api/v1/campanias/{id_campania}"
    id_socio = socio()
    enrolled = api.post(f"{base}/socios", {"id_socio": str(id_socio)}, format="json", **WAIT).json()
    assert [item["id_socio"] for item in enrolled["socios"]] == [str(id_socio)]
    assert "ya está inscrito" in assert_error(api.post(f"{base}/socios", {"id_socio": str(id_socio)}, format="json", **WAIT), 422)["message"]
    assert "propia campaña" in assert_error(api.post(f"{base}/socios", {"id_socio": str(marca)}, format="json", **WAIT), 422)["message"]
    assert "No existe el cliente" in assert_error(api.post(f"{base}/socios", {"id_socio": str(uuid.uuid4())}, format="json", **WAIT), 422)["message"]
    # a suspended partner keeps the enrolment, flagged; a suspended client cannot enrol
    events.deliver("campanias", "eventos.cliente", events.cliente_suspendido(id_socio))
    assert api.get(base).json()["socios"][0]["suspendido"] is True
    otro = socio()
    events.deliver("campanias", "eventos.cliente", events.cliente_suspendido(otro))
    error = assert_error(api.post(f"{base}/socios", {"id_socio": str(otro)}, format="json", **WAIT), 422)
    assert "Solo un cliente ACTIVO puede inscribirse" in error["message"]
    retired = api.delete(f"{base}/socios/{id_socio}", **WAIT)
    assert retired.status_code == 200 and retired.json()["socios"] == []
    assert "no está inscrito" in assert_error(api.delete(f"{base}/socios/{id_socio}", **WAIT), 422)["message"]


def test_each_enrolment_gets_its_own_tracking_link_retired_with_it(api, marca, socio_api):
    # given a campaign with a landing page and two enrolled partners
    id_campania = crear(api, marca, url_destino="https://tienda.co/navidad?utm_source=alpes",
                        ventana_atribucion_dias=14).json()["id"]
    events.deliver("campanias", "eventos.pagos", events.pago("PagoConfirmado", id_campania))
    base = f"/api/v1/campanias/{id_campania}"
    primera, segunda = socio(), socio()
    for id_socio in (primera, segunda):
        api.post(f"{base}/socios", {"id_socio": str(id_socio)}, format="json", **WAIT)

    # then each enrolment has an unguessable link, announced after its enrolment
    campania = api.get(base).json()
    assert (campania["url_destino"], campania["ventana_atribucion_dias"]) == ("https://tienda.co/navidad?utm_source=alpes", 14)
    enlaces = api.get(f"{base}/enlaces").json()
    assert {enlace["id_socio"] for enlace in enlaces} == {str(primera), str(segunda)}
    codigos = [enlace["codigo"] for enlace in enlaces]
    assert len(set(codigos)) == 2 and all(len(codigo) == 11 for codigo in codigos)
    assert all(enlace["url"] == f"http://testserver/t/{enlace['codigo']}" for enlace in enlaces)
    published = OutboxMessage.objects.filter(topic="eventos.campanias").order_by("id")
    assert [message.type for message in published][-4:] == ["SocioInscrito", "EnlaceCreado"] * 2
    assert {message.envelope["data"]["codigo"] for message in published if message.type == "EnlaceCreado"} == set(codigos)
    creada = published.get(type="CampaniaCreada").envelope
    assert (creada["version"], creada["data"]["url_destino"]) == (3, "https://tienda.co/navidad?utm_source=alpes")
    # a partner sees only its own link
    assert [enlace["id_socio"] for enlace in socio_api(primera).get(f"{base}/enlaces").json()] == [str(primera)]

    # when a partner leaves, its link goes with it
    api.delete(f"{base}/socios/{primera}", **WAIT)
    assert [enlace["id_socio"] for enlace in api.get(f"{base}/enlaces").json()] == [str(segunda)]


def test_the_landing_page_and_window_change_by_command(api, marca):
    id_campania = aprobada(api, marca)
    base = f"/api/v1/campanias/{id_campania}"
    changed = api.patch(base, {"url_destino": "https://tienda.co/nueva"}, format="json", **WAIT)
    assert changed.status_code == 200, changed.content
    assert (changed.json()["url_destino"], changed.json()["ventana_atribucion_dias"]) == ("https://tienda.co/nueva", 30)
    changed = api.patch(base, {"ventana_atribucion_dias": 7}, format="json", **WAIT).json()
    assert (changed["url_destino"], changed["ventana_atribucion_dias"]) == ("https://tienda.co/nueva", 7)
    published = OutboxMessage.objects.filter(topic="eventos.campanias", type="CampaniaActualizada").order_by("id")
    assert [message.envelope["data"] for message in published] == [
        {"url_destino": "https://tienda.co/nueva", "ventana_atribucion_dias": 30},
        {"url_destino": "https://tienda.co/nueva", "ventana_atribucion_dias": 7}]
    # bad input is a 400 that writes nothing; a finished campaign no longer changes
    before = (CommandLog.objects.count(), EventoCampania.objects.count(), OutboxMessage.objects.count())
    for body in ({}, {"url_destino": "http://tienda.co"}, {"url_destino": None}, {"ventana_atribucion_dias": 0}):
        assert_error(api.patch(base, body, format="json"), 400, "datos_invalidos")
    assert (CommandLog.objects.count(), EventoCampania.objects.count(), OutboxMessage.objects.count()) == before
    api.post(f"{base}/finalizar", {}, format="json", **WAIT)
    error = assert_error(api.patch(base, {"ventana_atribucion_dias": 9}, format="json", **WAIT), 422)
    assert "No se modifica una campaña FINALIZADA" in error["message"]


def test_enrolments_older_than_links_get_theirs_through_the_campaign(api, marca):
    # given an enrolment stored before links existed (its SocioInscrito alone)
    id_campania = aprobada(api, marca)
    id_socio = socio()
    with bootstrap.unit_of_work() as uow:
        campania = uow.repository.get(uuid.UUID(id_campania))
        inscripcion = SocioInscrito(aggregate_id=campania.id, id_socio=id_socio)
        campania.apply(inscripcion)
        campania.record(inscripcion)
        uow.repository.save(campania)
        uow.collect(campania)
        uow.commit()
    base = f"/api/v1/campanias/{id_campania}"
    assert api.get(f"{base}/enlaces").json() == []

    # when the one-off backfill runs (twice)
    call_command("create_tracking_links")
    call_command("create_tracking_links")

    # then the enrolment has one link, an EnlaceCreado of the campaign's own history
    (enlace,) = api.get(f"{base}/enlaces").json()
    assert enlace["id_socio"] == str(id_socio)
    assert [row.type for row in EventoCampania.objects.filter(aggregate_id=id_campania)][-2:] == [
        "SocioInscrito", "EnlaceCreado"]
    assert OutboxMessage.objects.filter(topic="eventos.campanias", type="EnlaceCreado").count() == 1


def test_a_suspended_or_unknown_brand_cannot_create_a_campaign(api, marca):
    events.deliver("campanias", "eventos.cliente", events.cliente_suspendido(marca))
    assert "La marca debe estar ACTIVA" in assert_error(crear(api, marca), 422)["message"]
    assert "No existe el cliente" in assert_error(crear(api, uuid.uuid4()), 422)["message"]
    assert EventoCampania.objects.count() == 0 and CampaniaView.objects.count() == 0
    assert OutboxMessage.objects.count() == 0 and SagaAprobacionModel.objects.count() == 0


TODAY = date.today()


@pytest.mark.parametrize("fields, field", [
    ({"nombre": "  "}, "nombre"),
    ({"nombre": 12}, "nombre"),  # a number, not the string the schema asks for
    ({"id_cliente": True}, "id_cliente"),
    ({"dias_retencion": "30"}, "dias_retencion"),
    ({"fecha_fin": "9999-12-31"}, "fecha_fin"),  # dates outside 1900–2100
    ({"fecha_inicio": "0001-01-01"}, "fecha_inicio"),
    ({"dias_retencion": True}, "dias_retencion"),
    ({"comisiones": {"VENTA": {"tipo": "FIJA", "valor": 1}}}, "comisiones"),
    ({"presupuesto": {"valor": "0", "moneda": "COP"}}, "presupuesto"),
    ({"presupuesto": {"valor": "-5", "moneda": "COP"}}, "presupuesto"),
    ({"presupuesto": {"valor": "10.001", "moneda": "COP"}}, "presupuesto"),
    ({"presupuesto": {"valor": "100", "moneda": "pesos"}}, "presupuesto"),
    ({"presupuesto": "100"}, "presupuesto"),
    ({"fecha_inicio": TODAY.isoformat(), "fecha_fin": TODAY.isoformat()}, "fecha_fin"),
    ({"fecha_inicio": (TODAY - timedelta(days=9)).isoformat(), "fecha_fin": (TODAY - timedelta(days=1)).isoformat()}, "fecha_fin"),
    ({"fecha_fin": "31/12/2026"}, "fecha_fin"),
    ({"dias_retencion": 366}, "dias_retencion"),
    ({"dias_retencion": -1}, "dias_retencion"),
    ({"comisiones": {"REGALO": {"tipo": "FIJA", "valor": "1"}}}, "comisiones"),
    ({"comisiones": {"VENTA": {"tipo": "PORCENTAJE", "valor": "150"}}}, "comisiones"),
    ({"comisiones": {"VENTA": {"tipo": "FIJA", "valor": "0"}}}, "comisiones"),
    ({"comisiones": {"VENTA": {"tipo": "BONO", "valor": "1"}}}, "comisiones"),
    ({"id_cliente": "no-es-uuid"}, "id_cliente"),
    ({"url_destino": "http://tienda.co/oferta"}, "url_destino"),  # https only
    ({"url_destino": "https://"}, "url_destino"),  # no host
    ({"url_destino": "/oferta"}, "url_destino"),  # not absolute
    ({"url_destino": "https://usuario:clave@tienda.co/"}, "url_destino"),
    ({"url_destino": "https://tienda.co/ofértá"}, "url_destino"),  # not encoded
    ({"url_destino": "https://tienda.co:puerto/"}, "url_destino"),
    ({"url_destino": "https://tienda.co/" + "a" * 2000}, "url_destino"),
    ({"url_destino": 5}, "url_destino"),
    ({"ventana_atribucion_dias": 0}, "ventana_atribucion_dias"),
    ({"ventana_atribucion_dias": 366}, "ventana_atribucion_dias"),
    ({"ventana_atribucion_dias": "30"}, "ventana_atribucion_dias"),
])
def test_invalid_fields_are_a_400_and_write_nothing(api, marca, fields, field):
    body = {**CampaniaBody(id_cliente=str(marca)), **fields}
    error = assert_error(api.post("/api/v1/campanias", body, format="json"), 400, "datos_invalidos")
    assert field in error["details"], error
    assert CommandLog.objects.count() == 0 and EventoCampania.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_list_filters_and_unknown_campaigns(api, marca):
    aprobada(api, marca)
    crear(api, marca)
    assert api.get("/api/v1/campanias").json()["count"] == 2
    assert api.get("/api/v1/campanias", {"estado": "APROBADA"}).json()["count"] == 1
    assert api.get("/api/v1/campanias", {"id_cliente": str(uuid.uuid4())}).json()["count"] == 0
    assert_error(api.get("/api/v1/campanias", {"estado": "ROTA"}), 400, "datos_invalidos")
    assert_error(api.get(f"/api/v1/campanias/{uuid.uuid4()}"), 404, "no_encontrado")
    assert_error(api.post(f"/api/v1/campanias/{uuid.uuid4()}/pausar", {}, format="json"), 404)
    assert_error(api.get(f"/api/v1/campanias/{uuid.uuid4()}/eventos"), 404)


def test_campaigns_past_their_end_are_finalised_once(api, marca):
    id_campania = aprobada(api, marca)
    after_end = TODAY + timedelta(days=31)
    assert handlers.finalizar_vencidas(TODAY) == 0
    assert handlers.finalizar_vencidas(after_end) == 1
    assert handlers.finalizar_vencidas(after_end) == 0  # same command id: nothing new
    view = CampaniaView.objects.get(id=id_campania)
    assert view.estado == "FINALIZADA" and view.motivo == "La campaña llegó a su fecha de fin."
    assert CommandLog.objects.get(type="FinalizarCampania").source == "programador"


@pytest.mark.parametrize("migrations", [
    # 0009 renames the task 0003 created: a fresh database runs both
    ("alpespartners.messaging.migrations.0003_programa_purga", "alpespartners.messaging.migrations.0009_tareas_en_ingles"),
    ("alpespartners.messaging.migrations.0008_comandos_varados",), ("campanias.migrations.0003_programas",),
    ("pagos.migrations.0004_programa_ciclo_diario",), ("pagos.migrations.0007_programa_reenvio_de_payouts",),
])
def test_the_periodic_tasks_are_created_once_and_name_tasks_a_worker_knows(migrations):
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from alpespartners.celery import app

    def run_migrations():
        for migration in migrations:
            import_module(migration).crear(apps, None)

    # given the migrations' periodic tasks (the test database is flushed between tests)
    run_migrations()
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every tasks.py
    created = list(PeriodicTask.objects.all())
    assert created and {task.task for task in created} <= set(app.tasks)

    # an operator's edit survives the migration running again (beat never rewrites these rows)
    PeriodicTask.objects.update(enabled=False)
    run_migrations()
    assert PeriodicTask.objects.count() == len(created) and not PeriodicTask.objects.filter(enabled=True).exists()
