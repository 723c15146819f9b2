"""A campaign's budget and a batch of conversions decided against it (pagos/domain/comisiones.py),
without a database."""

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from alpespartners.seedwork.domain import Monto
from pagos.domain import (CampaniaVigente, Conversion, Presupuesto, PresupuestoAgotado, Rechazo, decidir_conversiones,
                          id_transaccion)

AHORA = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
BOGOTA = ZoneInfo("America/Bogota")
# FIJA terms only: the smallest commission is 0.05, so a budget under it is exhausted
FIJAS = {"VENTA": {"tipo": "FIJA", "valor": "2.50"}, "CLICK": {"tipo": "FIJA", "valor": "0.10"},
         "IMPRESION": {"tipo": "FIJA", "valor": "0.05"}}
SOCIO = uuid.uuid4()


def cop(valor: str) -> Monto:
    return Monto(Decimal(valor), "COP")


def campania(comisiones=FIJAS) -> CampaniaVigente:
    return CampaniaVigente(id=uuid.uuid4(), estado="APROBADA", fecha_inicio=date(2026, 11, 1),
                           fecha_fin=date(2026, 12, 31), moneda="COP", comisiones=comisiones, dias_retencion=30)


def presupuesto(disponible: str, *, total="100.00", anunciado=False, comisiones=FIJAS) -> Presupuesto:
    return Presupuesto(campania=campania(comisiones), presupuesto=cop(total), disponible=cop(disponible),
                       agotado_publicado=anunciado)


def test_a_commission_that_fits_is_paid_out_of_the_budget():
    budget = presupuesto("10.00")
    assert budget.consumir(cop("2.50")) is None
    assert budget.disponible == cop("7.50")


def test_a_commission_larger_than_what_is_left_is_refused_whole_while_smaller_ones_still_fit():
    budget = presupuesto("2.00")
    assert budget.consumir(cop("2.50")) == Rechazo(
        "presupuesto_insuficiente", "Presupuesto insuficiente: quedan 2.00 COP y la comisión es 2.50 COP.")
    assert budget.disponible == cop("2.00") and not budget.agotado
    assert budget.consumir(cop("0.10")) is None and budget.disponible == cop("1.90")


def test_a_budget_no_commission_of_its_terms_fits_in_is_exhausted():
    budget = presupuesto("0.04")  # the smallest FIJA is 0.05
    assert budget.agotado
    assert budget.consumir(cop("0.10")) == Rechazo(
        "presupuesto_agotado", "Presupuesto agotado: quedan 0.04 COP y la comisión es 0.10 COP.")
    assert budget.disponible == cop("0.04")


