"""Rules of conversions, commissions and payouts (pagos/domain/comisiones.py and payouts.py), without a
database."""

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from alpespartners.seedwork.domain import DomainError, Monto
from pagos import domain
from pagos.domain import CampaniaVigente, Conversion, EstadoPayout, EstadoTransaccion, Payout, Rechazo, ResultadoIntento

AHORA = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
COMISIONES = {
    "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}, "CONVERSION": {"tipo": "PORCENTAJE", "valor": "3"},
    "CLICK": {"tipo": "FIJA", "valor": "0.10"}, "IMPRESION": {"tipo": "FIJA", "valor": "0.01"},
}
CAMPANIA = CampaniaVigente(id=uuid.uuid4(), estado="APROBADA", fecha_inicio=date(2026, 11, 1),
                           fecha_fin=date(2026, 12, 31), moneda="COP", comisiones=COMISIONES, dias_retencion=30)


def cop(valor: str) -> Monto:
    return Monto(Decimal(valor), "COP")


@pytest.mark.parametrize(("termino", "monto", "moneda", "esperado"), [
    ({"tipo": "PORCENTAJE", "valor": "5"}, "10.25", "COP", "0.51"),  # 0.5125 → down
    ({"tipo": "PORCENTAJE", "valor": "3"}, "10.50", "COP", "0.32"),  # 0.315 → half up
    ({"tipo": "PORCENTAJE", "valor": "2.5"}, "1", "COP", "0.03"),  # 0.025 → half up
    ({"tipo": "PORCENTAJE", "valor": "5"}, "1999", "CLP", "100"),  # 99.95 → no minor unit in CLP
    ({"tipo": "FIJA", "valor": "0.10"}, None, "COP", "0.10"),
    ({"tipo": "FIJA", "valor": "0.10"}, None, "CLP", "0"),
])
def test_a_commission_is_rounded_half_up_to_the_currency_minor_unit(termino, monto, moneda, esperado):
    comision = domain.calcular_comision(termino, Monto(Decimal(monto), moneda) if monto else None, moneda)
    assert comision == Monto(Decimal(esperado), moneda) and str(comision.valor) == esperado


def evaluar(conversion=None, campania=CAMPANIA, inscrito=True, estado_socio="ACTIVO"):
    conversion = conversion or Conversion("e-1", CAMPANIA.id, uuid.uuid4(), "VENTA", cop("200.00"), AHORA)
    return domain.evaluar_conversion(conversion, campania, inscrito, estado_socio,
                                     conversion.ocurrida_en.astimezone(ZoneInfo("America/Bogota")).date(), AHORA)


def test_a_valid_sale_earns_its_commission():
    assert evaluar() == cop("10.00")


@pytest.mark.parametrize(("cambio", "codigo"), [
    ({"campania": None}, "campania_desconocida"),
    ({"campania": CampaniaVigente(**{**CAMPANIA.__dict__, "estado": "FINALIZADA"})}, "campania_no_aprobada"),
    ({"inscrito": False}, "socio_no_inscrito"),
    ({"estado_socio": "SUSPENDIDO"}, "socio_suspendido"),
    ({"estado_socio": None}, "socio_suspendido"),
    ({"conversion": Conversion("e", CAMPANIA.id, uuid.uuid4(), "VENTA", None, AHORA)}, "monto_requerido"),
    ({"conversion": Conversion("e", CAMPANIA.id, uuid.uuid4(), "CONVERSION", None, AHORA)}, "monto_requerido"),
    ({"conversion": Conversion("e", CAMPANIA.id, uuid.uuid4(), "VENTA", Monto(Decimal(1), "USD"), AHORA)},
     "moneda_distinta"),
    ({"conversion": Conversion("e", CAMPANIA.id, uuid.uuid4(), "CLICK", None, datetime(2026, 10, 31, 12, tzinfo=timezone.utc))},
     "fuera_de_fechas"),
    ({"conversion": Conversion("e", CAMPANIA.id, uuid.uuid4(), "CLICK", None, AHORA + timedelta(minutes=6))},
     "fecha_futura"),
    ({"conversion": Conversion("e", CAMPANIA.id, uuid.uuid4(), "VENTA", cop("0.09"), AHORA)}, "comision_cero"),
])
def test_a_conversion_that_breaks_a_rule_earns_nothing_and_says_why(cambio, codigo):
    rechazo = evaluar(**cambio)
    assert isinstance(rechazo, Rechazo) and rechazo.codigo == codigo and rechazo.motivo


def test_a_conversion_a_few_minutes_ahead_of_our_clock_is_accepted():
    conversion = Conversion("e", CAMPANIA.id, uuid.uuid4(), "CLICK", None, AHORA + timedelta(minutes=4))
    assert evaluar(conversion) == cop("0.10")


