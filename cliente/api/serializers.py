"""Input serializers check shape and the single-value rules of the domain; output serializers
present the read model. Anything that needs the database (uniqueness) is the handler's job."""

from django.utils import timezone
from rest_framework import serializers

from alpespartners.api import BoundedDateField, MontoOutput, StrictBooleanField, StrictCharField, StrictUUIDField
from alpespartners.seedwork.domain import DomainError

from .. import domain


def domain_rule(rule, *args):
    """Run a domain rule on one value, turning its DomainError into a field error."""
    try:
        return rule(*args)
    except DomainError as error:
        raise serializers.ValidationError(error.message) from None


class RegistrarClienteInput(serializers.Serializer):
    id = StrictUUIDField(required=False)
    tipo = serializers.ChoiceField(choices=[tipo.value for tipo in domain.TipoCliente])
    nombre = StrictCharField(max_length=domain.NOMBRE_MAXIMO)
    email = StrictCharField(max_length=254)
    cedula = StrictCharField(required=False, allow_null=True)
    fecha_nacimiento = BoundedDateField(required=False, allow_null=True)
    nit = StrictCharField(required=False, allow_null=True)
    fecha_constitucion = BoundedDateField(required=False, allow_null=True)

    def validate_nombre(self, value):
        return domain_rule(domain.validar_nombre, value)

    def validate_email(self, value):
        return domain_rule(domain.validar_email, value)

    def validate_cedula(self, value):
        return value and domain_rule(domain.validar_cedula, value)

    def validate_nit(self, value):
        return value and domain_rule(domain.validar_nit, value)

    def validate_fecha_nacimiento(self, value):
        return value and domain_rule(domain.validar_fecha_nacimiento, value, timezone.localdate())

    def validate_fecha_constitucion(self, value):
        return value and domain_rule(domain.validar_fecha_constitucion, value, timezone.localdate())

    def validate(self, data):
        required, forbidden = {
            domain.TipoCliente.NATURAL: (("cedula", "fecha_nacimiento"), ("nit", "fecha_constitucion")),
            domain.TipoCliente.EMPRESA: (("nit", "fecha_constitucion"), ("cedula", "fecha_nacimiento")),
        }[domain.TipoCliente(data["tipo"])]
        errors = {field: f"Obligatorio para un cliente {data['tipo']}." for field in required if not data.get(field)}
        errors |= {field: f"No aplica a un cliente {data['tipo']}." for field in forbidden if data.get(field)}
        if errors:
            raise serializers.ValidationError(errors)
        return data


class ActualizarClienteInput(serializers.Serializer):
    nombre = StrictCharField(max_length=domain.NOMBRE_MAXIMO, required=False)
    email = StrictCharField(max_length=254, required=False)

    def validate_nombre(self, value):
        return domain_rule(domain.validar_nombre, value)

    def validate_email(self, value):
        return domain_rule(domain.validar_email, value)

    def validate(self, data):
        if not data:
            raise serializers.ValidationError("Indique al menos nombre o email.")
        return data


class MotivoInput(serializers.Serializer):
    motivo = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class RegistrarMedioPagoInput(serializers.Serializer):
    id = StrictUUIDField(required=False)
    tipo = serializers.ChoiceField(choices=[tipo.value for tipo in domain.TipoMedioPago])
    token = StrictCharField(max_length=128)
    mascara = StrictCharField(max_length=32)
    predeterminado = StrictBooleanField(required=False, default=False)


class ClienteFiltros(serializers.Serializer):
    tipo = serializers.ChoiceField(choices=[tipo.value for tipo in domain.TipoCliente], required=False)
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoCliente], required=False)
    search = serializers.CharField(max_length=100, required=False, help_text="nombre, email o documento")


class MedioPagoOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tipo = serializers.CharField()
    mascara = serializers.CharField()
    predeterminado = serializers.BooleanField()


class ClienteOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tipo = serializers.CharField()
    nombre = serializers.CharField()
    email = serializers.CharField()
    tipo_documento = serializers.CharField()
    numero_documento = serializers.CharField()
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoCliente])
    fecha_registro = serializers.DateTimeField()
    medios_pago = MedioPagoOutput(many=True)
    total_pagos = MontoOutput(many=True)
    ultimo_pago = serializers.DateTimeField(allow_null=True)

