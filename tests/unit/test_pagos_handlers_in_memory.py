"""pagos' handlers of conversions, refunds, cycles and payouts, run on the in-memory Unit of Work and
repository (tests/fakes.py). No django_db marker: pytest-django refuses any database access, so a
pass proves the tier never touches one."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alpespartners.messaging.together import Origin
from alpespartners.seedwork.domain import DomainError, Monto, NotFound
from pagos import commands, domain, handlers
from pagos.domain import (CampaniaVigente, ComisionRegistrada, ComisionRevertida, ErrorTransitorioPasarela,
                          EstadoCliente, EstadoTransaccion, PresupuestoAgotado)
from tests.fakes import FakeUnitOfWork, InMemoryPagosRepository

FIJAS = {"VENTA": {"tipo": "FIJA", "valor": "2.50"}, "CLICK": {"tipo": "FIJA", "valor": "0.10"}}
PAGABLE, PENDIENTE, EN_PAYOUT, PAGADA = (EstadoTransaccion.PAGABLE, EstadoTransaccion.PENDIENTE,
                                         EstadoTransaccion.EN_PAYOUT, EstadoTransaccion.PAGADA)


@pytest.fixture(autouse=True)
def minimos(settings):
    settings.PAGOS_MONTOS_MINIMOS = {"COP": Decimal("10.00")}


@pytest.fixture
def repo():
    return InMemoryPagosRepository()


def cop(valor: str) -> Monto:
    return Monto(Decimal(valor), "COP")


def hoy():
    return timezone.localdate()


# --- test data ---------------------------------------------------------------------------------


def campania(repo, presupuesto="10.00", *, estado="APROBADA", comisiones=FIJAS, dias_retencion=30) -> uuid.UUID:
    vigente = CampaniaVigente(id=uuid.uuid4(), estado=estado, fecha_inicio=hoy() - timedelta(days=30),
                              fecha_fin=hoy() + timedelta(days=30), moneda="COP", comisiones=comisiones,
                              dias_retencion=dias_retencion)
    repo.agregar_campania(vigente, cop(presupuesto))
    return vigente.id


def socio(repo, id_campania=None, *, estado=EstadoCliente.ACTIVO, token="") -> uuid.UUID:
    id_socio = uuid.uuid4()
    repo.agregar_cliente(id_socio, estado, token, mascara="**** 4242" if token else "")
    if id_campania is not None:
        repo.inscribir(id_campania, id_socio)
    return id_socio


def conversion(id_campania, id_socio, id_externo=None, tipo="VENTA") -> commands.RegistrarConversion:
    return commands.RegistrarConversion(
        id_externo=id_externo or uuid.uuid4().hex, id_campania=id_campania, id_socio=id_socio, tipo=tipo,
        monto=cop("100.00") if tipo in domain.TIPOS_CON_MONTO else None,
        ocurrida_en=timezone.now() - timedelta(hours=1))


def comision(repo, id_socio, valor="20.00", *, estado=PAGABLE, dias=-1, id_campania=None, id_externo=None) -> uuid.UUID:
    """A commission already registered, payable `dias` from now."""
    return repo.agregar_transaccion(id_campania=id_campania or uuid.uuid4(), id_socio=id_socio,
                                    id_externo=id_externo or uuid.uuid4().hex, comision=cop(valor), estado=estado,
                                    pagable_desde=timezone.now() + timedelta(days=dias))


# --- running handlers ---------------------------------------------------------------------------


def run(handler, message, repo, *, logged=True) -> FakeUnitOfWork:
    """`logged`: a command of the command log; EnviarPayout and TerminarPayout are the context's own
    follow-ups, run by tasks.py with no entry there."""
    uow = FakeUnitOfWork(repo, command_id=uuid.uuid4() if logged else None)
    handler(message, uow)
    return uow


def registrar(repo, *conversiones) -> FakeUnitOfWork:
    return run(handlers.registrar_conversiones, commands.RegistrarConversiones(conversiones=list(conversiones)), repo)


def ciclo(repo, fecha_corte=None) -> FakeUnitOfWork:
    return run(handlers.ejecutar_ciclo, commands.EjecutarCiclo(fecha_corte=fecha_corte or hoy()), repo)


def enviar(repo, id_payout) -> FakeUnitOfWork:
    return run(handlers.procesar_payout, commands.EnviarPayout(id_payout=id_payout), repo, logged=False)


def revertir(repo, id_campania, id_externo) -> FakeUnitOfWork:
    command = commands.RevertirConversion(id_campania=id_campania, id_externo=id_externo, motivo="Devolución")
    return run(handlers.revertir_conversion, command, repo)


def resultados(uow) -> list[tuple[str, str | None]]:
    return [(item["resultado"], item["codigo"]) for item in uow.result["resultados"]]


def tipos(events) -> list[str]:
    return [event.type for event in events]


def disponible(repo, id_campania) -> Monto:
    return repo.campanias[id_campania].disponible


def estados(repo, ids) -> set[str]:
    return {repo.transacciones[id].estado for id in ids}


def payouts_de(repo, id_socio):
    return [payout for payout in repo.payouts.values() if payout.id_socio == id_socio]


# --- conversions → commissions --------------------------------------------------------------


def test_commissions_consume_the_budget_exactly(repo):
    id_campania = campania(repo, "10.00")
    id_socio = socio(repo, id_campania)

    ventas = [conversion(id_campania, id_socio) for _ in range(3)]

    uow = registrar(repo, *ventas, conversion(id_campania, id_socio, tipo="CLICK"))

    assert resultados(uow) == [("REGISTRADA", None)] * 4
    assert disponible(repo, id_campania) == cop("2.40")  # 10.00 - 3 × 2.50 - 0.10
    assert tipos(uow.committed_events) == ["ComisionRegistrada"] * 4
    assert {repo.transacciones[event.aggregate_id].estado for event in uow.committed_events} == {PENDIENTE}


def test_a_commission_too_large_for_what_is_left_is_refused_and_the_campaign_keeps_running(repo):
    id_campania = campania(repo, "2.00")
    id_socio = socio(repo, id_campania)

    uow = registrar(repo, conversion(id_campania, id_socio), conversion(id_campania, id_socio, tipo="CLICK"))

    assert resultados(uow) == [("RECHAZADA", "presupuesto_insuficiente"), ("REGISTRADA", None)]
    assert disponible(repo, id_campania) == cop("1.90")
    assert tipos(uow.committed_events) == ["ComisionRegistrada"]  # no PresupuestoAgotado: not paused


def test_a_budget_no_commission_fits_in_is_announced_exhausted_once_across_batches(repo):
    id_campania = campania(repo, "0.20")
    id_socio = socio(repo, id_campania)

    primero = registrar(repo, *(conversion(id_campania, id_socio, tipo="CLICK") for _ in range(2)))
    segundo = registrar(repo, conversion(id_campania, id_socio, tipo="CLICK"))

    assert resultados(segundo) == [("RECHAZADA", "presupuesto_agotado")]
    agotados = [e for e in primero.committed_events + segundo.committed_events if isinstance(e, PresupuestoAgotado)]
    assert [(e.id_campania, e.disponible) for e in agotados] == [(id_campania, cop("0.00"))]


def test_a_duplicate_id_externo_is_duplicada_and_consumes_nothing(repo):
    id_campania = campania(repo, "10.00")
    id_socio = socio(repo, id_campania)
    registrar(repo, conversion(id_campania, id_socio, "pedido-1"))

    uow = registrar(repo, *(conversion(id_campania, id_socio, id_externo) for id_externo in
                            ("pedido-1", "pedido-2", "pedido-2")))

    assert resultados(uow) == [("DUPLICADA", None), ("REGISTRADA", None), ("DUPLICADA", None)]
    assert uow.result["duplicadas"] == 2 and len(repo.transacciones) == 2
    assert disponible(repo, id_campania) == cop("5.00")
    assert tipos(uow.committed_events) == ["ComisionRegistrada"]


def no_inscrito(repo):
    id_campania = campania(repo)
    return id_campania, socio(repo)


def campania_pausada(repo):
    id_campania = campania(repo, estado="PAUSADA")
    return id_campania, socio(repo, id_campania)


def socio_suspendido(repo):
    id_campania = campania(repo)
    return id_campania, socio(repo, id_campania, estado=EstadoCliente.SUSPENDIDO)


@pytest.mark.parametrize(("given", "codigo"), [(no_inscrito, "socio_no_inscrito"),
                                               (campania_pausada, "campania_no_aprobada"),
                                               (socio_suspendido, "socio_suspendido")])
def test_a_conversion_that_earns_nothing_is_refused_and_writes_nothing(repo, given, codigo):
    id_campania, id_socio = given(repo)

    uow = registrar(repo, conversion(id_campania, id_socio))

    assert resultados(uow) == [("RECHAZADA", codigo)]
    assert repo.transacciones == {} and disponible(repo, id_campania) == cop("10.00")
    assert uow.committed_events == []


def test_conversions_decided_together_each_answer_and_event_belongs_to_its_own_command(repo):
    id_campania = campania(repo)
    a, b = socio(repo, id_campania), socio(repo, id_campania)
    pendientes = [(conversion(id_campania, id_socio), Origin(uuid.uuid4(), uuid.uuid4()))
                  for id_socio in (a, b, uuid.uuid4())]  # the third partner is not enrolled
    uow = FakeUnitOfWork(repo)

    outcomes = handlers.registrar_conversiones_pendientes(pendientes, uow)

    assert all(isinstance(event, ComisionRegistrada) for event in uow.committed_events)
    assert [uow.origins[event.event_id] for event in uow.committed_events] == [origin for _, origin in pendientes[:2]]
    assert [outcome.resource_id for outcome in outcomes[:2]] == [event.aggregate_id for event in uow.committed_events]
    assert outcomes[2].error["code"] == "socio_no_inscrito"


# --- payout cycles ---------------------------------------------------------------------------


def test_a_cycle_pays_only_commissions_in_no_payout_and_out_of_retention(repo):
    id_socio = socio(repo)
    comision(repo, id_socio, "20.00", estado=PAGABLE)
    comision(repo, id_socio, "15.00", estado=PENDIENTE)  # its retention ended yesterday
    comision(repo, id_socio, "40.00", estado=PENDIENTE, dias=1)  # still in retention
    for estado in (PAGADA, EstadoTransaccion.REVERTIDA):
        comision(repo, id_socio, "50.00", estado=estado)

    uow = ciclo(repo)

    (payout,) = payouts_de(repo, id_socio)
    assert (payout.monto_total, payout.transacciones, payout.estado) == (Decimal("35.00"), 2, "CALCULADO")
    assert uow.result == {"ciclo_nuevo": True, "payouts": 1, "transacciones": 2}


def test_a_cut_off_in_the_past_pays_only_what_was_payable_by_its_end(repo):
    id_socio = socio(repo)
    comision(repo, id_socio, "20.00", dias=-10)
    comision(repo, id_socio, "30.00", dias=-2)

    ciclo(repo, hoy() - timedelta(days=5))

    assert [payout.monto_total for payout in payouts_de(repo, id_socio)] == [Decimal("20.00")]


def test_a_suspended_partner_gets_no_payout(repo):
    activo, suspendido = socio(repo), socio(repo, estado=EstadoCliente.SUSPENDIDO)
    comision(repo, activo)
    espera = comision(repo, suspendido)

    ciclo(repo)

    assert len(payouts_de(repo, activo)) == 1 and payouts_de(repo, suspendido) == []
    assert estados(repo, [espera]) == {PAGABLE}


def test_a_partner_with_a_payout_in_flight_gets_no_new_one(repo):
    id_socio = socio(repo)
    comision(repo, id_socio)
    ciclo(repo)
    comision(repo, id_socio, "30.00")

    uow = ciclo(repo, hoy() + timedelta(days=1))

    assert uow.result["payouts"] == 0 and len(payouts_de(repo, id_socio)) == 1


def test_totals_under_the_minimum_wait_for_a_later_cycle(repo):
    id_socio = socio(repo)
    primera = comision(repo, id_socio, "5.00")

    assert ciclo(repo).result["payouts"] == 0 and estados(repo, [primera]) == {PAGABLE}

    comision(repo, id_socio, "6.00")
    ciclo(repo, hoy() + timedelta(days=1))
    assert [(p.monto_total, p.transacciones) for p in payouts_de(repo, id_socio)] == [(Decimal("11.00"), 2)]


def test_the_same_cut_off_twice_creates_nothing_the_second_time(repo):
    id_socio = socio(repo)
    comision(repo, id_socio)
    ciclo(repo)

    again = ciclo(repo)

    assert again.result == {"ciclo_nuevo": False, "payouts": 0}
    assert len(repo.payouts) == 1 and len(repo.ciclos) == 1


def test_a_cycle_asks_after_commit_for_its_payouts_to_be_sent_each_time_it_runs(repo):
    comision(repo, socio(repo))
    enviar_ciclo = commands.EnviarPayoutsDelCiclo(id_ciclo=domain.id_ciclo(hoy()))

    assert ciclo(repo).committed_follow_ups == [enviar_ciclo]
    assert ciclo(repo).committed_follow_ups == [enviar_ciclo]  # a rerun sends what is still CALCULADO


# --- payouts ---------------------------------------------------------------------------------


def calculado(repo, token="") -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A partner's CALCULADO payout of two commissions, and those commissions."""
    id_socio = socio(repo, token=token)
    filas = [comision(repo, id_socio, "20.00"), comision(repo, id_socio, "15.00", estado=PENDIENTE)]
    ciclo(repo)
    (payout,) = payouts_de(repo, id_socio)
    return payout.id, filas


