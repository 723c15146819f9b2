"""Input serializers check shape and the single-value rules of the domain; output serializers
present the read model. Rules that need the database (the brand's state) are the handler's job."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alpespartners.api import (BoundedDateField, DecimalTextField, MontoInput, MontoOutput, StrictCharField,
                               StrictIntegerField, StrictUUIDField, monto_json)
from alpespartners.seedwork.domain import DomainError

from .. import domain


def domain_rule(rule, *args):
    """Run a domain rule, turning its DomainError into a validation error on its field."""
    try:
        return rule(*args)
    except DomainError as error:
        raise serializers.ValidationError({error.field or "non_field_errors": error.message}) from None


class TerminoComisionInput(serializers.Serializer):
    tipo = serializers.ChoiceField(choices=[tipo.value for tipo in domain.TipoComision])
    # A Decimal keeps the decimals written ("0.10" stays "0.10"); the domain checks sign, range and decimals.
    valor = DecimalTextField(max_digits=20, help_text=(
        "decimal como texto: PORCENTAJE 5 es 5 % (hasta 2 decimales); FIJA, un monto en la moneda de la campaña "
        "(hasta sus decimales)"))


class CrearCampaniaInput(serializers.Serializer):
    id = StrictUUIDField(required=False)
    id_cliente = StrictUUIDField(help_text="la marca; debe estar ACTIVA")
    nombre = StrictCharField(max_length=domain.NOMBRE_MAXIMO)
    presupuesto = MontoInput()
    fecha_inicio = BoundedDateField()
    fecha_fin = BoundedDateField()
    comisiones = serializers.DictField(
        child=TerminoComisionInput(), required=False,
        help_text="por tipo de conversión (VENTA, CONVERSION, CLICK, IMPRESION); los tipos omitidos usan los valores por defecto",
    )
    dias_retencion = StrictIntegerField(min_value=0, max_value=domain.DIAS_RETENCION_MAXIMO,
                                              default=domain.DIAS_RETENCION_POR_DEFECTO)
    url_destino = StrictCharField(max_length=domain.URL_DESTINO_MAXIMA, required=False, allow_null=True, default=None,
                                  help_text="https: adonde envían los enlaces de seguimiento, con click_id añadido")
    ventana_atribucion_dias = StrictIntegerField(min_value=1, max_value=domain.VENTANA_ATRIBUCION_MAXIMA,
                                                 default=domain.VENTANA_ATRIBUCION_POR_DEFECTO)

    def validate(self, data):
        data["nombre"] = domain_rule(domain.validar_nombre, data["nombre"])
        data["url_destino"] = domain_rule(domain.validar_url_destino, data["url_destino"])
        domain_rule(domain.validar_presupuesto, data["presupuesto"])
        domain_rule(domain.validar_fechas, data["fecha_inicio"], data["fecha_fin"], timezone.localdate())
        # Positional notation: str() would write 0.0000001 as "1E-7", which the domain refuses as text.
        comisiones = {tipo: {"tipo": termino["tipo"], "valor": format(termino["valor"], "f")}
                      for tipo, termino in data.get("comisiones", {}).items()}
        domain_rule(domain.validar_comisiones, comisiones, data["presupuesto"].moneda)
        data["comisiones"] = comisiones or None
        return data


class ActualizarCampaniaInput(serializers.Serializer):
    url_destino = StrictCharField(max_length=domain.URL_DESTINO_MAXIMA, required=False,
                                  help_text="https: adonde envían los enlaces de seguimiento")
    ventana_atribucion_dias = StrictIntegerField(min_value=1, max_value=domain.VENTANA_ATRIBUCION_MAXIMA,
                                                 required=False)

    def validate(self, data):
        if not data:
            raise serializers.ValidationError({"url_destino": "Indique url_destino o ventana_atribucion_dias."})
        if "url_destino" in data:
            data["url_destino"] = domain_rule(domain.validar_url_destino, data["url_destino"])
        return data


class InscribirSocioInput(serializers.Serializer):
    id_socio = StrictUUIDField()


class MotivoCampaniaInput(serializers.Serializer):
    motivo = StrictCharField(max_length=domain.MOTIVO_MAXIMO, required=False, allow_blank=True, default="")


class CampaniaFiltros(serializers.Serializer):
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoCampania], required=False)
    id_cliente = serializers.UUIDField(required=False)


class SocioOutput(serializers.Serializer):
    id_socio = serializers.UUIDField()
    inscrito_en = serializers.DateTimeField()
    suspendido = serializers.BooleanField(help_text="suspendido en cliente: la inscripción se conserva")


class EnlaceOutput(serializers.Serializer):
    id_socio = serializers.UUIDField()
    codigo = serializers.CharField(source="codigo_enlace")
    url = serializers.SerializerMethodField(help_text="el enlace que comparte el socio")
    inscrito_en = serializers.DateTimeField()

    def get_url(self, socio) -> str:
        return self.context["request"].build_absolute_uri(f"/t/{socio.codigo_enlace}")


class CampaniaOutput(serializers.Serializer):
    id = serializers.UUIDField()
    id_cliente = serializers.UUIDField()
    nombre = serializers.CharField()
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoCampania])
    presupuesto = serializers.SerializerMethodField()
    presupuesto_disponible = serializers.SerializerMethodField()
    fecha_inicio = serializers.DateField()
    fecha_fin = serializers.DateField()
    comisiones = serializers.DictField(child=serializers.DictField(child=serializers.CharField()))
    dias_retencion = serializers.IntegerField()
    url_destino = serializers.CharField(allow_null=True)
    ventana_atribucion_dias = serializers.IntegerField()
    socios = SocioOutput(many=True)
    motivo = serializers.CharField(help_text=(
        "por qué se pausó, finalizó o canceló; \"\" (nunca null) si no hay motivo — un cobro, en cambio, da null"))
    version = serializers.IntegerField(help_text="número de eventos de la campaña")
    creada_en = serializers.DateTimeField(source="fecha_creacion")

    @extend_schema_field(MontoOutput)
    def get_presupuesto(self, campania):
        return monto_json(campania.presupuesto, campania.moneda)

    @extend_schema_field(MontoOutput)
    def get_presupuesto_disponible(self, campania):
        return monto_json(campania.presupuesto_disponible, campania.moneda)


class EventoOutput(serializers.Serializer):
    id = serializers.UUIDField(source="event_id")
    version = serializers.IntegerField(help_text="posición en la historia de la campaña")
    type = serializers.CharField()
    type_version = serializers.SerializerMethodField(help_text="versión del tipo de evento en que se muestra `data`")
    occurred_at = serializers.DateTimeField()
    correlation_id = serializers.UUIDField(allow_null=True)
    data = serializers.SerializerMethodField()

    def get_type_version(self, row) -> int:
        return domain.EVENT_TYPES[row.type].version

    def get_data(self, row) -> dict:
        return domain.upcast(row.type, row.schema_version, row.data)
