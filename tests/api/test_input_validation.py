"""Hostile input a probe found (issue 12, items 4 and 7): a lone surrogate or a body nested 10,000
levels deep answered 500; a cédula in Arabic-Indic digits registered a second client with the same
number; "1_000" and other scripts' digits were read as amounts. Each is a 400 in the error shape,
with the field's path in `details`, and nothing written."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from alpespartners.messaging.models import CommandLog
from alpespartners.parsers import MAX_JSON_DEPTH
from alpespartners.seedwork.domain import MINOR_UNITS
from cliente.models import ClienteView
from tests import events
from tests.api.write_endpoints import World, assert_refused, send, write_endpoints, written
from tests.factories import CampaniaBody, ClienteEmpresaBody, ClienteNaturalBody

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

ENDPOINTS = write_endpoints()


@pytest.fixture
def world(db) -> World:
    return World.create()


def at(details: dict, path: tuple[str, ...]):
    for key in path:
        assert key in details, (path, details)
        details = details[key]
    return details


def conversion(monto: dict | None = None, **fields) -> dict:
    body = {"id_externo": f"ext-{uuid.uuid4().hex[:8]}", "id_campania": str(uuid.uuid4()), "id_socio": str(uuid.uuid4()),
            "tipo": "VENTA", "monto": monto or {"valor": "100.00", "moneda": "COP"},
            "ocurrida_en": (timezone.now() - timedelta(minutes=1)).isoformat()}
    return body | fields


def campania(**fields) -> dict:
    return {**CampaniaBody(id_cliente=str(uuid.uuid4())), **fields}


# --- documents: ASCII digits only ----------------------------------------------------------------

NON_ASCII_CEDULAS = [
    "٥٢٧٨٩٤٥٦",  # Arabic-Indic: int() reads 52789456
    "۵۲۷۸۹۴۵۶",  # Extended Arabic-Indic (Persian)
    "５２７８９４５６",  # fullwidth
    "५२७८९४५६",  # Devanagari
    "5278945٦",  # one digit of another script
    "𝟓𝟐𝟕𝟖𝟗𝟒𝟓𝟔",  # mathematical bold digits
]
MALFORMED_CEDULAS = ["52.789.456", "52 789 456", "52_789_456", "+52789456", "-52789456", "5278945e1"]
NON_ASCII_NITS = ["٩٠٠١٢٣٤٥٦-٨", "９００１２３４５６-８", "900123456-٨", "٩00123456-8", "९००१२३४५६-८"]
MALFORMED_NITS = ["900.123.456-8", "900123456 - 8", "9001234568", "900_123_456-8", "900123456‐8"]  # last: U+2010


@pytest.mark.parametrize("cedula", NON_ASCII_CEDULAS + MALFORMED_CEDULAS)
def test_a_cedula_takes_ascii_digits_only(api, cedula):
    before = written()
    answer = send(api, "POST", "/api/v1/clientes", ClienteNaturalBody(cedula=cedula))
    error = assert_refused(answer, 400, "datos_invalidos", before)
    assert at(error["details"], ("cedula",)) == ["La cédula debe tener entre 6 y 10 dígitos (0-9), sin puntos ni espacios."]


@pytest.mark.parametrize("nit", NON_ASCII_NITS + MALFORMED_NITS)
def test_a_nit_takes_ascii_digits_only(api, nit):
    before = written()
    answer = send(api, "POST", "/api/v1/clientes", ClienteEmpresaBody(nit=nit))
    error = assert_refused(answer, 400, "datos_invalidos", before)
    assert "9 dígitos (0-9)" in at(error["details"], ("nit",))[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_commands")
def test_the_same_cedula_in_arabic_indic_digits_is_not_a_second_client(api):
    # given a client registered with cédula 52789456
    first = send(api, "POST", "/api/v1/clientes", ClienteNaturalBody(cedula="52789456"))
    assert first.status_code == 202 and api.get(first["Location"]).json()["status"] == "COMPLETADO"
    before = written()
    # when the same number is sent in Arabic-Indic digits
    answer = send(api, "POST", "/api/v1/clientes", ClienteNaturalBody(cedula="٥٢٧٨٩٤٥٦"))
    # then it is refused as input, not registered
    assert_refused(answer, 400, "datos_invalidos", before)
    assert list(ClienteView.objects.values_list("numero_documento", flat=True)) == ["52789456"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_commands")
@pytest.mark.parametrize(("body", "field"), [
    (ClienteNaturalBody(cedula="٥٢٧٨٩٤٥٦"), "cedula"),
    (ClienteEmpresaBody(nit="٩٠٠١٢٣٤٥٦-٨"), "nit"),
])
def test_a_command_on_comandos_cliente_with_other_digits_fails(body, field):
    """No API in between: the domain itself refuses the document."""
    command_id, client_id = uuid.uuid4(), uuid.uuid4()
    events.deliver("cliente", "comandos.cliente",
                   events.envelope("RegistrarCliente", client_id, {"id": str(client_id), **body}, event_id=command_id))
    command = CommandLog.objects.get(id=command_id)
    assert command.status == "FALLIDO" and command.error["field"] == field
    assert not ClienteView.objects.exists()


# --- amounts: plain decimal text ---------------------------------------------------------------------

BAD_AMOUNTS = [
    "١٠٠",  # Arabic-Indic digits: Decimal() reads 100
    "۱۰۰",  # Extended Arabic-Indic
    "１００",  # fullwidth
    "१००",  # Devanagari
    "1٠0",  # one digit of another script
    "1_000",  # Decimal() and int() take underscores
    "1e3", "1E3", "1e-2",
    " 10", "10 ", "\t10", "1 000",
    "10.", ".5", "1.2.3",
    "1,000", "1.000,50", "10,5",
    "+10", "--10",
    "NaN", "Infinity", "-Infinity", "sNaN",
    "0x10", "",
]
NOT_TEXT = [10, 12.5, True, None, ["10"], {"valor": "10"}]

# (endpoint, body with `valor` in it, where the field's error is in details)
AMOUNT_FIELDS = {
    "presupuesto": ("/api/v1/campanias", lambda valor: campania(presupuesto={"valor": valor, "moneda": "COP"}),
                    ("presupuesto", "valor")),
    "comision FIJA": ("/api/v1/campanias", lambda valor: campania(comisiones={"CLICK": {"tipo": "FIJA", "valor": valor}}),
                      ("comisiones", "CLICK", "valor")),
    "comision PORCENTAJE": ("/api/v1/campanias",
                            lambda valor: campania(comisiones={"VENTA": {"tipo": "PORCENTAJE", "valor": valor}}),
                            ("comisiones", "VENTA", "valor")),
    "monto de conversion": ("/api/v1/pagos/conversiones", lambda valor: conversion({"valor": valor, "moneda": "COP"}),
                            ("monto", "valor")),
    "monto en un lote": ("/api/v1/pagos/conversiones/lote",
                         lambda valor: {"conversiones": [conversion(), conversion({"valor": valor, "moneda": "COP"})]},
                         ("conversiones", "1", "monto", "valor")),
}


@pytest.mark.parametrize("field", AMOUNT_FIELDS)
@pytest.mark.parametrize("valor", BAD_AMOUNTS, ids=ascii)
def test_an_amount_is_plain_decimal_text(api, field, valor):
    path, body, error_path = AMOUNT_FIELDS[field]
    before = written()
    error = assert_refused(send(api, "POST", path, body(valor)), 400, "datos_invalidos", before)
    assert at(error["details"], error_path) == [
        'Debe ser un decimal escrito con dígitos ASCII, p. ej. "1250.50": sin espacios, separadores de miles, '
        "guiones bajos ni exponente."]


@pytest.mark.parametrize("field", AMOUNT_FIELDS)
@pytest.mark.parametrize("valor", NOT_TEXT, ids=repr)
def test_an_amount_is_a_json_string(api, field, valor):
    path, body, error_path = AMOUNT_FIELDS[field]
    before = written()
    error = assert_refused(send(api, "POST", path, body(valor)), 400, "datos_invalidos", before)
    at(error["details"], error_path)


@pytest.mark.parametrize("field", AMOUNT_FIELDS)
def test_an_amount_has_at_most_twenty_digits(api, field):
    path, body, error_path = AMOUNT_FIELDS[field]
    before = written()
    error = assert_refused(send(api, "POST", path, body("1" * 19 + ".55")), 400, "datos_invalidos", before)
    assert at(error["details"], error_path) == ["Admite como máximo 20 dígitos."]


@pytest.mark.parametrize("field", AMOUNT_FIELDS)
@pytest.mark.parametrize("valor", ["1", "10.5", "0.25", "007.50", "99.99"])
def test_plain_decimal_text_is_accepted(api, field, valor):
    path, body, _ = AMOUNT_FIELDS[field]
    answer = send(api, "POST", path, body(valor))
    assert answer.status_code == 202, answer.content


# The currency's decimals (MINOR_UNITS; COP has 2 in this project, CLP and JPY none): one more is refused.
CURRENCIES = sorted(MINOR_UNITS)


def too_fine(moneda: str) -> str:
    return "10." + "0" * MINOR_UNITS[moneda] + "1"


def exact(moneda: str) -> str:
    return "10" + ("." + "5" * MINOR_UNITS[moneda] if MINOR_UNITS[moneda] else "")


CURRENCY_FIELDS = {
    "presupuesto": ("/api/v1/campanias", lambda valor, moneda: campania(presupuesto={"valor": valor, "moneda": moneda}),
                    ("presupuesto",)),
    "comision FIJA": ("/api/v1/campanias", lambda valor, moneda: campania(
        presupuesto={"valor": "1000000", "moneda": moneda}, comisiones={"CLICK": {"tipo": "FIJA", "valor": valor}}),
        ("comisiones",)),
    "monto de conversion": ("/api/v1/pagos/conversiones",
                            lambda valor, moneda: conversion({"valor": valor, "moneda": moneda}), ("monto",)),
    "monto en un lote": ("/api/v1/pagos/conversiones/lote",
                         lambda valor, moneda: {"conversiones": [conversion({"valor": valor, "moneda": moneda})]},
                         ("conversiones", "0", "monto")),
}


@pytest.mark.parametrize("field", CURRENCY_FIELDS)
@pytest.mark.parametrize("moneda", CURRENCIES)
def test_an_amount_has_at_most_its_currencys_decimals(api, field, moneda):
    path, body, error_path = CURRENCY_FIELDS[field]
    before = written()
    error = assert_refused(send(api, "POST", path, body(too_fine(moneda), moneda)), 400, "datos_invalidos", before)
    message = str(at(error["details"], error_path))
    assert "decimales" in message and str(MINOR_UNITS[moneda]) in message, message
    assert send(api, "POST", path, body(exact(moneda), moneda)).status_code == 202


def test_a_percentage_has_at_most_two_decimals(api):
    before = written()
    body = campania(comisiones={"VENTA": {"tipo": "PORCENTAJE", "valor": "7.125"}})
    error = assert_refused(send(api, "POST", "/api/v1/campanias", body), 400, "datos_invalidos", before)
    assert error["details"]["comisiones"] == ["Un porcentaje de comisión (VENTA) admite como máximo 2 decimales."]
    body = campania(comisiones={"VENTA": {"tipo": "PORCENTAJE", "valor": "7.25"}})
    assert send(api, "POST", "/api/v1/campanias", body).status_code == 202


@pytest.mark.parametrize("valor", ["-5", "-0", "0", "0.00"])
def test_the_sign_rules_stay_those_of_each_amount(api, valor):
    """Syntax lets a minus sign through; every amount a request carries must still be above zero."""
    for path, body, error_path in [
        ("/api/v1/campanias", campania(presupuesto={"valor": valor, "moneda": "COP"}), ("presupuesto",)),
        ("/api/v1/campanias", campania(comisiones={"CLICK": {"tipo": "FIJA", "valor": valor}}), ("comisiones",)),
        ("/api/v1/pagos/conversiones", conversion({"valor": valor, "moneda": "COP"}), ("monto",)),
    ]:
        before = written()
        error = assert_refused(send(api, "POST", path, body), 400, "datos_invalidos", before)
        assert "mayor que cero" in str(at(error["details"], error_path))


# --- dates: ASCII digits too -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/clientes", ClienteNaturalBody(fecha_nacimiento="١٩٩٠-٠٥-١٧"), "fecha_nacimiento"),
    ("/api/v1/campanias", campania(fecha_fin="٢٠٩٩-١٢-٣١"), "fecha_fin"),
    ("/api/v1/pagos/conversiones", conversion(ocurrida_en="٢٠٢٦-١١-٢٠T١٠:٠٠:٠٠Z"), "ocurrida_en"),
    ("/api/v1/pagos/ciclos", {"fecha_corte": "２０２６-１１-２０"}, "fecha_corte"),
])
def test_a_date_in_other_digits_is_refused(api, path, body, field):
    before = written()
    error = assert_refused(send(api, "POST", path, body), 400, "datos_invalidos", before)
    assert error["details"][field] == ["Debe escribirse con dígitos ASCII (0-9), en formato ISO 8601."]


# --- lone surrogates and deep nesting: json_invalido, not 500 ---------------------------------------


SURROGATE_MESSAGE = "El JSON contiene un sustituto UTF-16 sin pareja (\\ud800-\\udfff), que no es un carácter."

# Every field the probe found answering 500, and a few others: the parser refuses them anywhere.
SURROGATE_BODIES = {
    "tipo de cliente": ("/api/v1/clientes", lambda s: ClienteNaturalBody(tipo=s)),
    "nombre de cliente": ("/api/v1/clientes", lambda s: ClienteNaturalBody(nombre="Ana " + s)),
    "tipo de medio de pago": ("/api/v1/clientes/{cliente}/medios-pago",
                              lambda s: {"tipo": s, "token": "tok_ok", "mascara": "**** 4242"}),
    "tipo de conversion": ("/api/v1/pagos/conversiones", lambda s: conversion(tipo=s)),
    "tipo en un lote": ("/api/v1/pagos/conversiones/lote", lambda s: {"conversiones": [conversion(tipo=s)]}),
    "clave de comisiones": ("/api/v1/campanias", lambda s: campania(comisiones={s: {"tipo": "FIJA", "valor": "1"}})),
    "tipo de una comision": ("/api/v1/campanias", lambda s: campania(comisiones={"VENTA": {"tipo": s, "valor": "1"}})),
    "clave desconocida": ("/api/v1/pagos/ciclos", lambda s: {s: 1}),
    "valor de un monto": ("/api/v1/pagos/conversiones", lambda s: conversion({"valor": s, "moneda": "COP"})),
}


@pytest.mark.parametrize("field", SURROGATE_BODIES)
@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "VENTA\udc00", "\ude00\ud83d"], ids=ascii)
def test_a_lone_surrogate_is_invalid_json(api, world, field, surrogate):
    path, body = SURROGATE_BODIES[field]
    before = written()
    answer = send(api, "POST", path.format(cliente=world.cliente), body(surrogate))
    error = assert_refused(answer, 400, "json_invalido", before)
    assert error["message"] == SURROGATE_MESSAGE


def test_a_surrogate_pair_is_a_character_and_accepted(api):
    """The escaped pair \\ud83d\\ude00 is one character (😀), not two lone surrogates."""
    raw = json.dumps(ClienteNaturalBody(nombre="Ana \U0001F600")).encode()
    assert b"\\ud83d\\ude00" in raw
    assert send(api, "POST", "/api/v1/clientes", raw=raw).status_code == 202


def test_utf8_bytes_of_a_surrogate_are_invalid_json(api):
    before = written()
    raw = b'{"tipo": "\xed\xa0\x80", "nombre": "Ana"}'  # UTF-8 has no encoding of U+D800: not UTF-8
    assert_refused(send(api, "POST", "/api/v1/clientes", raw=raw), 400, "json_invalido", before)


def nested(depth: int, kind: str) -> str:
    """`depth` levels of lists or objects as JSON text (json.dumps itself would overflow)."""
    opening, closing = ("[" * depth, "]" * depth) if kind == "list" else ('{"a":' * depth, "}" * depth)
    return opening + ("1" if kind == "object" else "") + closing


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_body_nested_too_deep_is_invalid_json(api, world, endpoint):
    """10,000 levels overflowed the parser's recursion; 1,000 parse, and are refused after."""
    for depth in (10_000, 1_000, MAX_JSON_DEPTH + 1):
        for kind in ("list", "object"):
            before = written()
            answer = send(api, endpoint.method, endpoint.path(world), raw=nested(depth, kind).encode())
            error = assert_refused(answer, 400, "json_invalido", before)
            assert error["message"] == f"El JSON anida más de {MAX_JSON_DEPTH} niveles de objetos o listas.", (depth, kind)


@pytest.mark.parametrize("kind", ["list", "object"])
def test_a_body_nested_to_the_limit_is_parsed(api, kind):
    before = written()
    answer = send(api, "POST", "/api/v1/clientes", raw=nested(MAX_JSON_DEPTH, kind).encode())
    assert_refused(answer, 400, "datos_invalidos", before)  # read, then refused by the serializer


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_lone_surrogate_is_refused_by_every_write_endpoint(api, world, endpoint):
    before = written()
    answer = send(api, endpoint.method, endpoint.path(world), {"motivo": "\ud800", "\udbff": ["\udc00"]})
    assert_refused(answer, 400, "json_invalido", before)