def fallido(repo, settings) -> tuple[uuid.UUID, list[uuid.UUID]]:
    settings.PASARELA_PAGOS = "tests.fakes.PasarelaNoLlamada"
    id_payout, filas = calculado(repo)
    enviar(repo, id_payout)
    return id_payout, filas


def test_a_payout_to_a_partner_without_a_payment_method_claims_its_commissions_then_fails(repo, settings):
    settings.PASARELA_PAGOS = "tests.fakes.PasarelaNoLlamada"
    id_payout, filas = calculado(repo)

    uow = enviar(repo, id_payout)

    payout = repo.payouts[id_payout]
    assert (payout.estado, payout.intentos) == ("FALLIDO", 1)
    assert payout.motivo_fallo == "El socio no tiene un medio de pago predeterminado."
    assert {(repo.transacciones[id].estado, repo.transacciones[id].id_payout) for id in filas} == {(PAGABLE, id_payout)}
    assert tipos(uow.committed_events) == ["PayoutCreado", "ComisionesCalculadas", "PayoutProcesado", "PayoutFallido"]
    assert uow.commits == 2  # the claim, then the answer
    [intento] = payout.linea_de_tiempo
    assert (intento.intento, intento.resultado, intento.codigo, intento.enviado_en) == (
        1, "NO_ENVIADO", "sin_medio_de_pago", None)


