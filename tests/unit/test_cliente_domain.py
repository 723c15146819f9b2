"""Rules of the Cliente aggregate, without a database."""

import uuid
from datetime import date

import pytest

from alpespartners.seedwork.domain import DomainError, Monto
from cliente import domain
from cliente.domain import Cliente

HOY = date(2026, 11, 28)


def natural(**overrides) -> Cliente:
    values = dict(tipo="NATURAL", nombre="Lucía", email="Lucia@Correo.co", cedula="1032456789",
                  fecha_nacimiento=date(1990, 1, 1), hoy=HOY)
    return Cliente.registrar(uuid.uuid4(), **(values | overrides))


@pytest.mark.parametrize(("numero", "digito"), [("900123456", 8), ("800197268", 4), ("860002964", 4), ("890903938", 8)])
def test_nit_verification_digit_follows_dian(numero, digito):
    assert domain.digito_verificacion_nit(numero) == digito
    assert domain.validar_nit(f"{numero}-{digito}")
    with pytest.raises(DomainError, match="verificación"):
        domain.validar_nit(f"{numero}-{(digito + 1) % 10}")


def test_adulthood_counts_the_birthday():
    assert domain.validar_fecha_nacimiento(date(2008, 11, 28), HOY)
    with pytest.raises(DomainError, match="mayor de edad"):
        domain.validar_fecha_nacimiento(date(2008, 11, 29), HOY)


def test_registering_records_one_event_with_the_document():
    cliente = natural()
    (event,) = cliente.pull_events()
    assert isinstance(event, domain.ClienteRegistrado)
    assert (event.tipo_documento, event.numero_documento, event.email) == ("cedula", "1032456789", "lucia@correo.co")
    assert cliente.estado is domain.EstadoCliente.ACTIVO


def test_a_natural_person_carries_no_nit():
    with pytest.raises(DomainError) as refused:
        natural(nit="900123456-8")
    assert refused.value.field == "nit"


def test_suspending_twice_is_refused_and_records_nothing():
    cliente = natural()
    cliente.pull_events()
    cliente.suspender("fraude")
    with pytest.raises(DomainError, match="ya está suspendido"):
        cliente.suspender()
    assert [type(event) for event in cliente.pull_events()] == [domain.ClienteSuspendido]


def test_first_payment_method_is_the_default_and_a_new_default_replaces_it():
    cliente = natural()
    cliente.registrar_medio_pago(id=uuid.uuid4(), tipo="TARJETA", token="tok_ok", mascara="**** 1111")
    cliente.registrar_medio_pago(id=uuid.uuid4(), tipo="PSE", token="tok_inestable", mascara="PSE", predeterminado=True)
    assert [medio.predeterminado for medio in cliente.medios_pago] == [False, True]
    with pytest.raises(DomainError, match="ya está registrado"):
        cliente.registrar_medio_pago(id=uuid.uuid4(), tipo="PSE", token="tok_ok", mascara="x")


def test_money_is_never_float():
    with pytest.raises(DomainError):
        Monto(0.1, "COP")
    assert Monto("10.50", "COP").as_dict() == {"valor": "10.50", "moneda": "COP"}
    with pytest.raises(DomainError):
        Monto("1", "pesos")
