"""The input rules of issue 12, item 7, in the domain itself (no database): a command arriving on a
Pulsar command topic never passes through the API's serializers, so documents and commission values
in other scripts' digits, with underscores or exponents, are refused here too."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from alpespartners.seedwork.domain import MINOR_UNITS, DomainError, Monto, decimales
from campanias.domain import Campania, validar_comisiones
from cliente import domain
from cliente.domain import Cliente

HOY = date(2026, 11, 28)


@pytest.mark.parametrize("cedula", ["٥٢٧٨٩٤٥٦", "５２７８９４５６", "5278945٦", "52789456\n", "52 789 456", "52_789_456",
                                    52789456, None])
def test_a_cedula_is_six_to_ten_ascii_digits(cedula):
    with pytest.raises(DomainError) as refused:
        domain.validar_cedula(cedula)
    assert refused.value.field == "cedula"


@pytest.mark.parametrize("nit", ["٩٠٠١٢٣٤٥٦-٨", "900123456-٨", "900123456-8\n", "900123456 - 8", 9001234568, None])
def test_a_nit_is_nine_ascii_digits_a_hyphen_and_one_more(nit):
    with pytest.raises(DomainError) as refused:
        domain.validar_nit(nit)
    assert refused.value.field == "nit"


def test_registering_with_other_digits_is_refused_by_the_aggregate():
    with pytest.raises(DomainError, match="cédula"):
        Cliente.registrar(uuid.uuid4(), tipo="NATURAL", nombre="Lucía", email="lucia@correo.co", cedula="٥٢٧٨٩٤٥٦",
                          fecha_nacimiento=date(1990, 1, 1), hoy=HOY)
    assert domain.validar_cedula("52789456") == "52789456" and domain.validar_nit("900123456-8") == "900123456-8"


@pytest.mark.parametrize("valor", ["١٠", "1_000", "1e3", " 10", "10.", ".5", "1,5", "+5", "NaN", "Infinity", ""])
def test_a_commission_value_written_as_text_is_plain_decimal(valor):
    with pytest.raises(DomainError, match="dígitos ASCII") as refused:
        validar_comisiones({"VENTA": {"tipo": "PORCENTAJE", "valor": valor}}, "COP")
    assert refused.value.field == "comisiones"


def test_a_percentage_takes_two_decimals_and_a_fixed_value_its_currencys():
    assert validar_comisiones({"VENTA": {"tipo": "PORCENTAJE", "valor": "7.25"}}, "CLP")["VENTA"]["valor"] == "7.25"
    with pytest.raises(DomainError, match="como máximo 2 decimales"):
        validar_comisiones({"VENTA": {"tipo": "PORCENTAJE", "valor": "7.125"}}, "COP")
    for moneda, unidades in MINOR_UNITS.items():
        exacto = "1" + ("." + "0" * (unidades - 1) + "5" if unidades else "")
        assert validar_comisiones({"CLICK": {"tipo": "FIJA", "valor": exacto}}, moneda)["CLICK"]["valor"] == exacto
        with pytest.raises(DomainError, match=f"como máximo {unidades} decimales"):
            validar_comisiones({"CLICK": {"tipo": "FIJA", "valor": "1." + "0" * unidades + "1"}}, moneda)
    # what counts is the value: 2.00 CLP is a whole number of pesos
    assert validar_comisiones({"CLICK": {"tipo": "FIJA", "valor": "2.00"}}, "CLP")["CLICK"]["valor"] == "2.00"


def test_a_campaign_from_the_command_topic_gets_the_same_rules():
    with pytest.raises(DomainError, match="como máximo 0 decimales") as refused:
        Campania.crear(uuid.uuid4(), id_cliente=uuid.uuid4(), estado_marca="ACTIVO", nombre="Navidad",
                       presupuesto=Monto(Decimal("100000"), "CLP"), fecha_inicio=HOY, fecha_fin=HOY + timedelta(days=10),
                       hoy=HOY, comisiones={"CLICK": {"tipo": "FIJA", "valor": "0.5"}})
    assert refused.value.field == "comisiones"


def test_a_commission_value_sent_as_a_json_integer_is_still_read():
    """A JSON number is not text to check; only float is refused (it is not exact)."""
    assert validar_comisiones({"CLICK": {"tipo": "FIJA", "valor": 2}}, "COP")["CLICK"]["valor"] == "2"


@pytest.mark.parametrize("valor", ["١٠٠", "1_000", "1e3", " 10", "10.", "Infinity"])
def test_a_monto_written_as_text_is_plain_decimal(valor):
    with pytest.raises(DomainError, match="dígitos ASCII"):
        Monto(valor, "COP")


def test_a_currency_is_three_ascii_capitals():
    with pytest.raises(DomainError, match="ISO 4217"):
        Monto(Decimal("10"), "ÇOP")
    assert Monto("10.50", "COP").valor == Decimal("10.50")


@pytest.mark.parametrize(("valor", "expected"), [
    ("10", 0), ("10.50", 1), ("10.00", 0), ("0.00", 0), ("0.001", 3), ("-2.5", 1), ("1E+3", 0), ("1.5E-7", 8),
    ("1" * 40 + ".25", 2),  # beyond the 28 digits of the decimal context, where quantize gives up
])
def test_decimal_places_that_count(valor, expected):
    assert decimales(Decimal(valor)) == expected