def test_a_payout_confirmed_by_the_gateway_is_exitoso_and_its_commissions_pagada(repo, settings):
    settings.PASARELA_PAGOS = "tests.fakes.PasarelaSinRespuesta"
    id_payout, filas = calculado(repo, token="tok_ok")
    with pytest.raises(ErrorTransitorioPasarela):
        enviar(repo, id_payout)
    assert repo.payouts[id_payout].estado == "EN_PROCESO" and estados(repo, filas) == {EN_PAYOUT}
    [silencio] = repo.payouts[id_payout].linea_de_tiempo  # the silence is on its timeline, the payout waits
    assert (silencio.resultado, silencio.codigo, silencio.mascara) == ("SIN_RESPUESTA", "sin_respuesta", "**** 4242")
    assert silencio.enviado_en <= silencio.respondido_en

    command = commands.TerminarPayout(id_payout=id_payout, confirmacion="conf-1", motivo=None)
    uow = run(handlers.terminar_payout, command, repo, logged=False)

    assert (repo.payouts[id_payout].estado, repo.payouts[id_payout].confirmacion) == ("EXITOSO", "conf-1")
    assert estados(repo, filas) == {PAGADA}
    assert tipos(uow.committed_events) == ["PayoutExitoso"]
    assert [(intento.resultado, intento.confirmacion) for intento in repo.payouts[id_payout].linea_de_tiempo] == [
        ("SIN_RESPUESTA", ""), ("EXITOSO", "conf-1")]


