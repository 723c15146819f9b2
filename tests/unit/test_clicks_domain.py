"""pagos' rules for clicks and impressions (pagos/domain/clicks.py): pure, no database."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from pagos import domain
from pagos.domain import MotivoNoFacturable


@pytest.mark.parametrize("direccion, truncada", [
    ("203.0.113.77", "203.0.113.0"),
    ("10.1.2.255", "10.1.2.0"),
    ("2001:db8:1234:5678:9abc::1", "2001:db8:1234::"),
    ("::ffff:198.51.100.9", "198.51.100.0"),  # an IPv4-mapped address is the IPv4 it is
    (" 203.0.113.77 ", "203.0.113.0"),
    ("", ""),
    ("not-an-address", ""),
])
def test_addresses_are_kept_truncated_ipv4_to_24_and_ipv6_to_48(direccion, truncada):
    assert domain.truncar_direccion(direccion) == truncada


def test_the_click_id_is_added_to_the_query_keeping_the_other_parameters_and_the_fragment():
    url = domain.url_con_click("https://tienda.co/p/zapatos?utm_source=socia&vacio=&q=a%20b#tallas", "abc-123")
    partes = urlsplit(url)
    assert (partes.scheme, partes.netloc, partes.path, partes.fragment) == ("https", "tienda.co", "/p/zapatos", "tallas")
    assert parse_qsl(partes.query, keep_blank_values=True) == [
        ("utm_source", "socia"), ("vacio", ""), ("q", "a b"), ("click_id", "abc-123")]


def test_a_landing_page_without_a_query_gets_one():
    assert domain.url_con_click("https://tienda.co", "x1") == "https://tienda.co?click_id=x1"


def test_a_click_id_already_in_the_landing_url_is_replaced_by_ours():
    url = domain.url_con_click("https://tienda.co/?click_id=viejo&a=1", "nuevo")
    assert parse_qsl(urlsplit(url).query) == [("a", "1"), ("click_id", "nuevo")]


@pytest.mark.parametrize("estado, es_bot, motivo", [
    ("APROBADA", False, None),
    ("APROBADA", True, MotivoNoFacturable.BOT),
    ("PAUSADA", False, MotivoNoFacturable.CAMPANIA_NO_APROBADA),
    ("PAUSADA", True, MotivoNoFacturable.CAMPANIA_NO_APROBADA),  # the campaign's reason comes first
    ("PENDIENTE", False, MotivoNoFacturable.CAMPANIA_NO_APROBADA),
    ("FINALIZADA", False, MotivoNoFacturable.CAMPANIA_NO_APROBADA),
    ("", False, MotivoNoFacturable.CAMPANIA_NO_APROBADA),  # a campaign pagos has not heard of yet
])
def test_reasons_known_without_the_visitor_history(estado, es_bot, motivo):
    assert domain.motivo_sin_visitante(estado, es_bot) == motivo


@pytest.mark.parametrize("primera_vez, motivo", [
    (True, None), (False, MotivoNoFacturable.REPETIDO), (None, MotivoNoFacturable.SIN_VERIFICAR)])
def test_a_repeat_or_an_unverifiable_visitor_is_not_billable(primera_vez, motivo):
    assert domain.motivo_por_repeticion(primera_vez) == motivo


def test_the_visitor_hash_is_keyed_and_tells_apart_visitors_behind_one_address():
    chrome, firefox = "Mozilla/5.0 Chrome/120", "Mozilla/5.0 Firefox/121"
    a = domain.huella_visitante(b"secreto", "203.0.113.77", chrome)
    assert a == domain.huella_visitante(b"secreto", "203.0.113.77", chrome)
    assert a != domain.huella_visitante(b"secreto", "203.0.113.77", firefox)  # same carrier NAT, another person
    assert a != domain.huella_visitante(b"secreto", "203.0.113.78", chrome)  # the full address, not the /24
    assert a != domain.huella_visitante(b"otro", "203.0.113.77", chrome)
    assert "203.0.113" not in a


def test_stored_headers_are_bounded_and_lose_nul_characters():
    assert domain.acotar("a" * 2000, domain.USER_AGENT_MAX) == "a" * domain.USER_AGENT_MAX
    assert domain.acotar("Mozilla\x00/5.0", 100) == "Mozilla/5.0"
