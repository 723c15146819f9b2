"""Rules of the Pago aggregate (a campaign's charge), without a database."""

import re
import uuid
from decimal import Decimal

import pytest

from alpespartners.seedwork.domain import DomainError, Monto, TransientError
from pagos import domain
from pagos.domain import ClienteConocido, EstadoPago, Pago

ID_CAMPANIA = uuid.UUID("0b5e0f8e-6a43-4f57-9d1c-2f1f3a9b7c11")
ID_CLIENTE = uuid.UUID("7d2d9b8a-1c3e-4b5f-8a6d-9e0f1a2b3c4d")
PRESUPUESTO = Monto(Decimal("5000000.00"), "COP")


def pendiente() -> Pago:
    return Pago.iniciar(id_campania=ID_CAMPANIA, id_cliente=ID_CLIENTE, monto=PRESUPUESTO)


def confirmado() -> Pago:
    pago = pendiente()
    pago.confirmar("sim_ch_1")
    pago.pull_events()
    return pago


def rechazado() -> Pago:
    pago = pendiente()
    pago.rechazar("Fondos insuficientes.")
    pago.pull_events()
    return pago


def revertido() -> Pago:
    pago = confirmado()
    pago.revertir("campaña cancelada", "sim_re_1")
    pago.pull_events()
    return pago


def test_a_new_charge_is_pending_with_an_id_computed_from_its_campaign():
    # when two attempts start the charge of one campaign
    first, second = pendiente(), pendiente()

    # then they agree on the pago id, and nothing has happened yet
    assert first.id == second.id == domain.id_pago(ID_CAMPANIA)
    assert first.id != domain.id_pago(uuid.uuid4())
    assert first.estado is EstadoPago.PENDIENTE and first.pull_events() == []


def test_gateway_keys_come_from_the_campaign_and_the_pago():
    assert domain.clave_cobro(ID_CAMPANIA) == f"cobro:{ID_CAMPANIA}"
    assert domain.clave_reembolso(domain.id_pago(ID_CAMPANIA)) == f"reembolso:{domain.id_pago(ID_CAMPANIA)}"


def test_confirming_records_pago_confirmado_with_the_confirmation():
    # given a pending charge
    pago = pendiente()

    # when the gateway confirmed it
    pago.confirmar("sim_ch_1")

    # then
    (event,) = pago.pull_events()
    assert isinstance(event, domain.PagoConfirmado)
    assert pago.estado is EstadoPago.CONFIRMADO and pago.confirmacion == "sim_ch_1"
    assert event.aggregate_id == pago.id
    assert event.data() == {"id_campania": str(ID_CAMPANIA), "id_cliente": str(ID_CLIENTE),
                            "monto": {"valor": "5000000.00", "moneda": "COP"}, "confirmacion": "sim_ch_1"}


def test_rejecting_records_pago_rechazado_with_the_reason():
    pago = pendiente()
    pago.rechazar("Fondos insuficientes.")
    (event,) = pago.pull_events()
    assert isinstance(event, domain.PagoRechazado)
    assert pago.estado is EstadoPago.RECHAZADO
    assert (event.motivo, event.monto) == ("Fondos insuficientes.", PRESUPUESTO)


def test_reverting_a_confirmed_charge_records_pago_revertido():
    pago = confirmado()
    pago.revertir("campaña cancelada", "sim_re_1")
    (event,) = pago.pull_events()
    assert isinstance(event, domain.PagoRevertido)
    assert pago.estado is EstadoPago.REVERTIDO and pago.confirmacion_reembolso == "sim_re_1"
    assert (event.motivo, event.id_campania, event.id_cliente) == ("campaña cancelada", ID_CAMPANIA, ID_CLIENTE)