def test_a_gateway_that_never_answers_fails_the_payout_with_its_silences_on_the_timeline(repo, settings):
    settings.PASARELA_PAGOS = "tests.fakes.PasarelaSinRespuesta"
    id_payout, filas = calculado(repo, token="tok_ok")
    with pytest.raises(ErrorTransitorioPasarela):
        enviar(repo, id_payout)

    # the task's last retry gives up (pagos.tasks.procesar_payout)
    run(handlers.terminar_payout, commands.TerminarPayout(
        id_payout=id_payout, motivo="La pasarela no respondió tras varios intentos.", codigo=domain.SIN_RESPUESTA),
        repo, logged=False)

    payout = repo.payouts[id_payout]
    assert payout.estado == "FALLIDO" and estados(repo, filas) == {PAGABLE}
    assert [(intento.resultado, intento.codigo) for intento in payout.linea_de_tiempo] == [
        ("SIN_RESPUESTA", "sin_respuesta"), ("SIN_RESPUESTA", "sin_respuesta")]


def test_a_failed_payout_retried_takes_its_commissions_back_and_is_sent_again(repo, settings):
    id_payout, filas = fallido(repo, settings)

    uow = run(handlers.reintentar_payout, commands.ReintentarPayout(id_payout=id_payout), repo)

    assert repo.payouts[id_payout].estado == "CALCULADO" and estados(repo, filas) == {EN_PAYOUT}
    assert uow.committed_follow_ups == [commands.EnviarPayout(id_payout=id_payout)]
    assert uow.result == {"id_payout": str(id_payout), "estado": "CALCULADO"}


