"""GET /pagos/transacciones.csv and /pagos/payouts.csv: the JSON lists' rows, filters and scoping,
streamed as CSV with amounts as decimal strings beside their currency and instants in ISO 8601."""

import csv
import io
import uuid
from datetime import date, datetime, timedelta, timezone as tz
from decimal import Decimal

import pytest
from django.utils import timezone

from pagos import exports
from pagos.models import Transaccion
from tests import factories
from tests.api.test_access import clients, world  # noqa: F401 (fixtures: two brands, their partners, four users)
from tests.api.test_clientes_api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

TRANSACCIONES, PAYOUTS = "/api/v1/pagos/transacciones.csv", "/api/v1/pagos/payouts.csv"


def leer(answer) -> list[dict]:
    assert answer.status_code == 200, answer.content  # an error is not streamed
    assert answer.streaming
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"].startswith("attachment; filename=")
    texto = b"".join(answer.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(texto)))


def ids(answer) -> set:
    return {uuid.UUID(fila["id"]) for fila in leer(answer)}


def test_a_commission_row_has_the_json_fields_with_its_amount_split_and_its_instant_with_offset(api):
    id_campania, id_socio = uuid.uuid4(), uuid.uuid4()
    factories.CampaniaLocalFactory(id=id_campania, id_marca=uuid.uuid4())
    venta = factories.TransaccionFactory(id_campania=id_campania, id_socio=id_socio, id_externo="pedido-1",
                                         comision=Decimal("30.0300"), moneda="COP", estado="PAGADA",
                                         id_payout=uuid.uuid4(),
                                         pagable_desde=datetime(2026, 11, 20, 15, 30, tzinfo=tz.utc))
    ajuste = factories.TransaccionFactory(id_campania=id_campania, id_socio=id_socio, id_externo="pedido-1",
                                          tipo="AJUSTE", comision=Decimal("-1500"), moneda="CLP", estado="PENDIENTE",
                                          id_transaccion_original=venta.id, id=uuid.uuid4(),
                                          pagable_desde=datetime(2099, 1, 1, tzinfo=tz.utc))

    answer = api.get(TRANSACCIONES, HTTP_ACCEPT="text/csv")
    filas = {fila["id"]: fila for fila in leer(answer)}

    assert list(next(iter(filas.values()))) == list(exports.TRANSACCIONES.encabezados)
    assert filas[str(venta.id)] == {
        "id": str(venta.id), "id_socio": str(id_socio), "id_campania": str(id_campania), "id_externo": "pedido-1",
        "tipo": "VENTA", "comision_valor": "30.03", "comision_moneda": "COP", "estado": "PAGADA",
        "pagable_desde": "2026-11-20T10:30:00-05:00", "id_payout": str(venta.id_payout),
    }
    assert (filas[str(ajuste.id)]["comision_valor"], filas[str(ajuste.id)]["comision_moneda"]) == ("-1500", "CLP")
    assert filas[str(ajuste.id)]["pagable_desde"] == "2098-12-31T19:00:00-05:00"
    assert filas[str(ajuste.id)]["id_payout"] == ""
    # The same amounts and state the JSON list shows.
    json = {row["id"]: row for row in api.get("/api/v1/pagos/transacciones").json()["results"]}
    for id, fila in filas.items():
        assert {"valor": fila["comision_valor"], "moneda": fila["comision_moneda"]} == json[id]["comision"]
        assert fila["estado"] == json[id]["estado"]
        assert datetime.fromisoformat(fila["pagable_desde"]) == datetime.fromisoformat(json[id]["pagable_desde"])


def test_a_pending_commission_past_its_retention_is_exported_and_filtered_as_pagable(api):
    pasada = factories.TransaccionFactory(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), estado="PENDIENTE",
                                          pagable_desde=timezone.now() - timedelta(minutes=1))
    retenida = factories.TransaccionFactory(id_campania=uuid.uuid4(), id_socio=uuid.uuid4(), estado="PENDIENTE",
                                            pagable_desde=timezone.now() + timedelta(days=1))

    estados = {fila["id"]: fila["estado"] for fila in leer(api.get(TRANSACCIONES))}

    assert estados == {str(pasada.id): "PAGABLE", str(retenida.id): "PENDIENTE"}
    assert ids(api.get(TRANSACCIONES, {"estado": "PAGABLE"})) == {pasada.id}
    assert ids(api.get(TRANSACCIONES, {"estado": "PENDIENTE"})) == {retenida.id}


