"""GET /api/v1/reportes/rendimiento: clicks, conversions, conversion rate and commissions per day
(in TIME_ZONE), campaign and partner, from the rows pagos holds; the same figures on the admin's
campaign page."""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alpespartners.access.models import Rol, UsuarioCliente
from alpespartners.messaging.models import CommandLog
from tests import factories
from tests.api.test_clientes_api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

URL = "/api/v1/reportes/rendimiento"
D0, D1, D2, D3 = (date(2026, 11, 9) + timedelta(days=n) for n in range(4))


def local(dia: date, hora: int, minuto: int = 0) -> datetime:
    """A time on that day in the platform's TIME_ZONE (America/Bogota, UTC-5)."""
    return timezone.make_aware(datetime.combine(dia, time(hora, minuto)))


def clicks(n: int, id_campania, id_socio, cuando: datetime, **campos) -> None:
    factories.ClickFactory.create_batch(n, id_campania=id_campania, id_socio=id_socio, ocurrido_en=cuando, **campos)


def comision(id_campania, id_socio, cuando: datetime, valor: str, **campos):
    return factories.TransaccionFactory(id_campania=id_campania, id_socio=id_socio, ocurrida_en=cuando,
                                        pagable_desde=cuando, comision=Decimal(valor), **campos)


def cop(valor: str) -> dict:
    return {"valor": valor, "moneda": "COP"}


def fila(dia, id_campania, id_socio, *, clicks=0, facturables=0, impresiones=0, conversiones=0, tasa=None,
         comisiones=()) -> dict:
    return {"dia": dia.isoformat(), "id_campania": str(id_campania), "id_socio": str(id_socio), "clicks": clicks,
            "clicks_facturables": facturables, "impresiones": impresiones, "conversiones": conversiones,
            "tasa_conversion": tasa, "comisiones": list(comisiones)}


def report(api, **params) -> dict:
    answer = api.get(URL, params)
    assert answer.status_code == 200, answer.content[:500]
    return answer.json()


def test_the_figures_of_each_day_campaign_and_partner(api):
    # the sorted ids make the expected order plain: c1 < c2, p < q
    c1, c2, p, q = sorted(uuid.uuid4() for _ in range(4))
    # D1, c1, p: 4 clicks (one not billable; one at 23:30 local, already D2 in UTC) and 2 impressions;
    # a sale, a sign-up and a billed click's commission (not a conversion)
    clicks(2, c1, p, local(D1, 10))
    clicks(1, c1, p, local(D1, 10, 5), facturable=False, motivo="bot")
    clicks(1, c1, p, local(D1, 23, 30))
    clicks(2, c1, p, local(D1, 11), tipo="IMPRESION")
    comision(c1, p, local(D1, 12), "1000")
    comision(c1, p, local(D1, 13), "500", tipo="CONVERSION")
    comision(c1, p, local(D1, 14), "0.30", tipo="CLICK", monto_conversion=None)
    # D1, c1, q: 3 clicks, a sale, and a USD sale refunded before payment (a conversion, no commission)
    clicks(3, c1, q, local(D1, 9))
    comision(c1, q, local(D1, 15), "200")
    comision(c1, q, local(D1, 16), "5", moneda="USD", estado="REVERTIDA")
    # D1, c2, p: an impression only
    clicks(1, c2, p, local(D1, 8), tipo="IMPRESION")
    # D2, c1, p: a click just after local midnight; a USD sale; a COP sale refunded before payment; and
    # the adjustment of a sale paid on D0, dated when it was refunded
    clicks(1, c1, p, local(D2, 0, 10))
    comision(c1, p, local(D2, 9), "5.00", moneda="USD")
    comision(c1, p, local(D2, 10), "1000", estado="REVERTIDA")
    pagada = comision(c1, p, local(D0, 12), "300", estado="PAGADA")
    comision(c1, p, local(D2, 11), "-300", id=uuid.uuid4(), tipo="AJUSTE", id_externo=pagada.id_externo,
             monto_conversion=None, id_transaccion_original=pagada.id)
    # outside D1..D2: the last minute of D0 and the first of D3
    clicks(1, c1, p, local(D0, 23, 59))
    comision(c1, p, local(D3, 0), "700")

    body = report(api, desde=D1.isoformat(), hasta=D2.isoformat())

    assert body["count"] == 4 and body["next"] is None and body["previous"] is None
    assert body["results"] == [
        fila(D1, c1, p, clicks=4, facturables=3, impresiones=2, conversiones=2, tasa="0.5000",
             comisiones=[cop("1500.30")]),
        fila(D1, c1, q, clicks=3, facturables=3, conversiones=2, tasa="0.6667", comisiones=[cop("200.00")]),
        fila(D1, c2, p, impresiones=1),
        fila(D2, c1, p, clicks=1, facturables=1, conversiones=2, tasa="2.0000",
             comisiones=[cop("-300.00"), {"valor": "5.00", "moneda": "USD"}]),
    ]
    # a filter narrows to its campaign or partner
    assert [row["id_socio"] for row in report(api, desde=D1.isoformat(), hasta=D2.isoformat(),
                                               id_campania=str(c1))["results"]] == [str(p), str(q), str(p)]
    assert [(row["dia"], row["id_campania"]) for row in report(api, desde=D1.isoformat(), hasta=D1.isoformat(),
                                                               id_socio=str(p))["results"]] == \
        [(D1.isoformat(), str(c1)), (D1.isoformat(), str(c2))]


