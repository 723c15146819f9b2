"""Postbacks' rules without a database: the attribution window a click opens (pagos/domain/comisiones.py)
and the proof of who sends a postback (pagos/domain/postbacks.py)."""

import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pagos import domain
from pagos.domain import CampaniaVigente, Conversion, Credencial, CredencialInvalida, Rechazo
from tests.unit.test_comisiones_payouts_domain import AHORA, CAMPANIA, cop

SEMANA = CampaniaVigente(**{**CAMPANIA.__dict__, "ventana_atribucion_dias": 7})


def evaluar(ocurrida_en: datetime, click_en: datetime | None):
    conversion = Conversion("pedido", SEMANA.id, uuid.uuid4(), "VENTA", cop("200.00"), ocurrida_en, click_en)
    return domain.evaluar_conversion(conversion, SEMANA, True, "ACTIVO",
                                     ocurrida_en.astimezone(ZoneInfo("America/Bogota")).date(), AHORA)


@pytest.mark.parametrize("despues", [timedelta(0), timedelta(days=7), timedelta(minutes=-4)])
def test_a_sale_within_the_window_after_its_click_earns_its_commission(despues):
    click_en = AHORA - timedelta(days=7)
    assert evaluar(click_en + despues, click_en) == cop("10.00")


@pytest.mark.parametrize(("despues", "codigo"), [
    (timedelta(days=7, seconds=1), "click_fuera_de_ventana"),
    (timedelta(minutes=-6), "anterior_al_click"),  # more than the clocks' tolerance before it
])
def test_a_sale_outside_its_clicks_window_earns_nothing_and_says_why(despues, codigo):
    click_en = AHORA - timedelta(days=8)
    rechazo = evaluar(click_en + despues, click_en)
    assert isinstance(rechazo, Rechazo) and rechazo.codigo == codigo and rechazo.motivo


def test_a_conversion_the_brand_attributes_itself_has_no_window():
    assert evaluar(AHORA, None) == cop("10.00")


ID_MARCA = uuid.uuid4()
ACTUAL, ANTERIOR = Credencial(ID_MARCA, "pbs_actual"), Credencial(ID_MARCA, "pbs_anterior")
CUERPO = b'{"click_id": "x"}'


def test_a_signature_by_any_secret_in_force_names_that_credential():
    timestamp = str(int(AHORA.timestamp()))
    firma = domain.firmar("pbs_anterior", timestamp, CUERPO)
    assert firma.startswith("v1=") and len(firma) == 3 + 64
    assert domain.verificar_firma([ACTUAL, ANTERIOR], timestamp, CUERPO, firma, AHORA) == ANTERIOR


@pytest.mark.parametrize(("credenciales", "timestamp", "cuerpo", "motivo"), [
    ([ACTUAL], str(int(AHORA.timestamp())), b'{"click_id": "y"}', "no corresponde"),
    ([ACTUAL], str(int((AHORA - timedelta(minutes=6)).timestamp())), CUERPO, "5 minutos"),
    ([ACTUAL], str(int((AHORA + timedelta(minutes=6)).timestamp())), CUERPO, "5 minutos"),
    ([ACTUAL], "ayer", CUERPO, "tiempo Unix"),
    ([ACTUAL], "9" * 30, CUERPO, "tiempo Unix"),
    ([], str(int(AHORA.timestamp())), CUERPO, "no tiene un secreto"),
])
def test_a_signature_that_proves_nothing_says_why(credenciales, timestamp, cuerpo, motivo):
    firma = domain.firmar("pbs_actual", timestamp if timestamp.isdigit() and len(timestamp) < 20 else "0", CUERPO)
    with pytest.raises(CredencialInvalida, match=motivo):
        domain.verificar_firma(credenciales, timestamp, cuerpo, firma, AHORA)


def test_secrets_are_new_each_time_and_found_by_a_hash_that_is_not_them():
    uno, otro = domain.nuevo_secreto(), domain.nuevo_secreto()
    assert uno != otro and uno.startswith("pbs_") and len(uno) >= 40
    assert domain.huella(uno) != uno and len(domain.huella(uno)) == 64 and domain.huella(uno) == domain.huella(uno)


def test_a_rotation_keeps_the_old_secret_a_day_unless_revoked():
    assert domain.vence_anterior(AHORA, revocar_anterior=False) == AHORA + timedelta(hours=24)
    assert domain.vence_anterior(AHORA, revocar_anterior=True) == AHORA
