"""The Campania aggregate and the approval saga, as plain Python (no database)."""

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from alpespartners.seedwork.domain import DomainError, Monto, NotFound
from campanias.domain import (
    Campania, CampaniaCreada, EstadoCampania, EstadoSaga, SagaAprobacion, campania_creada_v1_a_v2, upcast,
    validar_comisiones,
)

HOY = date(2026, 11, 28)
AHORA = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


def nueva(**overrides) -> Campania:
    values = dict(id_cliente=uuid.uuid4(), estado_marca="ACTIVO", nombre="Navidad", presupuesto=Monto(Decimal("100"), "COP"),
                  fecha_inicio=HOY, fecha_fin=HOY + timedelta(days=10), hoy=HOY)
    return Campania.crear(uuid.uuid4(), **{**values, **overrides})


def test_a_new_campaign_is_pending_with_default_terms_and_one_event():
    campania = nueva(comisiones={"VENTA": {"tipo": "FIJA", "valor": "2500"}})
    assert campania.estado is EstadoCampania.PENDIENTE
    assert campania.presupuesto == Monto(Decimal("100.00"), "COP")
    assert campania.comisiones["VENTA"] == {"tipo": "FIJA", "valor": "2500"}
    assert campania.comisiones["CONVERSION"] == {"tipo": "PORCENTAJE", "valor": "3"}
    (event,) = campania.pull_events()
    assert isinstance(event, CampaniaCreada) and event.version == 3
    assert (event.url_destino, event.ventana_atribucion_dias) == (None, 30)


@pytest.mark.parametrize("overrides, field, message", [
    ({"estado_marca": None}, "id_cliente", "No existe el cliente"),
    ({"estado_marca": "SUSPENDIDO"}, "id_cliente", "La marca debe estar ACTIVA"),
    ({"nombre": " "}, "nombre", "obligatorio"),
    ({"presupuesto": Monto(Decimal("0"), "COP")}, "presupuesto", "mayor que cero"),
    ({"presupuesto": Monto(Decimal("1.5"), "CLP")}, "presupuesto", "como máximo 0 decimales"),
    ({"fecha_fin": HOY}, "fecha_fin", "anterior a la fecha de fin"),
    ({"fecha_inicio": HOY - timedelta(days=9), "fecha_fin": HOY - timedelta(days=1)}, "fecha_fin", "ya pasó"),
    ({"dias_retencion": 400}, "dias_retencion", "de 0 a 365"),
    ({"comisiones": {"VENTA": {"tipo": "PORCENTAJE", "valor": "101"}}}, "comisiones", "no puede superar 100"),
    ({"comisiones": {"VENTA": {"tipo": "FIJA", "valor": 0.5}}}, "comisiones", "decimal mayor que cero"),
])
def test_invalid_campaigns_are_refused_with_the_field(overrides, field, message):
    with pytest.raises(DomainError) as refused:
        nueva(**overrides)
    assert refused.value.field == field and message in refused.value.message
    assert isinstance(refused.value, NotFound) == (overrides.get("estado_marca", "ACTIVO") is None)


def test_the_lifecycle_and_compensation():
    campania = nueva()
    campania.aprobar(uuid.uuid4())
    campania.pausar("revisión")
    campania.reanudar()
    with pytest.raises(DomainError, match="solo se cancela si se revierte su cobro"):
        campania.cancelar("no")
    campania.cancelar("Cobro revertido", compensacion=True)
    assert campania.estado is EstadoCampania.CANCELADA
    assert [event.type for event in campania.pull_events()] == [
        "CampaniaCreada", "CampaniaAprobada", "CampaniaPausada", "CampaniaReanudada", "CampaniaCancelada"]


def test_replay_and_snapshot_rebuild_the_same_campaign():
    campania = nueva()
    campania.aprobar(uuid.uuid4())
    campania.inscribir_socio(uuid.uuid4(), "ACTIVO")
    history = list(enumerate(campania.pull_events(), start=1))
    replayed = Campania.replay(campania.id, history)
    assert replayed.version == 4 and replayed.snapshot() == {**campania.snapshot(), "version": 4}  # + EnlaceCreado
    assert Campania.from_snapshot(campania.id, replayed.snapshot()).snapshot() == replayed.snapshot()


def test_the_v1_upcaster_moves_the_amount_into_a_monto_and_adds_retention():
    v1 = {"id_cliente": "x", "nombre": "n", "presupuesto": "10.5", "moneda": "USD", "fecha_inicio": "2026-01-01",
          "fecha_fin": "2026-02-01", "comisiones": validar_comisiones(None)}
    v2 = campania_creada_v1_a_v2(v1)
    assert v2["presupuesto"] == {"valor": "10.5", "moneda": "USD"} and v2["dias_retencion"] == 30 and "moneda" not in v2
    # then v2 → v3: no landing page yet, the default attribution window
    assert upcast("CampaniaCreada", 1, v1) == {**v2, "url_destino": None, "ventana_atribucion_dias": 30}
    assert upcast("CampaniaCreada", 2, v2) == {**v2, "url_destino": None, "ventana_atribucion_dias": 30}
    assert upcast("CampaniaAprobada", 1, {"id_pago": "p"}) == {"id_pago": "p"}
    with pytest.raises(ValueError):
        upcast("CampaniaCreada", 4, v2)  # a version from the future has no upcaster


def saga() -> SagaAprobacion:
    return SagaAprobacion.iniciar(uuid.uuid4(), AHORA, timedelta(seconds=60))


def test_saga_approves_on_confirmation_and_compensates_a_later_reversal():
    instance = saga()
    assert instance.on_pago_confirmado(uuid.uuid4(), AHORA) == "aprobar"
    assert instance.on_pago_confirmado(uuid.uuid4(), AHORA) == "nada"  # answered already
    assert instance.on_pago_revertido("contracargo", AHORA) == "compensar"
    assert instance.estado is EstadoSaga.COMPENSADA
    assert len(instance.pasos) == 4


def test_saga_cancels_on_rejection_and_ignores_a_late_reversal():
    instance = saga()
    assert instance.on_pago_rechazado("Fondos insuficientes.", AHORA) == "cancelar"
    assert instance.on_pago_revertido("x", AHORA) == "nada"
    assert instance.estado is EstadoSaga.CANCELADA


def test_saga_times_out_once_and_asks_for_a_refund_of_a_late_charge():
    instance = saga()
    assert instance.on_vencimiento(AHORA + timedelta(seconds=59)) == "nada"
    assert instance.on_vencimiento(AHORA + timedelta(seconds=60)) == "cancelar"
    assert instance.on_vencimiento(AHORA + timedelta(seconds=120)) == "nada"
    assert instance.motivo_vencimiento == "El cobro no respondió en 60 s."
    assert instance.on_pago_confirmado(uuid.uuid4(), AHORA) == "reembolsar"
    assert instance.on_pago_revertido("reembolso", AHORA) == "nada"
    assert instance.estado is EstadoSaga.REEMBOLSADA
