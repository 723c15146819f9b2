from rest_framework import serializers

from alpespartners.api import BoundedDateTimeField, StrictBooleanField, StrictCharField, StrictUUIDField

from .. import domain
from ..models import EstadoEntrega

TIPOS = sorted(domain.TIPOS)


class EndpointInput(serializers.Serializer):
    url = StrictCharField(max_length=domain.LARGO_MAXIMO_URL, help_text="https://…; nunca una dirección privada, "
                          "de loopback o link-local")
    eventos = serializers.ListField(child=serializers.ChoiceField(TIPOS), min_length=1, max_length=len(TIPOS),
                                    help_text="los tipos de evento que quiere recibir (docs/API.md: a quién va cada uno)")
    activo = StrictBooleanField(default=True)
    id_cliente = StrictUUIDField(required=False, help_text="el cliente dueño del endpoint: solo staff; una marca o un "
                                 "socio registra los suyos")


class EndpointCambios(serializers.Serializer):
    url = StrictCharField(max_length=domain.LARGO_MAXIMO_URL, required=False)
    eventos = serializers.ListField(child=serializers.ChoiceField(TIPOS), min_length=1, max_length=len(TIPOS),
                                    required=False)
    activo = StrictBooleanField(required=False, help_text="true vuelve a activar un endpoint deshabilitado por fallos")


class EndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    id_cliente = serializers.UUIDField()
    url = serializers.CharField()
    eventos = serializers.ListField(child=serializers.CharField())
    activo = serializers.BooleanField()
    fallos_seguidos = serializers.IntegerField(help_text="intentos fallidos desde la última respuesta 2xx")
    deshabilitado_en = serializers.DateTimeField(allow_null=True, help_text="cuándo lo deshabilitaron los fallos")
    motivo_deshabilitado = serializers.CharField()
    entregas_pendientes = serializers.IntegerField(source="pendientes", default=0)
    fecha_creacion = serializers.DateTimeField()


class EndpointCreadoOutput(EndpointOutput):
    secreto = serializers.CharField(help_text="firma cada entrega (X-Alpes-Signature); se muestra solo esta vez")


class IntentoOutput(serializers.Serializer):
    numero = serializers.IntegerField()
    fecha = serializers.DateTimeField()
    status = serializers.IntegerField(allow_null=True, help_text="null: no hubo respuesta HTTP")
    latencia_ms = serializers.IntegerField()
    respuesta = serializers.CharField(help_text="los primeros 500 caracteres de la respuesta")
    error = serializers.CharField(help_text="por qué no hubo respuesta (tiempo límite, conexión, dirección prohibida)")


class EntregaOutput(serializers.Serializer):
    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    tipo = serializers.CharField()
    estado = serializers.ChoiceField(EstadoEntrega.choices)
    intentos = serializers.IntegerField()
    proximo_intento_en = serializers.DateTimeField(allow_null=True, source="proximo_si_pendiente")
    plazo_hasta = serializers.DateTimeField()
    fecha_creacion = serializers.DateTimeField()
    entregada_en = serializers.DateTimeField(allow_null=True)
    registro = IntentoOutput(many=True, source="intentos_registrados.all")


class EntregaFiltros(serializers.Serializer):
    estado = serializers.ChoiceField(EstadoEntrega.choices, required=False)
    tipo = serializers.ChoiceField(TIPOS, required=False)
    desde = BoundedDateTimeField(required=False, help_text="creadas desde este instante")


class ReenvioInput(serializers.Serializer):
    desde = BoundedDateTimeField(help_text="reenvía todas las entregas creadas desde este instante, dentro de la "
                                 "retención (WEBHOOKS_RETENCION_DIAS)")


class ReenvioOutput(serializers.Serializer):
    reenviadas = serializers.IntegerField()