def test_the_filters_of_the_json_list_apply(api):
    id_campania, id_socio, otro = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    suya = factories.TransaccionFactory(id_campania=id_campania, id_socio=id_socio)
    de_otro = factories.TransaccionFactory(id_campania=id_campania, id_socio=otro)
    otra_campania = factories.TransaccionFactory(id_campania=uuid.uuid4(), id_socio=id_socio)

    assert ids(api.get(TRANSACCIONES, {"id_socio": str(id_socio)})) == {suya.id, otra_campania.id}
    assert ids(api.get(TRANSACCIONES, {"id_campania": str(id_campania)})) == {suya.id, de_otro.id}
    assert ids(api.get(TRANSACCIONES, {"id_socio": str(id_socio), "id_campania": str(id_campania)})) == {suya.id}

    ciclo = uuid.uuid4()
    fallido = factories.PayoutFactory(id_socio=id_socio, id_ciclo=ciclo, estado="FALLIDO")
    pagado = factories.PayoutFactory(id_socio=id_socio, estado="PAGADO")
    factories.PayoutFactory(id_socio=otro, id_ciclo=ciclo, estado="FALLIDO")
    assert ids(api.get(PAYOUTS, {"id_socio": str(id_socio)})) == {fallido.id, pagado.id}
    assert ids(api.get(PAYOUTS, {"id_socio": str(id_socio), "estado": "FALLIDO"})) == {fallido.id}
    assert len(ids(api.get(PAYOUTS, {"ciclo": str(ciclo)}))) == 2


@pytest.mark.parametrize("path, query", [
    (TRANSACCIONES, "estado=CUALQUIERA"), (TRANSACCIONES, "id_socio=no-es-un-uuid"), (TRANSACCIONES, "estado="),
    (PAYOUTS, "estado=CUALQUIERA"), (PAYOUTS, "ciclo=1"),
])
def test_a_bad_filter_is_a_400_in_the_error_shape_before_any_csv(api, path, query):
    answer = api.get(f"{path}?{query}", HTTP_ACCEPT="text/csv")
    assert not answer.streaming
    error = assert_error(answer, 400, "datos_invalidos")
    assert set(error["details"]) == {query.split("=")[0]}


def test_without_credentials_it_is_a_401_in_the_error_shape():
    from rest_framework.test import APIClient

    for path in (TRANSACCIONES, PAYOUTS):
        assert_error(APIClient().get(path), 401, "no_autenticado")


def test_a_payout_row_has_the_json_fields_with_its_amount_split(api):
    payout = factories.PayoutFactory(monto_total=Decimal("30.0300"), moneda="USD", fecha_corte=date(2026, 11, 20),
                                     estado="PAGADO", transacciones=2, intentos=1, confirmacion="po_123",
                                     motivo_fallo="")

    [fila] = leer(api.get(PAYOUTS))

    assert fila == {
        "id": str(payout.id), "id_socio": str(payout.id_socio), "ciclo": str(payout.id_ciclo),
        "fecha_corte": "2026-11-20", "monto_total_valor": "30.03", "monto_total_moneda": "USD", "estado": "PAGADO",
        "transacciones": "2", "intentos": "1", "confirmacion": "po_123", "motivo_fallo": "",
    }
    [json] = api.get("/api/v1/pagos/payouts").json()["results"]
    assert {"valor": fila["monto_total_valor"], "moneda": fila["monto_total_moneda"]} == json["monto_total"]


def test_each_role_exports_only_the_rows_its_json_list_shows(world, clients):
    staff, marca, socio, sin_vinculo = (clients[role] for role in ("staff", "marca", "socio", "sin_vinculo"))
    w = world
    todas = {w.transaccion_p.id, w.transaccion_q_en_a.id, w.transaccion_q.id}
    assert ids(staff.get(TRANSACCIONES)) == todas
    assert ids(marca.get(TRANSACCIONES)) == {w.transaccion_p.id, w.transaccion_q_en_a.id}  # its campaign's
    assert ids(socio.get(TRANSACCIONES)) == {w.transaccion_p.id}
    assert ids(socio.get(TRANSACCIONES, {"id_socio": str(w.socio_q)})) == set()  # a filter cannot widen
    assert ids(marca.get(TRANSACCIONES, {"id_campania": str(w.campania_b)})) == set()
    assert_error(sin_vinculo.get(TRANSACCIONES), 403, "sin_permiso")

    assert ids(staff.get(PAYOUTS)) == {w.payout_p, w.payout_q}
    assert ids(socio.get(PAYOUTS)) == {w.payout_p}
    assert_error(marca.get(PAYOUTS), 403, "sin_permiso")
    assert_error(sin_vinculo.get(PAYOUTS), 403, "sin_permiso")


def test_more_rows_than_a_chunk_are_streamed_in_pieces(api):
    id_campania, id_socio = uuid.uuid4(), uuid.uuid4()
    filas = exports.CHUNK_SIZE * 2 + 7
    Transaccion.objects.bulk_create(
        factories.TransaccionFactory.build(id_campania=id_campania, id_socio=id_socio) for _ in range(filas)
    )

    answer = api.get(TRANSACCIONES)
    piezas = list(answer.streaming_content)

    assert len(piezas) == 1 + 3  # the header, two full chunks and the rest
    assert len(list(csv.reader(io.StringIO(b"".join(piezas).decode())))) == 1 + filas