def test_the_budget_pays_whole_commissions_and_never_goes_below_zero():
    minima = domain.comision_minima(COMISIONES, "COP")  # PORCENTAJE terms: 0.01
    assert domain.consumir_presupuesto(cop("10.00"), cop("10.00"), minima) == cop("0.00")
    rechazo = domain.consumir_presupuesto(cop("9.99"), cop("10.00"), minima)
    # 9.99 still pays smaller commissions: this one is refused, the budget is not exhausted
    assert rechazo == Rechazo("presupuesto_insuficiente",
                              "Presupuesto insuficiente: quedan 9.99 COP y la comisión es 10.00 COP.")


FIJAS = {"VENTA": {"tipo": "FIJA", "valor": "2.50"}, "CONVERSION": {"tipo": "FIJA", "valor": "1.00"},
         "CLICK": {"tipo": "FIJA", "valor": "0.10"}, "IMPRESION": {"tipo": "FIJA", "valor": "0.05"}}
PORCENTAJES = {"VENTA": {"tipo": "PORCENTAJE", "valor": "5"}, "CONVERSION": {"tipo": "PORCENTAJE", "valor": "100"}}


@pytest.mark.parametrize(("comisiones", "moneda", "minima"), [
    (FIJAS, "COP", "0.05"),  # only FIJA: the smallest valor
    (FIJAS, "USD", "0.05"),
    ({**FIJAS, "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}}, "COP", "0.01"),  # mixed: one minor unit
    (COMISIONES, "USD", "0.01"),
    (PORCENTAJES, "COP", "0.01"),  # only PORCENTAJE
    (PORCENTAJES, "CLP", "1"),  # CLP has no minor unit
    (PORCENTAJES, "JPY", "1"),
    ({"CLICK": {"tipo": "FIJA", "valor": "50"}, "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}}, "CLP", "1"),
    ({"CLICK": {"tipo": "FIJA", "valor": "0.015"}, "VENTA": {"tipo": "FIJA", "valor": "3"}}, "COP", "0.02"),  # rounded
    # a FIJA that rounds to zero in the currency yields nothing (comision_cero): it does not count
    ({"CLICK": {"tipo": "FIJA", "valor": "0.10"}, "VENTA": {"tipo": "FIJA", "valor": "50"}}, "CLP", "50"),
])
def test_the_smallest_commission_is_the_smallest_fija_or_one_minor_unit_with_any_porcentaje(comisiones, moneda,
                                                                                          minima):
    assert domain.comision_minima(comisiones, moneda) == Monto(Decimal(minima), moneda)


@pytest.mark.parametrize(("disponible", "minima", "agotado"), [
    ("0.00", "0.01", True), ("0.01", "0.01", False), ("999381.76", "0.01", False),
    ("0.04", "0.05", True), ("0.05", "0.05", False),
])
def test_a_budget_is_exhausted_only_when_the_smallest_commission_no_longer_fits(disponible, minima, agotado):
    assert domain.presupuesto_agotado(cop(disponible), cop(minima)) is agotado


def test_one_large_commission_is_refused_as_insufficient_while_the_campaign_still_has_budget():
    minima = domain.comision_minima(COMISIONES, "COP")
    rechazo = domain.consumir_presupuesto(cop("999381.76"), cop("1000000.00"), minima)
    assert rechazo == Rechazo("presupuesto_insuficiente", "Presupuesto insuficiente: quedan 999381.76 COP y la "
                                                          "comisión es 1000000.00 COP.")
    assert not domain.presupuesto_agotado(cop("999381.76"), minima)


@pytest.mark.parametrize(("comisiones", "disponible", "comision"), [
    (COMISIONES, "0.00", "0.10"),  # with a PORCENTAJE term: nothing left
    (FIJAS, "0.04", "0.10"),  # FIJA only: less than the smallest (0.05) left
])
def test_a_commission_that_finds_the_budget_exhausted_is_refused_as_exhausted(comisiones, disponible, comision):
    rechazo = domain.consumir_presupuesto(cop(disponible), cop(comision), domain.comision_minima(comisiones, "COP"))
    assert rechazo == Rechazo("presupuesto_agotado", f"Presupuesto agotado: quedan {disponible} COP y la comisión es "
                                                     f"{comision} COP.")


@pytest.mark.parametrize("monto", ["0", "-1", "1.001", "10000000000000000"])
def test_a_conversion_amount_must_be_positive_in_range_with_the_currency_decimals(monto):
    with pytest.raises(DomainError):
        domain.validar_monto_conversion(cop(monto))


def test_ids_are_computed_from_what_makes_them_unique():
    id_campania = uuid.uuid4()
    assert domain.id_transaccion(id_campania, "x") == domain.id_transaccion(id_campania, "x")
    assert domain.id_transaccion(id_campania, "x") != domain.id_transaccion(uuid.uuid4(), "x")
    assert domain.id_ciclo(date(2026, 11, 28)) == domain.id_ciclo(date(2026, 11, 28)) != domain.id_ciclo(date(2026, 11, 29))


def test_a_cut_off_takes_what_is_payable_until_the_end_of_that_day_in_the_platform_zone():
    bogota = ZoneInfo("America/Bogota")
    assert domain.fin_del_corte(date(2026, 11, 28), bogota) == datetime(2026, 11, 29, 5, 0, tzinfo=timezone.utc)


def test_a_cut_off_never_reaches_past_now():
    bogota, ahora = ZoneInfo("America/Bogota"), datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)
    assert domain.limite_de_pago(date(2027, 1, 9), bogota, ahora) == ahora  # the future pays only today's
    assert domain.limite_de_pago(date(2026, 11, 28), bogota, ahora) == datetime(2026, 11, 29, 5, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("total", "moneda", "paga"), [
    ("10.00", "COP", True), ("9.99", "COP", False), ("0.00", "USD", False), ("-5.00", "USD", False), ("0.01", "USD", True),
])
def test_a_partner_is_paid_from_the_currency_minimum_and_never_a_net_negative(total, moneda, paga):
    assert domain.supera_minimo(Decimal(total), moneda, {"COP": Decimal("10.00")}) is paga


ENVIO = domain.Envio(enviado_en=AHORA - timedelta(seconds=1), mascara="**** 4242")


def calculado() -> Payout:
    return Payout(uuid.uuid4(), id_socio=uuid.uuid4(), id_ciclo=uuid.uuid4(), fecha_corte=date(2026, 11, 28),
                  monto_total=cop("30.03"), transacciones=3, estado="CALCULADO", intentos=0)


def test_a_payout_goes_calculated_in_process_paid_and_says_so():
    payout = calculado()
    payout.procesar()
    assert (payout.estado, payout.intentos, payout.clave) == (EstadoPayout.EN_PROCESO, 1, f"payout:{payout.id}")
    payout.registrar_exito("sim_po_1", ENVIO, AHORA)
    creado, calculadas, *rest = payout.pull_events()
    # its first sending announces what its cycle calculated
    assert (creado.type, creado.id_ciclo, creado.fecha_corte, creado.moneda) == (
        "PayoutCreado", payout.id_ciclo, date(2026, 11, 28), "COP")
    assert (calculadas.type, calculadas.monto_total, calculadas.transacciones) == ("ComisionesCalculadas", cop("30.03"), 3)
    assert [event.type for event in rest] == ["PayoutProcesado", "PayoutExitoso"]
    with pytest.raises(DomainError, match="Solo un payout EN_PROCESO puede fallar; este está EXITOSO."):
        payout.registrar_fallo("tarde", "declinado", AHORA, ENVIO)


def test_a_failed_payout_is_retried_with_a_new_key_only_with_all_its_commissions():
    payout = calculado()
    payout.procesar()
    payout.registrar_fallo("Fondos insuficientes.", "fondos_insuficientes", AHORA, ENVIO)
    with pytest.raises(DomainError, match="ciclo posterior"):
        payout.reintentar(transacciones_recuperadas=2)
    payout.reintentar(transacciones_recuperadas=3)
    payout.pull_events()
    payout.procesar()
    assert (payout.estado, payout.clave) == (EstadoPayout.EN_PROCESO, f"payout:{payout.id}:2")
    assert [event.type for event in payout.pull_events()] == ["PayoutProcesado"]  # announced once, the first time
    assert not payout.primer_envio  # its rows came back with the retry: nothing to claim


def test_a_first_sending_claims_what_its_cycle_calculated_or_fails_unsent():
    payout = calculado()
    payout.procesar()
    assert payout.primer_envio
    payout.verificar_reclamo(3, cop("30.03"), AHORA)
    assert payout.estado is EstadoPayout.EN_PROCESO

    cambiado = calculado()
    cambiado.procesar()
    cambiado.verificar_reclamo(2, cop("20.02"), AHORA)
    assert cambiado.estado is EstadoPayout.FALLIDO
    assert cambiado.motivo_fallo == ("Sus comisiones cambiaron desde el cálculo (3 por 30.03 COP; ahora 2 por "
                                     "20.02 COP); el próximo ciclo las paga.")
    assert [event.type for event in cambiado.pull_events()] == ["PayoutCreado", "ComisionesCalculadas",
                                                                 "PayoutProcesado", "PayoutFallido"]


def test_only_a_calculated_payout_is_sent():
    payout = calculado()
    payout.procesar()
    with pytest.raises(DomainError, match="Solo un payout CALCULADO puede enviarse"):
        payout.procesar()


@pytest.mark.parametrize(("estado", "pagable_desde", "paga"), [
    ("PAGABLE", datetime(2026, 11, 28, 4, 59, tzinfo=timezone.utc), True),
    ("PENDIENTE", datetime(2026, 11, 28, 4, 59, tzinfo=timezone.utc), True),  # retention ends by date
    ("PAGABLE", datetime(2026, 11, 29, 5, 0, tzinfo=timezone.utc), False),  # payable only from the limit on
    ("EN_PAYOUT", datetime(2026, 11, 1, tzinfo=timezone.utc), False),  # another payout is paying it
    ("PAGADA", datetime(2026, 11, 1, tzinfo=timezone.utc), False),
    ("REVERTIDA", datetime(2026, 11, 1, tzinfo=timezone.utc), False),
])
def test_a_cycle_pays_commissions_in_no_payout_yet_out_of_retention_before_its_limit(estado, pagable_desde, paga):
    limite = domain.fin_del_corte(date(2026, 11, 28), ZoneInfo("America/Bogota"))  # 29 Nov 05:00 UTC
    assert domain.se_paga_en_ciclo(estado, pagable_desde, limite) is paga


@pytest.mark.parametrize(("estado_socio", "paga"), [("ACTIVO", True), ("SUSPENDIDO", False), (None, True)])
def test_a_cycle_pays_every_partner_but_a_suspended_one(estado_socio, paga):
    assert domain.se_paga_al_socio(estado_socio) is paga


def seguir(filas: dict[str, str], transicion) -> dict[str, str]:
    """The payout's rows after its commissions follow a transition (what the repository's UPDATE does)."""
    return {fila: transicion.hacia if estado == transicion.desde else estado for fila, estado in filas.items()}


def reclamar(filas: dict[str, str]) -> dict[str, str]:
    return {fila: domain.ESTADO_RECLAMADA if estado in domain.ESTADOS_POR_PAGAR else estado
            for fila, estado in filas.items()}


def test_each_sending_and_its_answer_go_on_the_payouts_timeline():
    payout = calculado()
    payout.procesar()
    payout.anotar_sin_respuesta("La pasarela no respondió.", ENVIO, AHORA)
    payout.registrar_fallo("Fondos insuficientes.", "fondos_insuficientes", AHORA, ENVIO)
    payout.reintentar(transacciones_recuperadas=3)
    payout.procesar()
    payout.registrar_exito("sim_po_2", ENVIO, AHORA)
    assert [(intento.intento, intento.resultado, intento.codigo, intento.mascara, intento.confirmacion)
            for intento in payout.intentos_nuevos] == [
        (1, ResultadoIntento.SIN_RESPUESTA, "sin_respuesta", "**** 4242", ""),
        (1, ResultadoIntento.RECHAZADO, "fondos_insuficientes", "**** 4242", ""),
        (2, ResultadoIntento.EXITOSO, "", "**** 4242", "sim_po_2"),
    ]

    sin_enviar = calculado()
    sin_enviar.procesar()
    sin_enviar.verificar_reclamo(2, cop("20.02"), AHORA)
    [intento] = sin_enviar.intentos_nuevos
    assert (intento.resultado, intento.codigo, intento.enviado_en) == (
        ResultadoIntento.NO_ENVIADO, "comisiones_cambiaron", None)


def test_a_paid_payout_pays_the_commissions_it_claimed():
    payout = calculado()
    filas = {"venta": EstadoTransaccion.PAGABLE, "click": EstadoTransaccion.PENDIENTE}
    payout.procesar()
    assert payout.estados_de_sus_comisiones() is None  # sent, not answered: they stay in the payout
    filas = reclamar(filas)
    assert set(filas.values()) == {EstadoTransaccion.EN_PAYOUT}
    payout.registrar_exito("sim_po_1", ENVIO, AHORA)
    assert seguir(filas, payout.estados_de_sus_comisiones()) == {"venta": "PAGADA", "click": "PAGADA"}


def test_a_failed_payout_releases_its_commissions_and_a_retry_takes_them_back():
    payout = calculado()
    payout.procesar()
    filas = reclamar({"venta": EstadoTransaccion.PAGABLE})
    payout.registrar_fallo("Fondos insuficientes.", "fondos_insuficientes", AHORA, ENVIO)
    filas = seguir(filas, payout.estados_de_sus_comisiones())
    assert filas == {"venta": "PAGABLE"}  # payable again: a retry or a later cycle pays it
    filas = seguir(filas, domain.AL_REINTENTARSE)
    assert filas == {"venta": "EN_PAYOUT"}
    payout.reintentar(transacciones_recuperadas=3)
    assert payout.estados_de_sus_comisiones() is None  # CALCULADO again: nothing moves until it is answered