def test_by_default_the_last_30_days_up_to_today(api):
    hoy = timezone.localdate()
    id_campania, id_socio = uuid.uuid4(), uuid.uuid4()
    for dias_atras in (0, 29, 30):
        clicks(1, id_campania, id_socio, local(hoy - timedelta(days=dias_atras), 0, 1))

    body = report(api)

    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["dia"] for row in body["results"]] == [(hoy - timedelta(days=29)).isoformat(), hoy.isoformat()]
    # the 30 days up to hasta
    assert [row["dia"] for row in report(api, hasta=(hoy - timedelta(days=1)).isoformat())["results"]] == \
        [(hoy - timedelta(days=30)).isoformat(), (hoy - timedelta(days=29)).isoformat()]


def test_a_long_report_is_paginated(api):
    id_campania, id_socio = uuid.uuid4(), uuid.uuid4()
    for dia in range(60):
        clicks(1, id_campania, id_socio, local(D1 - timedelta(days=dia), 12))

    first = report(api, desde=(D1 - timedelta(days=59)).isoformat(), hasta=D1.isoformat())
    second = api.get(first["next"]).json()

    assert (first["count"], len(first["results"]), len(second["results"])) == (60, 50, 10)
    days = [row["dia"] for row in first["results"] + second["results"]]
    assert days == sorted(days) and len(set(days)) == 60


@pytest.mark.parametrize("params, field", [
    ({"desde": "2026-11-10", "hasta": "2026-11-09"}, "desde"),
    ({"desde": "2025-11-09", "hasta": "2026-11-11"}, "hasta"),  # 367 days apart; 366 is the most
    ({"desde": "ayer"}, "desde"),
    ({"hasta": "2026-13-01"}, "hasta"),
    ({"desde": "1899-12-31"}, "desde"),
    ({"desde": ""}, "desde"),
    ({"id_campania": "no-es-un-uuid"}, "id_campania"),
    ({"id_socio": ""}, "id_socio"),
    ({"page": "x"}, "page"),
])
def test_bad_parameters_are_a_400_and_write_nothing(api, params, field):
    answer = api.get(URL, params)
    error = assert_error(answer, 400, "datos_invalidos")
    assert field in error["details"]
    assert CommandLog.objects.count() == 0


def test_dates_366_days_apart_are_accepted(api):
    assert report(api, desde="2025-11-09", hasta="2026-11-10")["count"] == 0


def _client(django_user_model, rol=None, id_cliente=None) -> APIClient:
    user = django_user_model.objects.create_user(f"usuario-{uuid.uuid4()}")
    if rol:
        UsuarioCliente.objects.create(user=user, id_cliente=id_cliente, rol=rol)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_each_role_sees_only_its_rows_and_no_filter_widens_them(api, django_user_model):
    marca_a, marca_b, p, q = (uuid.uuid4() for _ in range(4))
    campania_a = factories.CampaniaLocalFactory(id=uuid.uuid4(), id_marca=marca_a).id
    campania_b = factories.CampaniaLocalFactory(id=uuid.uuid4(), id_marca=marca_b).id
    # clicks only, commissions only, and both
    clicks(2, campania_a, p, local(D1, 10))
    comision(campania_a, q, local(D1, 11), "100")
    clicks(1, campania_b, q, local(D1, 12))
    comision(campania_b, q, local(D1, 13), "100")
    marca, socio = _client(django_user_model, Rol.MARCA, marca_a), _client(django_user_model, Rol.SOCIO, q)
    rango = {"desde": D1.isoformat(), "hasta": D1.isoformat()}

    def seen(client, **filtros) -> set:
        return {(uuid.UUID(row["id_campania"]), uuid.UUID(row["id_socio"]))
                for row in report(client, **rango, **filtros)["results"]}

    assert seen(api) == {(campania_a, p), (campania_a, q), (campania_b, q)}
    assert seen(marca) == {(campania_a, p), (campania_a, q)}
    assert seen(socio) == {(campania_a, q), (campania_b, q)}
    assert seen(marca, id_campania=str(campania_b)) == set()
    assert seen(marca, id_socio=str(q)) == {(campania_a, q)}
    assert seen(socio, id_socio=str(p)) == set()
    answer = _client(django_user_model).get(URL, rango)
    assert "no está vinculado" in assert_error(answer, 403, "sin_permiso")["message"]
    assert_error(_client(django_user_model).get(URL, {"desde": "ayer"}), 403, "sin_permiso")  # not told what it may ask