ILLEGAL = [
    (confirmado, "confirmar", ("sim_ch_2",), "Solo un cobro PENDIENTE puede confirmarse; este está CONFIRMADO."),
    (confirmado, "rechazar", ("x",), "Solo un cobro PENDIENTE puede rechazarse; este está CONFIRMADO."),
    (rechazado, "confirmar", ("sim_ch_2",), "Solo un cobro PENDIENTE puede confirmarse; este está RECHAZADO."),
    (rechazado, "rechazar", ("x",), "Solo un cobro PENDIENTE puede rechazarse; este está RECHAZADO."),
    (rechazado, "revertir", ("x", "sim_re_2"), "Solo un cobro CONFIRMADO puede revertirse; este está RECHAZADO."),
    (pendiente, "revertir", ("x", "sim_re_2"), "Solo un cobro CONFIRMADO puede revertirse; este está PENDIENTE."),
    (revertido, "revertir", ("x", "sim_re_2"), "Solo un cobro CONFIRMADO puede revertirse; este está REVERTIDO."),
    (revertido, "confirmar", ("sim_ch_2",), "Solo un cobro PENDIENTE puede confirmarse; este está REVERTIDO."),
    (revertido, "rechazar", ("x",), "Solo un cobro PENDIENTE puede rechazarse; este está REVERTIDO."),
]


@pytest.mark.parametrize(("given", "action", "arguments", "message"), ILLEGAL)
def test_every_other_transition_is_refused_and_changes_nothing(given, action, arguments, message):
    # given a charge in some state
    pago = given()
    before = (pago.estado, pago.motivo, pago.confirmacion, pago.confirmacion_reembolso)

    # when an illegal transition is asked for, then it is refused with a clear message
    with pytest.raises(DomainError) as refused:
        getattr(pago, action)(*arguments)
    assert refused.value.message == message and refused.value.field == "estado"
    assert (pago.estado, pago.motivo, pago.confirmacion, pago.confirmacion_reembolso) == before
    assert pago.pull_events() == []


def test_checking_reversibility_refuses_before_any_refund():
    confirmado().verificar_reversible()
    with pytest.raises(DomainError, match="este está RECHAZADO"):
        rechazado().verificar_reversible()


def test_a_confirmation_needs_the_gateway_code():
    with pytest.raises(DomainError, match="confirmación"):
        pendiente().confirmar("")


@pytest.mark.parametrize(("valor", "moneda", "message"), [
    ("0", "COP", "mayor que cero"),
    ("-10.00", "COP", "mayor que cero"),
    ("10.001", "COP", "más decimales de los que admite COP (2)"),
    ("10.5", "CLP", "más decimales de los que admite CLP (0)"),
    ("10000000000000000", "COP", "excede el máximo"),
])
def test_a_malformed_amount_is_refused(valor, moneda, message):
    with pytest.raises(DomainError, match=re.escape(message)) as refused:
        Pago.iniciar(id_campania=ID_CAMPANIA, id_cliente=ID_CLIENTE, monto=Monto(Decimal(valor), moneda))
    assert refused.value.field == "monto"


def test_the_amount_is_written_with_the_currency_minor_units():
    pago = Pago.iniciar(id_campania=ID_CAMPANIA, id_cliente=ID_CLIENTE, monto=Monto(Decimal("5000000"), "COP"))
    assert pago.monto.as_dict() == {"valor": "5000000.00", "moneda": "COP"}
    assert domain.normalizar(Monto(Decimal("1200.0000"), "CLP")).as_dict() == {"valor": "1200", "moneda": "CLP"}


@pytest.mark.parametrize(("marca", "motivo"), [
    (None, f"La marca {ID_CLIENTE} no está registrada."),
    (ClienteConocido(ID_CLIENTE, estado="", token_predeterminado="tok_ok"), f"La marca {ID_CLIENTE} no está registrada."),
    (ClienteConocido(ID_CLIENTE, estado="SUSPENDIDO", token_predeterminado="tok_ok"), "La marca está suspendida."),
    (ClienteConocido(ID_CLIENTE, estado="ACTIVO", token_predeterminado=""), "La marca no tiene un medio de pago predeterminado."),
    (ClienteConocido(ID_CLIENTE, estado="ACTIVO", token_predeterminado="tok_ok"), None),
])
def test_why_a_brand_cannot_be_charged(marca, motivo):
    assert domain.motivo_para_no_cobrar(ID_CLIENTE, marca) == motivo


def test_gateway_errors_are_a_decline_or_a_transient_failure():
    assert issubclass(domain.ErrorTransitorioPasarela, TransientError)
    declinado = domain.PagoDeclinado("Fondos insuficientes.")
    assert declinado.motivo == declinado.message == "Fondos insuficientes."
