"""Input serializers check shape; output serializers present the read model."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alpespartners.api import MontoOutput, monto_json

from .. import domain

MOTIVO_MAXIMO = 500


class RevertirPagoInput(serializers.Serializer):
    motivo = serializers.CharField(min_length=1, max_length=MOTIVO_MAXIMO)


class CobroFiltros(serializers.Serializer):
    id_campania = serializers.UUIDField(required=False)
    id_cliente = serializers.UUIDField(required=False, help_text="la marca cobrada")
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoPago], required=False)


class CobroOutput(serializers.Serializer):
    id = serializers.UUIDField()
    id_campania = serializers.UUIDField()
    id_cliente = serializers.UUIDField()
    monto = serializers.SerializerMethodField()
    estado = serializers.CharField(help_text=" | ".join(estado.value for estado in domain.EstadoPago))
    motivo = serializers.CharField(allow_null=True, help_text="por qué se rechazó o se revirtió")

    @extend_schema_field(MontoOutput)
    def get_monto(self, cobro) -> dict:
        return monto_json(cobro.valor, cobro.moneda)
