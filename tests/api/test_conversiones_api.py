"""/pagos/conversiones, /pagos/conversiones/lote, /pagos/conversiones/revertir and
/pagos/transacciones on PostgreSQL. Campaigns, enrolments and clients reach pagos as the
integration events of campanias and cliente, through the real consumer path."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from alpespartners.messaging.models import CommandLog, OutboxMessage
from pagos import domain
from pagos.models import CampaniaLocal, Transaccion
from tests import events
from tests.api.test_clientes_api import assert_error
from tests.conftest import set_eager

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services", "eager_commands")]

WAIT = {"HTTP_PREFER": "wait=5"}
COMISIONES = {
    "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}, "CONVERSION": {"tipo": "PORCENTAJE", "valor": "3"},
    "CLICK": {"tipo": "FIJA", "valor": "0.10"}, "IMPRESION": {"tipo": "FIJA", "valor": "0.01"},
}
FIJAS = {  # no PORCENTAJE term: the smallest commission is 0.25
    "VENTA": {"tipo": "FIJA", "valor": "2.00"}, "CONVERSION": {"tipo": "FIJA", "valor": "1.00"},
    "CLICK": {"tipo": "FIJA", "valor": "0.50"}, "IMPRESION": {"tipo": "FIJA", "valor": "0.25"},
}


# --- givens: what campanias and cliente publish, as pagos receives it ------------------------


def campania(presupuesto: str = "1000.00", *, moneda: str = "COP", dias_retencion: int = 30,
             estados: tuple[str, ...] = ("CampaniaAprobada",), desde_dias: int = -10, hasta_dias: int = 30,
             comisiones: dict = COMISIONES) -> uuid.UUID:
    id_campania, hoy = uuid.uuid4(), timezone.localdate()
    events.deliver("pagos", "eventos.campanias", events.envelope("CampaniaCreada", id_campania, {
        "id_cliente": str(uuid.uuid4()), "nombre": "Campaña", "presupuesto": {"valor": presupuesto, "moneda": moneda},
        "fecha_inicio": str(hoy + timedelta(days=desde_dias)), "fecha_fin": str(hoy + timedelta(days=hasta_dias)),
        "comisiones": comisiones, "dias_retencion": dias_retencion,
    }))
    for tipo in estados:
        data = {"id_pago": str(uuid.uuid4())} if tipo == "CampaniaAprobada" else {"motivo": "prueba"}
        events.deliver("pagos", "eventos.campanias", events.envelope(tipo, id_campania, data))
    return id_campania


def socio(id_campania: uuid.UUID, *, inscrito: bool = True, suspendido: bool = False) -> uuid.UUID:
    id_socio = uuid.uuid4()
    events.deliver("pagos", "eventos.cliente", events.cliente_registrado(id_socio, tipo="NATURAL", nombre="Socia"))
    if suspendido:
        events.deliver("pagos", "eventos.cliente", events.cliente_suspendido(id_socio))
    if inscrito:
        events.deliver("pagos", "eventos.campanias",
                       events.envelope("SocioInscrito", id_campania, {"id_socio": str(id_socio)}))
    return id_socio


def conversion(id_campania, id_socio, tipo: str = "VENTA", monto: str | None = "100.00", *,
               id_externo: str | None = None, ocurrida_en=None, moneda: str = "COP") -> dict:
    body = {"id_externo": id_externo or f"ext-{uuid.uuid4().hex[:12]}", "id_campania": str(id_campania),
            "id_socio": str(id_socio), "tipo": tipo,
            "ocurrida_en": (ocurrida_en or timezone.now() - timedelta(minutes=1)).isoformat()}
    if monto is not None:
        body["monto"] = {"valor": monto, "moneda": moneda}
    return body


def registrar(api, body: dict, **headers):
    return api.post("/api/v1/pagos/conversiones", body, format="json", **headers)


def lote(api, conversiones: list[dict], **headers):
    return api.post("/api/v1/pagos/conversiones/lote", {"conversiones": conversiones}, format="json", **headers)


def disponible(id_campania) -> Decimal:
    return CampaniaLocal.objects.get(id=id_campania).presupuesto_disponible


def pagos_events(type: str | None = None) -> list[OutboxMessage]:
    rows = OutboxMessage.objects.filter(topic="eventos.pagos").order_by("id")
    return list(rows.filter(type=type) if type else rows)


# --- one conversion ---------------------------------------------------------------------------


def test_a_sale_earns_its_percentage_commission_and_consumes_the_budget(api):
    # given an approved campaign (5 % of sales, 30 days of retention) and an enrolled partner
    id_campania = campania("1000.00")
    id_socio = socio(id_campania)
    ocurrida_en = timezone.now() - timedelta(hours=1)

    # when a sale of 10.25 COP is registered
    body = conversion(id_campania, id_socio, "VENTA", "10.25", id_externo="pedido-1", ocurrida_en=ocurrida_en)
    answer = registrar(api, body, **WAIT)

    # then the commission is 0.5125 rounded half up to 0.51, PENDIENTE until the retention ends
    assert answer.status_code == 201, answer.content
    transaccion = answer.json()
    id_transaccion = domain.id_transaccion(id_campania, "pedido-1")
    assert transaccion == {
        "id": str(id_transaccion), "id_socio": str(id_socio), "id_campania": str(id_campania),
        "id_externo": "pedido-1", "tipo": "VENTA", "comision": {"valor": "0.51", "moneda": "COP"},
        "estado": "PENDIENTE", "pagable_desde": transaccion["pagable_desde"], "id_payout": None,
    }
    assert abs(timezone.datetime.fromisoformat(transaccion["pagable_desde"]) - (ocurrida_en + timedelta(days=30))) \
        < timedelta(seconds=1)
    assert disponible(id_campania) == Decimal("999.49")
    (event,) = pagos_events()
    assert (event.type, event.version, event.aggregate_id) == ("ComisionRegistrada", 1, id_transaccion)
    assert event.envelope["data"]["comision"] == {"valor": "0.51", "moneda": "COP"}
    assert event.envelope["data"]["monto_conversion"] == {"valor": "10.25", "moneda": "COP"}
    assert api.get(f"/api/v1/pagos/transacciones?id_socio={id_socio}").json()["results"] == [transaccion]


@pytest.mark.parametrize(("tipo", "monto", "comision"), [
    ("CONVERSION", "10.50", "0.32"),  # 3 % = 0.315 → half up
    ("VENTA", "0.09", "0.00"),  # rounds to zero: refused below
    ("CLICK", None, "0.10"),
    ("IMPRESION", None, "0.01"),
])
def test_each_type_earns_its_terms_rounded_half_up_to_the_minor_unit(api, tipo, monto, comision):
    id_campania = campania(dias_retencion=0)
    answer = registrar(api, conversion(id_campania, socio(id_campania), tipo, monto), **WAIT)
    if comision == "0.00":
        assert assert_error(answer, 422, "comision_cero")["message"] == "La comisión de esta conversión redondea a cero COP."
        assert Transaccion.objects.count() == 0
        return
    assert answer.status_code == 201, answer.content
    # no retention: payable at once
    assert (answer.json()["comision"]["valor"], answer.json()["estado"]) == (comision, "PAGABLE")


def test_a_repeated_id_externo_answers_with_the_same_commission_and_never_a_second(api):
    id_campania = campania()
    body = conversion(id_campania, socio(id_campania), id_externo="pedido-7")
    first = registrar(api, body, **WAIT)
    second = registrar(api, {**body, "monto": {"valor": "999.00", "moneda": "COP"}}, **WAIT)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert Transaccion.objects.count() == 1 and len(pagos_events()) == 1
    assert CommandLog.objects.order_by("created_at").last().result["resultado"] == "DUPLICADA"
    assert disponible(id_campania) == Decimal("995.00")


def rechazo(caso: str) -> dict:
    if caso == "campania_desconocida":
        return conversion(uuid.uuid4(), uuid.uuid4())
    if caso == "campania_no_aprobada":
        id_campania = campania(estados=("CampaniaAprobada", "CampaniaPausada"))
        return conversion(id_campania, socio(id_campania))
    if caso == "fuera_de_fechas":
        id_campania = campania(desde_dias=-30)
        return conversion(id_campania, socio(id_campania), ocurrida_en=timezone.now() - timedelta(days=40))
    if caso == "fecha_futura":
        id_campania = campania()
        return conversion(id_campania, socio(id_campania), ocurrida_en=timezone.now() + timedelta(hours=1))
    if caso == "socio_no_inscrito":
        id_campania = campania()
        return conversion(id_campania, socio(id_campania, inscrito=False))
    if caso == "socio_suspendido":
        id_campania = campania()
        return conversion(id_campania, socio(id_campania, suspendido=True))
    if caso == "monto_requerido":
        id_campania = campania()
        return conversion(id_campania, socio(id_campania), "VENTA", None)
    if caso == "moneda_distinta":
        id_campania = campania()
        return conversion(id_campania, socio(id_campania), moneda="USD")
    if caso == "presupuesto_insuficiente":
        id_campania = campania("4.00")
        return conversion(id_campania, socio(id_campania), "VENTA", "100.00")  # 5.00 > 4.00, which pays smaller ones
    if caso == "presupuesto_agotado":
        id_campania = campania("0.20", comisiones=FIJAS)
        return conversion(id_campania, socio(id_campania), "CLICK", None)  # no commission of FIJAS fits in 0.20
    raise AssertionError(caso)


@pytest.mark.parametrize(("caso", "mensaje"), [
    ("campania_desconocida", "no existe."),
    ("campania_no_aprobada", "La campaña está PAUSADA; solo una campaña APROBADA acepta conversiones."),
    ("fuera_de_fechas", "fuera de las fechas de la campaña"),
    ("fecha_futura", "La conversión no puede haber ocurrido en el futuro."),
    ("socio_no_inscrito", "El socio no está inscrito en la campaña."),
    ("socio_suspendido", "El socio está suspendido."),
    ("monto_requerido", "Una conversión de tipo VENTA requiere monto."),
    ("moneda_distinta", "El monto está en USD; la campaña paga en COP."),
    ("presupuesto_insuficiente", "Presupuesto insuficiente: quedan 4.00 COP y la comisión es 5.00 COP."),
    ("presupuesto_agotado", "Presupuesto agotado: quedan 0.20 COP y la comisión es 0.50 COP."),
])
def test_a_conversion_that_earns_nothing_fails_with_its_reason_and_writes_nothing(api, caso, mensaje):
    body = rechazo(caso)
    budgets = dict(CampaniaLocal.objects.values_list("id", "presupuesto_disponible"))

    answer = registrar(api, body, **WAIT)

    error = assert_error(answer, 422, caso)
    assert mensaje in error["message"]
    assert CommandLog.objects.get().status == "FALLIDO"
    assert Transaccion.objects.count() == 0
    assert dict(CampaniaLocal.objects.values_list("id", "presupuesto_disponible")) == budgets
    # a budget that cannot pay announces itself (once); any other refusal publishes nothing
    assert [event.type for event in pagos_events()] == (["PresupuestoAgotado"] if caso == "presupuesto_agotado" else [])


# --- batches --------------------------------------------------------------------------------


def test_a_batch_gets_one_result_per_conversion_with_reasons(api):
    # given a campaign whose budget pays 10.00 and an enrolled partner
    id_campania = campania("10.00")
    id_socio = socio(id_campania)
    previa = conversion(id_campania, id_socio, "VENTA", "20.00", id_externo="ya-registrada")  # 1.00
    assert registrar(api, previa, **WAIT).status_code == 201
    intruso = socio(id_campania, inscrito=False)
    conversiones = [
        conversion(id_campania, id_socio, "VENTA", "100.00", id_externo="v1"),  # 5.00 → 4.00 left
        conversion(id_campania, id_socio, "CONVERSION", "50.00", id_externo="c1"),  # 1.50 → 2.50 left
        conversion(id_campania, id_socio, "CLICK", None, id_externo="k1"),  # 0.10 → 2.40 left
        conversion(id_campania, id_socio, "IMPRESION", None, id_externo="i1"),  # 0.01 → 2.39 left
        conversion(id_campania, id_socio, "VENTA", "100.00", id_externo="v1"),  # same id in the batch
        conversion(id_campania, id_socio, id_externo="ya-registrada"),
        conversion(id_campania, intruso, id_externo="intruso"),
        conversion(id_campania, id_socio, "VENTA", "100.00", id_externo="v2"),  # 5.00 > 2.39: not exhausted
        conversion(id_campania, id_socio, "CLICK", None, id_externo="k2"),  # 0.10 still fits → 2.29
    ]

    answer = lote(api, conversiones, **WAIT)

    assert answer.status_code == 200, answer.content
    result = answer.json()["result"]
    assert (result["registradas"], result["duplicadas"], result["rechazadas"]) == (5, 2, 2)
    assert [(item["id_externo"], item["resultado"], item["codigo"]) for item in result["resultados"]] == [
        ("v1", "REGISTRADA", None), ("c1", "REGISTRADA", None), ("k1", "REGISTRADA", None),
        ("i1", "REGISTRADA", None), ("v1", "DUPLICADA", None), ("ya-registrada", "DUPLICADA", None),
        ("intruso", "RECHAZADA", "socio_no_inscrito"), ("v2", "RECHAZADA", "presupuesto_insuficiente"),
        ("k2", "REGISTRADA", None),
    ]
    assert result["resultados"][0]["comision"] == {"valor": "5.00", "moneda": "COP"}
    assert result["resultados"][7]["motivo"] == "Presupuesto insuficiente: quedan 2.39 COP y la comisión es 5.00 COP."
    assert disponible(id_campania) == Decimal("2.29")
    assert Transaccion.objects.count() == 6
    # 2.29 left still pays commissions: the campaign is not exhausted
    assert [event.type for event in pagos_events()] == ["ComisionRegistrada"] * 6


def test_a_batch_is_set_based_its_queries_do_not_grow_with_its_size(api):
    id_campania = campania("1000000.00")
    socios = [socio(id_campania) for _ in range(5)]

    def statements(size: int) -> int:
        body = [conversion(id_campania, socios[n % 5], "CLICK", None) for n in range(size)]
        with CaptureQueriesContext(connection) as captured:
            assert lote(api, body, **WAIT).json()["result"]["registradas"] == size
        return len(captured.captured_queries)

    assert statements(500) == statements(10)
    assert Transaccion.objects.count() == 510


def test_the_budget_runs_out_once(api):
    id_campania = campania("1.00")
    id_socio = socio(id_campania)
    clicks = [conversion(id_campania, id_socio, "CLICK", None) for _ in range(10)]  # exactly 1.00
    assert lote(api, clicks, **WAIT).json()["result"]["registradas"] == 10
    assert disponible(id_campania) == 0
    assert lote(api, [conversion(id_campania, id_socio, "CLICK", None)], **WAIT).json()["result"]["rechazadas"] == 1
    assert_error(registrar(api, conversion(id_campania, id_socio, "CLICK", None), **WAIT), 422, "presupuesto_agotado")
    assert len(pagos_events("PresupuestoAgotado")) == 1
    (agotado,) = pagos_events("PresupuestoAgotado")
    assert agotado.envelope["data"]["disponible"] == {"valor": "0.00", "moneda": "COP"}


def test_100_concurrent_conversions_against_a_budget_for_60_make_exactly_60_commissions(user):
    # given a budget that pays 60 clicks of 0.10
    id_campania = campania("6.00")
    id_socio = socio(id_campania)
    bodies = [conversion(id_campania, id_socio, "CLICK", None) for _ in range(100)]
    answers, lock = [], threading.Lock()

    def send(chunk):
        client = APIClient()
        client.force_authenticate(user)
        try:
            for body in chunk:
                status = registrar(client, body, **WAIT).status_code
                with lock:
                    answers.append(status)
        finally:
            connection.close()

    # when 20 clients send 5 each at the same time
    threads = [threading.Thread(target=send, args=(bodies[n::20],)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then exactly 60 earned a commission, the budget is 0 and it ran out once
    assert sorted(answers) == [201] * 60 + [422] * 40
    assert Transaccion.objects.count() == 60
    assert disponible(id_campania) == 0
    assert len(pagos_events("ComisionRegistrada")) == 60 and len(pagos_events("PresupuestoAgotado")) == 1


# --- what is left vs. the smallest commission of the terms --------------------------------------


def decidir(api, via: str, conversiones: list[dict]) -> list[tuple[str | None, str | None]]:
    """(codigo, motivo) of each conversion, (None, None) when it earned its commission: sent one at a
    time, as single conversions decided together by one drain, or as one batch."""
    if via == "lote":
        resultados = lote(api, conversiones, **WAIT).json()["result"]["resultados"]
        return [(item["codigo"], item["motivo"]) for item in resultados]
    if via == "una_a_una":
        answers = [registrar(api, body, **WAIT) for body in conversiones]
        return [(None, None) if answer.status_code == 201 else
                tuple(assert_error(answer, 422)[key] for key in ("code", "message")) for answer in answers]
    from alpespartners.messaging import together

    set_eager(False)
    try:
        ids = [registrar(api, body).json()["command_id"] for body in conversiones]
    finally:
        set_eager(True)
    assert together.drain("pagos", "RegistrarConversion").decided == len(ids)
    errors = dict(CommandLog.objects.filter(id__in=ids).values_list("id", "error"))
    return [(errors[uuid.UUID(command_id)]["code"], errors[uuid.UUID(command_id)]["message"])
            if errors[uuid.UUID(command_id)] else (None, None) for command_id in ids]


VIAS = ["una_a_una", "juntas", "lote"]


@pytest.mark.parametrize("via", VIAS)
def test_one_large_commission_is_refused_and_a_campaign_with_budget_left_keeps_running(api, via):
    # given a campaign (5 % of sales) with 999,381.76 COP left
    id_campania = campania("1000000.00")
    id_socio = socio(id_campania)
    assert registrar(api, conversion(id_campania, id_socio, "VENTA", "12364.80"), **WAIT).status_code == 201  # 618.24
    assert disponible(id_campania) == Decimal("999381.76")

    # when a sale whose commission is more than what is left arrives, then a click
    decididas = decidir(api, via, [conversion(id_campania, id_socio, "VENTA", "20000000.00"),  # 1,000,000.00
                                   conversion(id_campania, id_socio, "CLICK", None)])  # 0.10

    # then that sale alone is refused, saying what is left; the campaign is not exhausted, the click earns
    assert decididas == [("presupuesto_insuficiente", "Presupuesto insuficiente: quedan 999381.76 COP y la comisión "
                                                      "es 1000000.00 COP."), (None, None)]
    assert disponible(id_campania) == Decimal("999381.66")
    assert pagos_events("PresupuestoAgotado") == []
    local = CampaniaLocal.objects.get(id=id_campania)
    assert (local.estado, local.agotado_publicado) == ("APROBADA", False)

    # when a sale takes exactly what is left, then the budget is exhausted: announced once, the next refused
    decididas = decidir(api, via, [conversion(id_campania, id_socio, "VENTA", "19987633.20"),  # 999,381.66
                                   conversion(id_campania, id_socio, "CLICK", None)])
    assert decididas == [(None, None), ("presupuesto_agotado", "Presupuesto agotado: quedan 0.00 COP y la comisión es "
                                                               "0.10 COP.")]
    assert disponible(id_campania) == 0
    (agotado,) = pagos_events("PresupuestoAgotado")
    assert agotado.envelope["data"]["disponible"] == {"valor": "0.00", "moneda": "COP"}


@pytest.mark.parametrize("via", VIAS)
def test_with_fixed_terms_only_the_budget_is_exhausted_below_the_smallest_fixed_commission(api, via):
    # given a campaign that only pays fixed commissions (the smallest 0.25) and 3.10 COP
    id_campania = campania("3.10", comisiones=FIJAS)
    id_socio = socio(id_campania)

    # when a sale (2.00) leaves 1.10, a second one does not fit but smaller ones still do
    decididas = decidir(api, via, [conversion(id_campania, id_socio, "VENTA", "100.00"),
                                   conversion(id_campania, id_socio, "VENTA", "100.00")])
    assert decididas == [(None, None), ("presupuesto_insuficiente", "Presupuesto insuficiente: quedan 1.10 COP y la "
                                                                    "comisión es 2.00 COP.")]
    assert pagos_events("PresupuestoAgotado") == []

    # when a sign-up (1.00) leaves 0.10, below the smallest fixed commission
    decididas = decidir(api, via, [conversion(id_campania, id_socio, "CONVERSION", "100.00"),
                                   conversion(id_campania, id_socio, "IMPRESION", None)])

    # then the budget is exhausted with 0.10 left: announced at once, and what follows is refused as exhausted
    assert decididas == [(None, None), ("presupuesto_agotado", "Presupuesto agotado: quedan 0.10 COP y la comisión es "
                                                               "0.25 COP.")]
    (agotado,) = pagos_events("PresupuestoAgotado")
    assert agotado.envelope["data"]["disponible"] == {"valor": "0.10", "moneda": "COP"}
    assert decidir(api, via, [conversion(id_campania, id_socio, "CLICK", None)])[0][0] == "presupuesto_agotado"
    assert len(pagos_events("PresupuestoAgotado")) == 1
    assert disponible(id_campania) == Decimal("0.10") and CampaniaLocal.objects.get(id=id_campania).agotado_publicado


# --- refunds ----------------------------------------------------------------------------------


def test_a_refund_before_payment_reverts_the_commission_and_returns_the_budget(api):
    id_campania = campania("100.00")
    id_socio = socio(id_campania)
    assert registrar(api, conversion(id_campania, id_socio, "VENTA", "100.00", id_externo="p-9"), **WAIT).status_code == 201
    body = {"id_campania": str(id_campania), "id_externo": "p-9", "motivo": "El cliente devolvió el pedido."}

    answer = api.post("/api/v1/pagos/conversiones/revertir", body, format="json", **WAIT)

    assert answer.status_code == 200, answer.content
    assert (answer.json()["estado"], answer.json()["comision"]["valor"]) == ("REVERTIDA", "5.00")
    assert disponible(id_campania) == Decimal("100.00")
    (event,) = pagos_events("ComisionRevertida")
    assert event.envelope["data"]["ajuste"] is None and event.envelope["data"]["motivo"] == body["motivo"]
    # a second refund of it is refused and changes nothing
    error = assert_error(api.post("/api/v1/pagos/conversiones/revertir", body, format="json", **WAIT), 422)
    assert error["message"] == "La conversión ya fue revertida."
    assert len(pagos_events("ComisionRevertida")) == 1 and disponible(id_campania) == Decimal("100.00")


def test_refunding_an_unknown_conversion_is_404_and_writes_nothing(api):
    body = {"id_campania": str(uuid.uuid4()), "id_externo": "nada", "motivo": "x"}
    assert_error(api.post("/api/v1/pagos/conversiones/revertir", body, format="json"), 404)
    assert CommandLog.objects.count() == 0 and OutboxMessage.objects.count() == 0


# --- bad input ----------------------------------------------------------------------------------


def _valid() -> dict:
    return conversion(uuid.uuid4(), uuid.uuid4())


@pytest.mark.parametrize(("path", "body"), [
    ("conversiones", {}),
    ("conversiones", {**_valid(), "tipo": "COMPRA"}),
    ("conversiones", {**_valid(), "monto": {"valor": 12.5, "moneda": "COP"}}),
    ("conversiones", {**_valid(), "monto": {"valor": "-1", "moneda": "COP"}}),
    ("conversiones", {**_valid(), "monto": {"valor": "1", "moneda": "pesos"}}),
    ("conversiones", {**_valid(), "id_campania": "no-es-uuid"}),
    ("conversiones", {**_valid(), "ocurrida_en": "ayer"}),
    ("conversiones", {**_valid(), "ocurrida_en": "0001-01-01T00:00:00Z"}),  # dates outside 1900–2100
    ("conversiones", {**_valid(), "ocurrida_en": "9999-12-31T23:59:59-05:00"}),
    ("conversiones/lote", {"conversiones": [{**_valid(), "ocurrida_en": "1899-12-31T12:00:00Z"}]}),
    ("conversiones", {**_valid(), "id_externo": ""}),
    ("conversiones", {**_valid(), "id_externo": 12}),  # a number is not the string the schema asks for
    ("conversiones", {**_valid(), "id_socio": True}),  # nor is true a uuid (DRF would read UUID(int=1))
    ("conversiones", {**_valid(), "id_campania": 7}),
    ("conversiones/lote", {"conversiones": [{**_valid(), "id_externo": 1.5}]}),
    ("conversiones/revertir", {"id_campania": str(uuid.uuid4()), "id_externo": 7, "motivo": "x"}),
    ("conversiones/revertir", {"id_campania": str(uuid.uuid4()), "id_externo": "x", "motivo": 7}),
    ("conversiones/lote", {"conversiones": []}),
    ("conversiones/lote", {"conversiones": [_valid(), {**_valid(), "tipo": "COMPRA"}]}),
    ("conversiones/lote", {"conversiones": [_valid()] * 1001}),
    ("conversiones/lote", {"conversiones": "todas"}),
    ("conversiones/revertir", {"id_campania": str(uuid.uuid4()), "id_externo": "x"}),
    ("conversiones/revertir", {"id_campania": "x", "id_externo": "x", "motivo": "x"}),
])
def test_bad_input_is_400_with_the_error_shape_and_nothing_written(api, path, body):
    assert_error(api.post(f"/api/v1/pagos/{path}", body, format="json"), 400, "datos_invalidos")
    assert CommandLog.objects.count() == 0 and OutboxMessage.objects.count() == 0
    assert Transaccion.objects.count() == 0


def test_bad_filters_on_transactions_are_400(api):
    assert_error(api.get("/api/v1/pagos/transacciones?estado=COBRADA"), 400, "datos_invalidos")
    assert_error(api.get("/api/v1/pagos/transacciones?id_socio=x"), 400, "datos_invalidos")


def test_single_conversions_waiting_in_the_log_are_decided_together_each_with_its_own_answer(api):
    # given a campaign with 1.00 COP of budget (ten CLICKs of 0.10), two enrolled partners and an
    # intruder; and another campaign whose pause is committed but not yet applied by pagos
    from alpespartners.messaging import outbox, together
    from alpespartners.messaging.models import DrainRequest

    id_campania = campania("1.00")
    socios = [socio(id_campania), socio(id_campania)]
    intruso = socio(id_campania, inscrito=False)
    otra = campania()
    tardio = socio(otra)
    outbox.add("eventos.campanias", [events.envelope("CampaniaPausada", otra, {"motivo": "en camino"})])

    # when twelve single conversions arrive while no worker runs, then one task runs
    set_eager(False)
    try:
        accepted = [registrar(api, conversion(id_campania, socios[n % 2], "CLICK", None)) for n in range(12)]
        accepted.append(registrar(api, conversion(id_campania, intruso, "CLICK", None)))
        accepted.append(registrar(api, conversion(otra, tardio, "CLICK", None)))
    finally:
        set_eager(True)
    assert {answer.status_code for answer in accepted} == {202}
    ids = [answer.json()["command_id"] for answer in accepted]
    # (the first asked for a drain of its type; the others found it asked for and enqueued nothing)
    assert DrainRequest.objects.filter(key="pagos.RegistrarConversion").exists()
    assert together.request_drain("pagos", "RegistrarConversion") is False
    with CaptureQueriesContext(connection) as queries:
        drained = together.drain("pagos", "RegistrarConversion")

    # then every conversion but the one waiting for its campaign's pause was decided in one round, in order:
    # ten commissions, two over budget, an intruder refused with its reason
    entries = {entry.id: entry for entry in CommandLog.objects.filter(id__in=ids)}
    decided = [entries[uuid.UUID(command_id)] for command_id in ids]
    assert [entry.status for entry in decided[:10]] == ["COMPLETADO"] * 10
    assert [entry.error["code"] for entry in decided[10:12]] == ["presupuesto_agotado"] * 2
    assert decided[12].error["code"] == "socio_no_inscrito"
    assert decided[13].status == "PENDIENTE" and decided[13].attempts == 0
    assert all(entry.result["resultado"] == "REGISTRADA" and Transaccion.objects.filter(id=entry.resource_id).exists()
               for entry in decided[:10])
    assert CampaniaLocal.objects.get(id=id_campania).presupuesto_disponible == 0
    assert (drained.decided, drained.waiting) == (13, 1)
    assert not DrainRequest.objects.exists()  # the next conversion asks for a drain again
    assert len(queries) < 30, len(queries)  # a handful of statements for the lot, not per conversion
    # each commission's event carries the correlation and causation of its own command
    published = OutboxMessage.objects.filter(type="ComisionRegistrada")
    assert {(message.envelope["causation_id"], message.envelope["correlation_id"]) for message in published} == {
        (str(entry.id), str(entry.correlation_id)) for entry in decided[:10]}
    assert OutboxMessage.objects.filter(type="PresupuestoAgotado").count() == 1