def test_with_a_porcentaje_term_the_budget_is_exhausted_only_at_zero():
    porcentaje = {**FIJAS, "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}}
    assert not presupuesto("0.01", comisiones=porcentaje).agotado
    assert presupuesto("0.00", comisiones=porcentaje).agotado


def test_exhaustion_is_announced_once_with_what_is_left():
    budget = presupuesto("0.04")
    evento = budget.anunciar_agotado()
    assert isinstance(evento, PresupuestoAgotado)
    assert (evento.aggregate_id, evento.id_campania, evento.presupuesto, evento.disponible) == (
        budget.campania.id, budget.campania.id, cop("100.00"), cop("0.04"))
    assert budget.agotado_publicado
    assert budget.anunciar_agotado() is None


def test_a_budget_with_room_or_already_announced_announces_nothing():
    assert presupuesto("0.05").anunciar_agotado() is None
    assert presupuesto("0.00", anunciado=True).anunciar_agotado() is None


# --- a batch ---------------------------------------------------------------------------------


def conversion(budget: Presupuesto, id_externo: str, tipo="CLICK", ocurrida_en=AHORA) -> Conversion:
    monto = cop("100.00") if tipo == "VENTA" else None  # a sale is worth an amount; its term pays 2.50 FIJA
    return Conversion(id_externo, budget.campania.id, SOCIO, tipo, monto, ocurrida_en)


def decidir(conversiones, *budgets, registradas=(), inscritos=None):
    inscritos = {(budget.campania.id, SOCIO) for budget in budgets} if inscritos is None else inscritos
    return decidir_conversiones(conversiones, presupuestos={budget.campania.id: budget for budget in budgets},
                                inscritos=inscritos, estados_socios={SOCIO: "ACTIVO"}, registradas=set(registradas),
                                ahora=AHORA, zona=BOGOTA)


def resultados(decididas) -> list[tuple[str, str | None]]:
    return [(decision.resultado.value, decision.rechazo.codigo if decision.rechazo else None)
            for decision in decididas.decisiones]


def test_a_batch_registers_each_commission_once_and_answers_duplicates_with_its_transaction():
    budget = presupuesto("10.00")
    ya_registrada = conversion(budget, "e-0")
    decididas = decidir([conversion(budget, "e-1"), ya_registrada, conversion(budget, "e-1"), conversion(budget, "e-2")],
                        budget, registradas={id_transaccion(budget.campania.id, "e-0")})

    assert resultados(decididas) == [("REGISTRADA", None), ("DUPLICADA", None), ("DUPLICADA", None),
                                     ("REGISTRADA", None)]
    primera, antes, repetida, _ = decididas.decisiones
    assert repetida.id_transaccion == primera.id_transaccion == id_transaccion(budget.campania.id, "e-1")
    assert antes.id_transaccion == id_transaccion(budget.campania.id, "e-0")
    assert [evento.id_externo for evento in decididas.comisiones] == ["e-1", "e-2"]  # a duplicate pays nothing
    assert budget.disponible == cop("9.80")
    assert decididas.presupuestos == [budget] and decididas.agotados == []


def test_each_decision_answers_as_the_api_shows_it():
    budget = presupuesto("10.00")
    registrada, rechazada = decidir([conversion(budget, "e-1"), conversion(budget, "e-2", tipo="VIDEO")],
                                    budget).decisiones
    assert registrada.as_result() == {
        "id_externo": "e-1", "id_campania": str(budget.campania.id), "resultado": "REGISTRADA",
        "id_transaccion": str(id_transaccion(budget.campania.id, "e-1")),
        "comision": {"valor": "0.10", "moneda": "COP"}, "codigo": None, "motivo": None,
    }
    assert rechazada.as_result() == {
        "id_externo": "e-2", "id_campania": str(budget.campania.id), "resultado": "RECHAZADA",
        "id_transaccion": None, "comision": None, "codigo": "tipo_desconocido",
        "motivo": "Tipo de conversión desconocido: VIDEO.",
    }


def test_a_registered_commission_is_payable_after_the_campaign_s_retention():
    budget = presupuesto("10.00")
    (evento,) = decidir([conversion(budget, "e-1")], budget).comisiones
    assert (evento.aggregate_id, evento.comision, evento.pagable_desde) == (
        id_transaccion(budget.campania.id, "e-1"), cop("0.10"), datetime(2026, 12, 28, 15, 0, tzinfo=timezone.utc))


def test_the_batch_that_exhausts_a_budget_announces_it_once_and_refuses_the_rest_as_exhausted():
    budget = presupuesto("2.60")
    decididas = decidir([conversion(budget, "e-1", tipo="VENTA"), conversion(budget, "e-2"),
                         conversion(budget, "e-3"), conversion(budget, "e-4")], budget)

    # 2.60 - 2.50 - 0.10 = 0.00: nothing of the terms fits any more
    assert resultados(decididas) == [("REGISTRADA", None), ("REGISTRADA", None),
                                     ("RECHAZADA", "presupuesto_agotado"), ("RECHAZADA", "presupuesto_agotado")]
    assert [(evento.id_campania, evento.disponible) for evento in decididas.agotados] == [
        (budget.campania.id, cop("0.00"))]
    assert budget.agotado_publicado and decididas.presupuestos == [budget]


def test_an_insufficient_budget_refuses_the_large_commission_and_keeps_the_campaign_running():
    budget = presupuesto("1.00")
    decididas = decidir([conversion(budget, "e-1", tipo="VENTA"), conversion(budget, "e-2")], budget)
    assert resultados(decididas) == [("RECHAZADA", "presupuesto_insuficiente"), ("REGISTRADA", None)]
    assert decididas.agotados == [] and budget.disponible == cop("0.90")


def test_a_budget_announced_exhausted_before_is_saved_but_not_announced_again():
    budget = presupuesto("0.00", anunciado=True)
    decididas = decidir([conversion(budget, "e-1")], budget)
    assert resultados(decididas) == [("RECHAZADA", "presupuesto_agotado")]
    assert decididas.agotados == [] and decididas.presupuestos == [budget]


def test_an_exhausted_budget_is_announced_only_when_a_conversion_reaches_it():
    budget = presupuesto("0.00")
    decididas = decidir([conversion(budget, "e-1")], budget, inscritos=set())  # refused before its budget
    assert resultados(decididas) == [("RECHAZADA", "socio_no_inscrito")]
    assert decididas.agotados == [] and decididas.presupuestos == [] and not budget.agotado_publicado


def test_budgets_of_different_campaigns_are_consumed_apart():
    llena, casi_vacia = presupuesto("10.00"), presupuesto("0.10")
    decididas = decidir([conversion(casi_vacia, "e-1"), conversion(llena, "e-1"), conversion(casi_vacia, "e-2")],
                        llena, casi_vacia)
    assert resultados(decididas) == [("REGISTRADA", None), ("REGISTRADA", None), ("RECHAZADA", "presupuesto_agotado")]
    assert [evento.id_campania for evento in decididas.agotados] == [casi_vacia.campania.id]
    assert (llena.disponible, casi_vacia.disponible) == (cop("9.90"), cop("0.00"))


def test_a_conversion_s_date_is_read_in_the_platform_s_time_zone():
    budget = presupuesto("10.00")
    # 03:00 UTC on 1 November is still 31 October in Bogotá, before the campaign starts
    decididas = decidir([conversion(budget, "e-1", ocurrida_en=datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc)),
                         conversion(budget, "e-2", ocurrida_en=datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc))],
                        budget)
    assert resultados(decididas) == [("RECHAZADA", "fuera_de_fechas"), ("REGISTRADA", None)]


def test_a_conversion_of_an_unknown_campaign_is_refused():
    desconocida = Conversion("e-1", uuid.uuid4(), SOCIO, "CLICK", None, AHORA)
    decididas = decidir([desconocida])
    assert resultados(decididas) == [("RECHAZADA", "campania_desconocida")]