def test_a_failed_payout_is_not_retried_while_a_later_one_of_the_partner_is_in_flight(repo, settings):
    id_payout, filas = fallido(repo, settings)
    ciclo(repo, hoy() + timedelta(days=1))  # covers the released commissions

    with pytest.raises(DomainError, match="otro payout en curso"):
        run(handlers.reintentar_payout, commands.ReintentarPayout(id_payout=id_payout), repo)

    assert repo.payouts[id_payout].estado == "FALLIDO" and estados(repo, filas) == {PAGABLE}


def test_an_unknown_payout_is_not_found(repo):
    id_payout = uuid.uuid4()
    with pytest.raises(NotFound, match=f"No existe el payout {id_payout}."):
        enviar(repo, id_payout)


# --- refunds ---------------------------------------------------------------------------------


def test_refunding_a_pending_commission_reverts_it_and_returns_its_amount_to_the_budget(repo):
    id_campania = campania(repo, "10.00")
    registrar(repo, conversion(id_campania, socio(repo, id_campania), "pedido-1"))
    assert disponible(repo, id_campania) == cop("7.50")

    uow = revertir(repo, id_campania, "pedido-1")

    id_transaccion = domain.id_transaccion(id_campania, "pedido-1")
    assert repo.transacciones[id_transaccion].estado == EstadoTransaccion.REVERTIDA
    assert disponible(repo, id_campania) == cop("10.00")
    (evento,) = uow.committed_events
    assert isinstance(evento, ComisionRevertida) and evento.ajuste is None and uow.resource_id == id_transaccion


def test_refunding_a_paid_commission_adds_a_negative_adjustment_once(repo):
    id_campania = campania(repo, "10.00")
    id_socio = socio(repo, id_campania)
    pagada = comision(repo, id_socio, "2.50", estado=PAGADA, id_campania=id_campania, id_externo="pedido-1")

    uow = revertir(repo, id_campania, "pedido-1")

    ajuste = repo.transacciones[domain.id_ajuste(pagada)]
    assert (ajuste.tipo, ajuste.comision, ajuste.estado) == ("AJUSTE", Decimal("-2.50"), PAGABLE)
    assert repo.transacciones[pagada].estado == PAGADA and uow.committed_events[0].ajuste == cop("-2.50")
    with pytest.raises(DomainError, match="ya fue revertida"):
        revertir(repo, id_campania, "pedido-1")