def test_the_report_s_queries_do_not_grow_with_its_rows(api, django_user_model):
    marca = uuid.uuid4()

    def queries_for(client, n_campanias: int) -> tuple[int, int]:
        for _ in range(n_campanias):
            id_campania = factories.CampaniaLocalFactory(id=uuid.uuid4(), id_marca=marca).id
            for id_socio in (uuid.uuid4(), uuid.uuid4()):
                for dia in (D1, D2):
                    clicks(2, id_campania, id_socio, local(dia, 10))
                    comision(id_campania, id_socio, local(dia, 11), "100")
                    comision(id_campania, id_socio, local(dia, 12), "1", moneda="USD")
        with CaptureQueriesContext(connection) as captured:
            count = report(client, desde=D1.isoformat(), hasta=D2.isoformat())["count"]
        return count, len(captured)

    marca_client = _client(django_user_model, Rol.MARCA, marca)
    report(api), report(marca_client)  # what a first request reads once per process is not counted
    small, large = queries_for(api, 1), queries_for(api, 10)
    assert (small[0], large[0]) == (4, 44) and small[1] == large[1], (small, large)
    assert queries_for(marca_client, 0)[1] == queries_for(marca_client, 5)[1]


# --- the admin's campaign page ------------------------------------------------------------------


def test_the_campaign_page_charts_the_report_s_figures(admin_client, api):
    hoy, ayer = timezone.localdate(), timezone.localdate() - timedelta(days=1)
    campania = factories.CampaniaViewFactory(id_cliente=uuid.uuid4())
    p, q = uuid.uuid4(), uuid.uuid4()
    clicks(3, campania.id, p, local(hoy, 0, 5))
    clicks(1, campania.id, q, local(ayer, 12))
    clicks(1, campania.id, q, local(ayer, 12), tipo="IMPRESION")  # not a click
    comision(campania.id, p, local(hoy, 0, 10), "1000")
    comision(campania.id, q, local(hoy, 0, 20), "500", tipo="CONVERSION")
    comision(campania.id, q, local(ayer, 13), "2.50", moneda="USD")
    comision(campania.id, q, local(ayer, 14), "400", estado="REVERTIDA")
    comision(campania.id, p, local(hoy - timedelta(days=30), 12), "9999")  # before the chart's 30 days
    clicks(7, uuid.uuid4(), p, local(hoy, 0, 5))  # another campaign's

    html = admin_client.get(reverse("admin:campanias_campaniaview_change", args=[campania.id])).content.decode()

    assert 'id="grafico-clicks"' in html and 'aria-label="Clics por día"' in html
    assert "Clics por día · últimos 30 días · total 4" in html
    assert f"{hoy:%Y-%m-%d}: 3</title>" in html and f"{ayer:%Y-%m-%d}: 1</title>" in html
    assert 'id="grafico-conversiones"' in html and "Conversiones por día · últimos 30 días · total 4" in html
    assert 'id="grafico-comisiones-COP"' in html
    assert "Comisiones por día (COP) · últimos 30 días · total 1\xa0500,00 COP" in html
    assert f"{hoy:%Y-%m-%d}: 1\xa0500,00 COP</title>" in html
    assert "Comisiones por día (USD) · últimos 30 días · total 2,50 USD" in html
    # the same numbers as the API's rows of the campaign, summed over its partners
    rows = report(api, id_campania=str(campania.id))["results"]
    assert sum(row["clicks"] for row in rows) == 4 and sum(row["conversiones"] for row in rows) == 4
    assert sum(Decimal(monto["valor"]) for row in rows for monto in row["comisiones"] if monto["moneda"] == "COP") \
        == Decimal("1500.00")


def test_a_campaign_without_activity_charts_zeros(admin_client):
    campania = factories.CampaniaViewFactory(id_cliente=uuid.uuid4())

    html = admin_client.get(reverse("admin:campanias_campaniaview_change", args=[campania.id])).content.decode()

    assert "Clics por día · últimos 30 días · total 0" in html
    assert "Conversiones por día · últimos 30 días · total 0" in html
    assert "grafico-comisiones" not in html  # no currency yet
    assert html.count("<rect ") == 2 * 30


def test_a_day_of_refunds_only_draws_no_bar(admin_client):
    ayer = timezone.localdate() - timedelta(days=1)
    campania = factories.CampaniaViewFactory(id_cliente=uuid.uuid4())
    id_socio = uuid.uuid4()
    pagada = comision(campania.id, id_socio, local(ayer - timedelta(days=40), 12), "300", estado="PAGADA")
    comision(campania.id, id_socio, local(ayer, 12), "-300", id=uuid.uuid4(), tipo="AJUSTE",
             id_externo=pagada.id_externo, monto_conversion=None, id_transaccion_original=pagada.id)

    html = admin_client.get(reverse("admin:campanias_campaniaview_change", args=[campania.id])).content.decode()

    assert "Comisiones por día (COP) · últimos 30 días · total -300,00 COP" in html
    assert f"{ayer:%Y-%m-%d}: -300,00 COP</title>" in html
    assert 'height="-' not in html  # a negative height is invalid SVG
