"""Valid request bodies (tests change one field at a time) and read-model rows."""

import json
from datetime import date, timedelta
from decimal import Decimal

import factory

from pagos.domain import id_transaccion


class ClienteNaturalBody(factory.DictFactory):
    tipo = "NATURAL"
    nombre = factory.Sequence(lambda n: f"Socia {n}")
    email = factory.Sequence(lambda n: f"socia{n}@correo.co")
    cedula = factory.Sequence(lambda n: f"{10_000_000 + n}")
    fecha_nacimiento = "1990-05-17"


class ClienteEmpresaBody(factory.DictFactory):
    tipo = "EMPRESA"
    nombre = factory.Sequence(lambda n: f"Marca {n} S.A.S.")
    email = factory.Sequence(lambda n: f"marca{n}@empresa.co")
    nit = "900123456-8"
    fecha_constitucion = "2012-01-31"


class CampaniaBody(factory.DictFactory):
    nombre = factory.Sequence(lambda n: f"Campaña {n}")
    presupuesto = factory.LazyFunction(lambda: {"valor": "1000000.00", "moneda": "COP"})
    fecha_inicio = factory.LazyFunction(lambda: date.today().isoformat())
    fecha_fin = factory.LazyFunction(lambda: (date.today() + timedelta(days=30)).isoformat())


# --- read-model rows, for tests about who sees what (tests/api/test_access.py) ---------------


def _now():
    from django.utils import timezone

    return timezone.now()


class ClienteViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cliente.ClienteView"

    id = factory.Faker("uuid4", cast_to=None)
    tipo = "EMPRESA"
    nombre = factory.Sequence(lambda n: f"Cliente {n}")
    email = factory.Sequence(lambda n: f"cliente{n}@correo.co")
    tipo_documento = "NIT"
    numero_documento = factory.Sequence(lambda n: f"{900_000_000 + n}")
    estado = "ACTIVO"
    fecha_registro = factory.LazyFunction(_now)


class CampaniaViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campanias.CampaniaView"

    id = factory.Faker("uuid4", cast_to=None)
    nombre = factory.Sequence(lambda n: f"Campaña {n}")
    estado = "APROBADA"
    presupuesto = presupuesto_disponible = Decimal("1000000")
    moneda = "COP"
    fecha_inicio = factory.LazyFunction(date.today)
    fecha_fin = factory.LazyFunction(lambda: date.today() + timedelta(days=30))
    comisiones = factory.LazyFunction(lambda: {"VENTA": {"porcentaje": "10"}})
    dias_retencion = 0
    version = 1
    fecha_creacion = fecha_actualizacion = factory.LazyFunction(_now)


class SocioCampaniaViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campanias.SocioCampaniaView"

    inscrito_en = factory.LazyFunction(_now)


class ClienteLocalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pagos.ClienteLocal"

    estado = "ACTIVO"


class CampaniaLocalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pagos.CampaniaLocal"

    estado = "APROBADA"
    fecha_inicio = factory.LazyFunction(date.today)
    fecha_fin = factory.LazyFunction(lambda: date.today() + timedelta(days=30))
    moneda = "COP"
    presupuesto = presupuesto_disponible = Decimal("1000000")
    comisiones = factory.LazyFunction(lambda: {"VENTA": {"porcentaje": "10"}})
    dias_retencion = 0


class CobroViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pagos.CobroView"

    id = factory.Faker("uuid4", cast_to=None)
    valor = Decimal("1000000")
    moneda = "COP"
    estado = "CONFIRMADO"
    fecha_creacion = fecha_actualizacion = factory.LazyFunction(_now)


class TransaccionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pagos.Transaccion"

    # Derived from the campaign and the external id, as the API finds it (pagos.domain.id_transaccion).
    id = factory.LazyAttribute(lambda row: id_transaccion(row.id_campania, row.id_externo))
    id_externo = factory.Sequence(lambda n: f"conversion-{n}")
    tipo = "VENTA"
    monto_conversion = Decimal("100000")
    comision = Decimal("10000")
    moneda = "COP"
    estado = "PAGABLE"
    ocurrida_en = pagable_desde = factory.LazyFunction(_now)


class PayoutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pagos.Payout"

    id = factory.Faker("uuid4", cast_to=None)
    id_ciclo = factory.Faker("uuid4", cast_to=None)
    id_socio = factory.Faker("uuid4", cast_to=None)
    fecha_corte = factory.LazyFunction(date.today)
    moneda = "COP"
    monto_total = Decimal("10000")
    transacciones = 1
    estado = "FALLIDO"
    pagable_antes_de = factory.LazyFunction(_now)
    hasta_secuencia = 0
    intentos = 1


class IntentoPayoutFactory(factory.django.DjangoModelFactory):
    """A sending of a payout the gateway declined, as pagos' handler records it."""

    class Meta:
        model = "pagos.IntentoPayout"

    intento = 1
    resultado = "RECHAZADO"
    enviado_en = factory.LazyFunction(_now)
    respondido_en = factory.LazyFunction(_now)
    codigo = "fondos_insuficientes"
    mensaje = "Fondos insuficientes."
    mascara = "**** 4242"


class ClickFactory(factory.django.DjangoModelFactory):
    """A visitor's click as the web process writes it (pagos/clicks.py)."""

    class Meta:
        model = "pagos.Click"

    id = factory.Faker("uuid4", cast_to=None)
    tipo = "CLICK"
    codigo = factory.Sequence(lambda n: f"codigo{n:05d}")
    id_campania = factory.Faker("uuid4", cast_to=None)
    id_socio = factory.Faker("uuid4", cast_to=None)
    ocurrido_en = factory.LazyFunction(_now)
    facturable = True



class EndpointFactory(factory.django.DjangoModelFactory):
    """A client's webhook endpoint as webhooks/endpoints.py registers it (without checking its URL)."""

    class Meta:
        model = "webhooks.Endpoint"

    id_cliente = factory.Faker("uuid4", cast_to=None)
    url = "https://1.1.1.1/hooks/alpes"
    eventos = factory.LazyFunction(lambda: ["ComisionRegistrada"])
    secreto = factory.Sequence(lambda n: f"whsec_prueba{n:06d}")


class EntregaFactory(factory.django.DjangoModelFactory):
    """An event delivered to an endpoint."""

    class Meta:
        model = "webhooks.Entrega"

    endpoint = factory.SubFactory(EndpointFactory)
    event_id = factory.Faker("uuid4", cast_to=None)
    tipo = "ComisionRegistrada"
    cuerpo = factory.LazyAttribute(lambda entrega: json.dumps({"id": str(entrega.event_id), "type": entrega.tipo}))
    estado = "ENTREGADA"
    intentos = 1
    proximo_intento_en = factory.LazyFunction(_now)
    plazo_hasta = factory.LazyFunction(lambda: _now() + timedelta(days=1))
    fecha_creacion = factory.LazyFunction(_now)
    entregada_en = factory.LazyFunction(_now)