def test_a_commission_covered_by_a_calculated_payout_is_not_refunded_and_nothing_changes(repo):
    venta = {"VENTA": {"tipo": "FIJA", "valor": "20.00"}}
    id_campania = campania(repo, "100.00", comisiones=venta, dias_retencion=0)
    registrar(repo, conversion(id_campania, socio(repo, id_campania), "pedido-1"))
    ciclo(repo)
    uow = FakeUnitOfWork(repo)

    with pytest.raises(DomainError, match="calculado y por enviarse"):
        handlers.revertir_conversion(commands.RevertirConversion(
            id_campania=id_campania, id_externo="pedido-1", motivo="Devolución"), uow)

    assert estados(repo, [domain.id_transaccion(id_campania, "pedido-1")]) == {PENDIENTE}
    assert disponible(repo, id_campania) == cop("80.00") and uow.committed_events == [] and uow.commits == 0


# --- clicks and impressions → commissions ----------------------------------------------------------


def facturar(repo, limite=100) -> tuple[int, FakeUnitOfWork]:
    uow = FakeUnitOfWork(repo)
    return handlers.facturar_interacciones(commands.FacturarInteracciones(limite=limite), uow), uow


def marca(repo, id_click) -> tuple:
    fila = repo.clicks[id_click]
    return fila.facturado_en is not None, fila.id_transaccion, fila.rechazo


def test_billable_clicks_and_impressions_earn_their_fixed_terms_oldest_first_and_non_billable_ones_nothing(repo):
    id_campania = campania(repo, "0.25", comisiones={**FIJAS, "IMPRESION": {"tipo": "FIJA", "valor": "0.05"}})
    id_socio = socio(repo, id_campania)
    ahora = timezone.now()
    nuevo = repo.agregar_interaccion(id_campania, id_socio, ocurrido_en=ahora - timedelta(seconds=1))
    viejos = [repo.agregar_interaccion(id_campania, id_socio, tipo, ocurrido_en=ahora - timedelta(minutes=5 - n))
              for n, tipo in enumerate(["CLICK", "IMPRESION", "CLICK"])]
    bot = repo.agregar_interaccion(id_campania, id_socio, facturable=False, ocurrido_en=ahora - timedelta(hours=1))

    facturadas, uow = facturar(repo)

    assert facturadas == 4
    assert [marca(repo, id_click)[2] for id_click in viejos + [nuevo]] == [None, None, None, "presupuesto_agotado"]
    assert [repo.transacciones[marca(repo, id_click)[1]].tipo for id_click in viejos] == ["CLICK", "IMPRESION", "CLICK"]
    assert marca(repo, bot) == (False, None, None)
    assert disponible(repo, id_campania) == cop("0.00")
    assert tipos(uow.committed_events) == ["ComisionRegistrada"] * 3 + ["PresupuestoAgotado"]
    assert facturar(repo)[0] == 0


def test_a_click_billed_again_finds_its_commission_and_consumes_nothing(repo):
    id_campania = campania(repo, "10.00")
    id_socio = socio(repo, id_campania)
    id_click = repo.agregar_interaccion(id_campania, id_socio)
    facturar(repo)
    id_transaccion = marca(repo, id_click)[1]
    repo.clicks[id_click].facturado_en = None  # its mark lost

    facturadas, uow = facturar(repo)

    assert facturadas == 1 and marca(repo, id_click) == (True, id_transaccion, None)
    assert disponible(repo, id_campania) == cop("9.90") and uow.committed_events == []


def test_a_click_of_a_paused_campaign_is_refused_with_its_reason(repo):
    id_campania = campania(repo, "10.00", estado="PAUSADA")
    id_click = repo.agregar_interaccion(id_campania, socio(repo, id_campania))

    _, uow = facturar(repo)

    assert marca(repo, id_click) == (True, None, "campania_no_aprobada")
    assert repo.transacciones == {} and uow.committed_events == []


def test_a_failed_billing_writes_nothing_and_announces_nothing(repo, monkeypatch):
    id_campania = campania(repo, "0.10")
    id_click = repo.agregar_interaccion(id_campania, socio(repo, id_campania))

    def falla(*args):
        raise RuntimeError("la base de datos no respondió")

    monkeypatch.setattr(repo, "marcar_facturadas", falla)
    uow = FakeUnitOfWork(repo)
    with pytest.raises(RuntimeError):
        handlers.facturar_interacciones(commands.FacturarInteracciones(limite=10), uow)

    assert marca(repo, id_click) == (False, None, None)
    assert repo.transacciones == {} and disponible(repo, id_campania) == cop("0.10")
    assert uow.committed_events == []
