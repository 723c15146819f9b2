"""How every admin page shows JSON fields, instants and amounts: one format each."""

from datetime import datetime, timezone
from decimal import Decimal

from alpespartners.admin_display import instante, monto, tabla


def test_an_instant_is_shown_in_the_back_offices_zone_with_seconds_and_offset():
    cuando = datetime(2026, 12, 1, 3, 4, 5, tzinfo=timezone.utc)
    assert instante(cuando) == "30/11/2026 22:04:05 UTC-0500"
    assert instante("2026-12-01T03:04:05.123456+00:00") == "30/11/2026 22:04:05 UTC-0500"  # as JSON keeps it
    assert instante(None) == "—"


def test_json_is_a_small_escaped_table_with_its_instants_in_the_zone():
    html = tabla({"VENTA": {"tipo": "PORCENTAJE", "valor": "5"},
                  "pasos": [{"en": "2026-12-01T03:04:05Z", "paso": "<b>cobro</b>"}, {"en": None, "paso": "fin"}],
                  "activo": True, "vacio": [], "fecha": "2026-12-01"})
    assert '<table class="json"><tr><th>VENTA</th><td><table class="json"><tr><th>tipo</th><td>PORCENTAJE</td>' in html
    # a list of objects: one row each, under the union of their fields
    assert "<tr><th>en</th><th>paso</th></tr><tr><td>30/11/2026 22:04:05 UTC-0500</td><td>&lt;b&gt;cobro&lt;/b&gt;</td>" in html
    assert "<tr><td>—</td><td>fin</td></tr>" in html
    assert "<th>activo</th><td>sí</td>" in html and "<th>vacio</th><td>—</td>" in html
    assert "<th>fecha</th><td>2026-12-01</td>" in html  # a date alone is not an instant


def test_an_amount_has_the_currencys_decimals_and_the_locales_separators():
    assert monto(Decimal("25001.0000"), "COP") == "25\u00a0001,00 COP"
    assert monto(Decimal("1500"), "CLP") == "1\u00a0500 CLP"
