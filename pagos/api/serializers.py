"""Input serializers check shape; output serializers present the read model."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alpespartners.api import (BoundedDateField, BoundedDateTimeField, DecimalTextField, MontoInput, MontoOutput,
                               StrictBooleanField, StrictCharField, StrictUUIDField, monto_json)
from alpespartners.seedwork.domain import DomainError, Monto

from .. import domain, queries

MOTIVO_MAXIMO = 500


class RevertirPagoInput(serializers.Serializer):
    motivo = StrictCharField(min_length=1, max_length=MOTIVO_MAXIMO)


class CobroFiltros(serializers.Serializer):
    id_campania = serializers.UUIDField(required=False)
    id_cliente = serializers.UUIDField(required=False, help_text="la marca cobrada")
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoPago], required=False)


class CobroOutput(serializers.Serializer):
    id = serializers.UUIDField()
    id_campania = serializers.UUIDField()
    id_cliente = serializers.UUIDField()
    monto = serializers.SerializerMethodField()
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoPago])
    motivo = serializers.CharField(allow_null=True, help_text=(
        "por qué se rechazó o se revirtió; null (nunca \"\") si no hay motivo — una campaña, en cambio, da \"\""))

    @extend_schema_field(MontoOutput)
    def get_monto(self, cobro) -> dict:
        return monto_json(cobro.valor, cobro.moneda)


# --- conversions and commissions ---------------------------------------------------------

LOTE_MAXIMO = 1_000


class ConversionInput(serializers.Serializer):
    id_externo = StrictCharField(min_length=1, max_length=200,
                                       help_text="el id de la conversión en su origen; único por campaña")
    id_campania = StrictUUIDField()
    id_socio = StrictUUIDField()
    tipo = serializers.ChoiceField(choices=[tipo.value for tipo in domain.TipoConversion])
    monto = MontoInput(required=False, allow_null=True, help_text="obligatorio para VENTA y CONVERSION")
    ocurrida_en = BoundedDateTimeField()

    def validate_monto(self, monto):
        return _monto_de_conversion(monto)


class PostbackInput(serializers.Serializer):
    """A brand's postback (POST): the click decides campaign and partner."""

    click_id = StrictUUIDField(help_text="el click_id que recibió su página de destino")
    id_externo = StrictCharField(min_length=1, max_length=200,
                                 help_text="el id de la conversión en su origen; único por campaña")
    tipo = serializers.ChoiceField(choices=[tipo.value for tipo in domain.TipoConversion])
    monto = MontoInput(required=False, allow_null=True, help_text="obligatorio para VENTA y CONVERSION")
    ocurrida_en = BoundedDateTimeField(required=False, help_text="por defecto, cuando llega el postback")

    def validate_monto(self, monto):
        return _monto_de_conversion(monto)


class PostbackQuery(serializers.Serializer):
    """The same postback as a GET, for trackers that can only call a URL: the amount as
    `monto` and `moneda`."""

    click_id = serializers.UUIDField()
    id_externo = serializers.CharField(min_length=1, max_length=200)
    tipo = serializers.ChoiceField(choices=[tipo.value for tipo in domain.TipoConversion])
    monto = DecimalTextField(max_digits=20, required=False)
    moneda = serializers.RegexField(r"^[A-Z]{3}$", required=False,
                                    error_messages={"invalid": "Debe ser un código ISO 4217 (p. ej. COP)."})
    ocurrida_en = BoundedDateTimeField(required=False)

    def validate(self, data):
        if ("monto" in data) != ("moneda" in data):
            raise serializers.ValidationError({"moneda" if "monto" in data else "monto":
                                               ["monto y moneda van juntos."]})
        if "monto" in data:
            try:
                data["monto"] = _monto_de_conversion(Monto(data["monto"], data.pop("moneda")))
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"monto": error.detail}) from None
        return data


def _monto_de_conversion(monto: Monto | None) -> Monto | None:
    try:
        return monto and domain.validar_monto_conversion(monto)
    except DomainError as error:
        raise serializers.ValidationError(error.message) from None


class RotarSecretoPostbackInput(serializers.Serializer):
    revocar_anterior = StrictBooleanField(default=False, help_text=(
        "true si el secreto anterior se filtró: deja de valer ya; si no, vale 24 h más"))


class SecretoPostbackOutput(serializers.Serializer):
    id_cliente = serializers.UUIDField()
    secreto = serializers.CharField(help_text="se muestra solo esta vez")
    creado_en = serializers.DateTimeField(source="fecha_creacion")
    anterior_vale_hasta = serializers.DateTimeField(allow_null=True, help_text=(
        "hasta cuándo sigue valiendo el secreto anterior (null si no había)"))


class LoteConversionesInput(serializers.Serializer):
    conversiones = serializers.ListField(child=ConversionInput(), min_length=1, max_length=LOTE_MAXIMO)


class RevertirConversionInput(serializers.Serializer):
    id_campania = StrictUUIDField()
    id_externo = StrictCharField(min_length=1, max_length=200)
    motivo = StrictCharField(min_length=1, max_length=MOTIVO_MAXIMO)


class TransaccionFiltros(serializers.Serializer):
    id_socio = serializers.UUIDField(required=False)
    id_campania = serializers.UUIDField(required=False)
    id_payout = serializers.UUIDField(required=False)
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoTransaccion], required=False)


class TransaccionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    id_socio = serializers.UUIDField()
    id_campania = serializers.UUIDField()
    id_externo = serializers.CharField()
    tipo = serializers.CharField(help_text=" | ".join((*(tipo.value for tipo in domain.TipoConversion), domain.AJUSTE)))
    comision = serializers.SerializerMethodField()
    estado = serializers.ChoiceField(source="estado_actual", choices=[estado.value for estado in domain.EstadoTransaccion],
                                     help_text="PAGABLE: PENDIENTE cuya retención ya pasó")
    pagable_desde = serializers.DateTimeField()
    id_payout = serializers.UUIDField(allow_null=True)

    @extend_schema_field(MontoOutput)
    def get_comision(self, transaccion) -> dict:
        return monto_json(transaccion.comision, transaccion.moneda)


# --- payout cycles and payouts -------------------------------------------------------------


class EjecutarCicloInput(serializers.Serializer):
    fecha_corte = BoundedDateField(required=False, help_text=(
        "por defecto, hoy: entra lo pagable hasta el fin de ese día (y nunca lo que aún está en retención)"))


class CicloOutput(serializers.Serializer):
    id = serializers.UUIDField()
    fecha_corte = serializers.DateField()
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoCiclo],
                                     help_text="CALCULADO: sus payouts existen y se están enviando")
    origen = serializers.CharField(help_text="api | programador | consola")
    payouts = serializers.IntegerField()
    transacciones = serializers.IntegerField()
    totales = MontoOutput(many=True)
    payouts_por_estado = serializers.SerializerMethodField()
    iniciado_en = serializers.DateTimeField(source="fecha_creacion")
    calculado_en = serializers.DateTimeField(allow_null=True)


    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_payouts_por_estado(self, ciclo) -> dict:
        return queries.payouts_por_estado(ciclo.id)

class PayoutFiltros(serializers.Serializer):
    id_socio = serializers.UUIDField(required=False)
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoPayout], required=False)
    ciclo = serializers.UUIDField(required=False)


class PayoutOutput(serializers.Serializer):
    id = serializers.UUIDField()
    id_socio = serializers.UUIDField()
    ciclo = serializers.UUIDField(source="id_ciclo")
    fecha_corte = serializers.DateField()
    monto_total = serializers.SerializerMethodField()
    estado = serializers.ChoiceField(choices=[estado.value for estado in domain.EstadoPayout])
    transacciones = serializers.IntegerField(help_text="comisiones y ajustes que paga; GET /pagos/transacciones?id_payout=")
    intentos = serializers.IntegerField()
    confirmacion = serializers.CharField(allow_blank=True)
    motivo_fallo = serializers.CharField(allow_blank=True)

    @extend_schema_field(MontoOutput)
    def get_monto_total(self, payout) -> dict:
        return monto_json(payout.monto_total, payout.moneda)


# --- the performance report ----------------------------------------------------------------

DIAS_DEL_REPORTE = 30  # by default, the last 30 days up to today
DIAS_ENTRE_FECHAS_MAXIMO = 366


class RendimientoFiltros(serializers.Serializer):
    desde = BoundedDateField(required=False, help_text=f"por defecto, {DIAS_DEL_REPORTE - 1} días antes de hasta")
    hasta = BoundedDateField(required=False, help_text="por defecto, hoy; días en la zona horaria de la plataforma")
    id_campania = serializers.UUIDField(required=False)
    id_socio = serializers.UUIDField(required=False)

    def validate(self, data):
        hasta = data.get("hasta") or timezone.localdate()
        desde = data.get("desde") or hasta - timedelta(days=DIAS_DEL_REPORTE - 1)
        if desde > hasta:
            raise serializers.ValidationError({"desde": ["No puede ser posterior a hasta."]})
        if (hasta - desde).days > DIAS_ENTRE_FECHAS_MAXIMO:
            raise serializers.ValidationError({"hasta": [f"No puede estar a más de {DIAS_ENTRE_FECHAS_MAXIMO} días de desde."]})
        return {**data, "desde": desde, "hasta": hasta}


class RendimientoOutput(serializers.Serializer):
    dia = serializers.DateField(help_text="en la zona horaria de la plataforma")
    id_campania = serializers.UUIDField()
    id_socio = serializers.UUIDField()
    clicks = serializers.IntegerField(help_text="clicks en el enlace del socio, facturables o no")
    clicks_facturables = serializers.IntegerField(help_text=(
        "los que se facturan: ni de bots, ni repetidos, ni de una campaña no APROBADA, ni sin verificar"))
    impresiones = serializers.IntegerField()
    conversiones = serializers.IntegerField(help_text="ventas y conversiones registradas (también las revertidas después)")
    tasa_conversion = serializers.DecimalField(max_digits=None, decimal_places=4, allow_null=True,
                                               help_text="conversiones / clicks; null sin clicks")
    comisiones = serializers.SerializerMethodField(help_text=(
        "por moneda: comisiones y ajustes (negativos) del día, sin las revertidas antes del pago"))

    @extend_schema_field(MontoOutput(many=True))
    def get_comisiones(self, fila) -> list[dict]:
        return [monto_json(comision.valor, comision.moneda) for comision in fila["comisiones"]]
