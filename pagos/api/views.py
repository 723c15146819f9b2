"""One thin view per operation: validate, build the command, hand it to the command log.

Charges are created only by CobrarCampania from campanias' approval saga (comandos.pagos);
the API reads them and can revert a confirmed one. Conversions come one by one or in batches
and become commissions (transacciones)."""

import uuid

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.access.models import Rol
from alpespartners.access.scope import scope_of
from alpespartners.api import accept_command, validated
from alpespartners.messaging.api import CommandAcceptedOutput, CommandOutput
from alpespartners.messaging.models import CommandLog

from ..models import CicloPago, CobroView, Payout, Transaccion
from .. import commands, domain, queries
from . import serializers

CONTEXT = "pagos"


def cobro_path(id_pago) -> str:
    return reverse("pago-cobro-detalle", args=[id_pago])


def present(id_pago) -> dict:
    return serializers.CobroOutput(queries.cobro(id_pago)).data


def existing(request, id_pago):
    """A charge the user may see and command: staff any, a marca its client's (socios see none)."""
    scope = scope_of(request)
    scope.require(Rol.MARCA)
    if not scope.restrict(queries.cobros(), marca="id_cliente").filter(id=id_pago).exists():
        raise NotFound(f"No existe el cobro {id_pago}.")
    return id_pago


class CobrosView(ListAPIView):
    queryset = CobroView.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.CobroOutput

    def get_queryset(self):
        scope = scope_of(self.request)
        scope.require(Rol.MARCA)
        return scope.restrict(queries.cobros(**validated(serializers.CobroFiltros, self.request.query_params)),
                              marca="id_cliente")

    @extend_schema(summary="Listar cobros de campañas", parameters=[serializers.CobroFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CobroDetalleView(APIView):
    @extend_schema(summary="Detalle de un cobro", responses=serializers.CobroOutput)
    def get(self, request, id_pago):
        return Response(present(existing(request, id_pago)))


class RevertirCobroView(APIView):
    @extend_schema(summary="Revertir (reembolsar) un cobro CONFIRMADO", request=serializers.RevertirPagoInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.CobroOutput},
                   description="Reembolsa el cobro en la pasarela y publica PagoRevertido; campanias cancela la "
                               "campaña como compensación. Un cobro que no está CONFIRMADO hace FALLIDO el comando.")
    def post(self, request, id_pago):
        data = validated(serializers.RevertirPagoInput, request.data)
        command = commands.RevertirPago(id_pago=existing(request, id_pago), **data)
        return accept_command(request, CONTEXT, command, resource_id=id_pago, resource_path=cobro_path,
                              present_resource=present)


# --- conversions and commissions ---------------------------------------------------------


def transaccion_path(id_transaccion) -> str:
    return reverse("pago-transaccion-detalle", args=[id_transaccion])


def present_transaccion(id_transaccion) -> dict:
    return serializers.TransaccionOutput(queries.transaccion(id_transaccion)).data


class ConversionesView(APIView):
    @extend_schema(summary="Registrar una conversión", request=serializers.ConversionInput,
                   responses={202: CommandAcceptedOutput, 201: serializers.TransaccionOutput},
                   description="La comisión se calcula con los términos de la campaña. Una conversión rechazada "
                               "(campaña no APROBADA o fuera de fechas, socio no inscrito o suspendido, presupuesto "
                               "insuficiente para esta comisión o agotado, sin monto) hace FALLIDO el comando con el motivo; un id_externo repetido "
                               "responde con la comisión que ya tiene.")
    def post(self, request):
        data = validated(serializers.ConversionInput, request.data)
        own_campaigns(request, [data["id_campania"]])
        command = commands.RegistrarConversion(**data)
        return accept_command(request, CONTEXT, command, resource_id=id_transaccion(command),
                              resource_path=transaccion_path, present_resource=present_transaccion, creates=True)


class LoteConversionesView(APIView):
    @extend_schema(summary="Registrar un lote de conversiones (hasta 1.000)", request=serializers.LoteConversionesInput,
                   responses={202: CommandAcceptedOutput, 200: CommandOutput},
                   description="Un solo comando; su `result` trae el resultado de cada conversión (REGISTRADA, "
                               "DUPLICADA o RECHAZADA con código y motivo) y los totales.")
    def post(self, request):
        data = validated(serializers.LoteConversionesInput, request.data)
        own_campaigns(request, [item["id_campania"] for item in data["conversiones"]])
        command = commands.RegistrarConversiones(
            conversiones=[commands.RegistrarConversion(**item) for item in data["conversiones"]]
        )
        # The batch's resource is its own command: the per-item results live in its result.
        command_id = uuid.uuid4()
        return accept_command(request, CONTEXT, command, resource_id=command_id, command_id=command_id,
                              resource_path=lambda id: reverse("comando-detalle", args=[id]),
                              present_resource=lambda id: CommandOutput(CommandLog.objects.get(id=id)).data)


class RevertirConversionView(APIView):
    @extend_schema(summary="Revertir (reembolsar) una conversión", request=serializers.RevertirConversionInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.TransaccionOutput},
                   description="Antes del pago la comisión queda REVERTIDA; después, un ajuste negativo se descuenta "
                               "en el siguiente payout del socio. La comisión vuelve al presupuesto de la campaña.")
    def post(self, request):
        data = validated(serializers.RevertirConversionInput, request.data)
        command = commands.RevertirConversion(**data)
        own_campaigns(request, [command.id_campania])
        if not visible_transacciones(request, queries.transacciones()).filter(id=id_transaccion(command)).exists():
            raise NotFound(f"La campaña {command.id_campania} no tiene una conversión {command.id_externo}.")
        return accept_command(request, CONTEXT, command, resource_id=id_transaccion(command),
                              resource_path=transaccion_path, present_resource=present_transaccion)


def own_campaigns(request, ids) -> None:
    """Conversions are reported by staff or by the campaign's brand; another brand's campaign is
    not found (404), like any id it may not see. Nothing is accepted if one of them is not its own."""
    scope = scope_of(request)
    scope.require(Rol.MARCA)
    if scope.staff:
        return
    foreign = sorted(set(ids) - queries.campanias_de_marca(scope.id_cliente, set(ids)), key=str)
    if foreign:
        raise NotFound(f"No existe la campaña {foreign[0]}.")


def visible_transacciones(request, queryset):
    """Staff see every commission (or click); a socio its own; a marca those of its campaigns."""
    return scope_of(request).restrict(queryset, marca=queries.de_campanias_de_marca, socio="id_socio")


def id_transaccion(command) -> uuid.UUID:
    return domain.id_transaccion(command.id_campania, command.id_externo)


class TransaccionesView(ListAPIView):
    queryset = Transaccion.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.TransaccionOutput

    def get_queryset(self):
        return visible_transacciones(
            self.request, queries.transacciones(**validated(serializers.TransaccionFiltros, self.request.query_params))
        )

    @extend_schema(summary="Listar transacciones (comisiones y ajustes)", parameters=[serializers.TransaccionFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TransaccionDetalleView(APIView):
    @extend_schema(summary="Detalle de una transacción", responses=serializers.TransaccionOutput)
    def get(self, request, id_transaccion):
        transaccion = visible_transacciones(request, queries.transacciones()).filter(id=id_transaccion).first()
        if transaccion is None:
            raise NotFound(f"No existe la transacción {id_transaccion}.")
        return Response(serializers.TransaccionOutput(transaccion).data)


# --- payout cycles and payouts -------------------------------------------------------------


def ciclo_path(id_ciclo) -> str:
    return reverse("pago-ciclo-detalle", args=[id_ciclo])


def present_ciclo(id_ciclo) -> dict:
    return serializers.CicloOutput(queries.ciclo(id_ciclo)).data


class CiclosView(ListAPIView):
    queryset = CicloPago.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.CicloOutput

    def get_queryset(self):
        scope_of(self.request).require()  # payout cycles are the back office's
        return queries.ciclos()

    @extend_schema(summary="Listar ciclos de pagos")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Ejecutar un ciclo de pagos ahora", request=serializers.EjecutarCicloInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.CicloOutput},
                   description="Agrupa por socio y moneda las comisiones pagables hasta el fin de la fecha de corte "
                               "y crea un payout por grupo que alcance el mínimo de su moneda. La misma fecha de corte "
                               "dos veces es el mismo ciclo: no paga nada dos veces.")
    def post(self, request, *args, **kwargs):
        scope_of(request).require()
        data = validated(serializers.EjecutarCicloInput, request.data)
        fecha_corte = data.get("fecha_corte") or timezone.localdate()
        command = commands.EjecutarCiclo(fecha_corte=fecha_corte, origen="api")
        return accept_command(request, CONTEXT, command, resource_id=domain.id_ciclo(fecha_corte),
                              resource_path=ciclo_path, present_resource=present_ciclo)


class CicloDetalleView(APIView):
    @extend_schema(summary="Detalle de un ciclo de pagos", responses=serializers.CicloOutput)
    def get(self, request, id_ciclo):
        scope_of(request).require()
        if (ciclo := queries.ciclo(id_ciclo)) is None:
            raise NotFound(f"No existe el ciclo {id_ciclo}.")
        return Response(serializers.CicloOutput(ciclo).data)


def payout_path(id_payout) -> str:
    return reverse("pago-payout-detalle", args=[id_payout])


def present_payout(id_payout) -> dict:
    return serializers.PayoutOutput(queries.payout(id_payout)).data


def visible_payouts(request, queryset):
    """Staff see every payout; a socio its own (brands see none)."""
    scope = scope_of(request)
    scope.require(Rol.SOCIO)
    return scope.restrict(queryset, socio="id_socio")


class PayoutsView(ListAPIView):
    queryset = Payout.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.PayoutOutput

    def get_queryset(self):
        return visible_payouts(self.request, queries.payouts(**validated(serializers.PayoutFiltros, self.request.query_params)))

    @extend_schema(summary="Listar payouts", parameters=[serializers.PayoutFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PayoutDetalleView(APIView):
    @extend_schema(summary="Detalle de un payout", responses=serializers.PayoutOutput)
    def get(self, request, id_payout):
        if (payout := visible_payouts(request, queries.payouts()).filter(id=id_payout).first()) is None:
            raise NotFound(f"No existe el payout {id_payout}.")
        return Response(serializers.PayoutOutput(payout).data)


class ReintentarPayoutView(APIView):
    @extend_schema(summary="Reintentar un payout FALLIDO", request=None,
                   responses={202: CommandAcceptedOutput, 200: serializers.PayoutOutput},
                   description="Vuelve a enviarlo a la pasarela (con una nueva clave de idempotencia) si todas sus "
                               "comisiones siguen libres; si un ciclo posterior ya las tomó, el comando falla.")
    def post(self, request, id_payout):
        scope_of(request).require()  # re-sending money is the back office's
        if queries.payout(id_payout) is None:
            raise NotFound(f"No existe el payout {id_payout}.")
        command = commands.ReintentarPayout(id_payout=id_payout)
        return accept_command(request, CONTEXT, command, resource_id=id_payout, resource_path=payout_path,
                              present_resource=present_payout)


# --- the performance report ----------------------------------------------------------------


class RendimientoView(ListAPIView):
    serializer_class = serializers.RendimientoOutput
    filter_backends = []  # its rows are computed from two aggregates, not a queryset to filter

    def get_queryset(self):
        scope_of(self.request).require(Rol.MARCA, Rol.SOCIO)  # an unlinked user: 403, whatever it asks
        filtros = validated(serializers.RendimientoFiltros, self.request.query_params)
        return queries.rendimiento(**filtros, acotar=lambda queryset: visible_transacciones(self.request, queryset))

    @extend_schema(summary="Reporte de rendimiento por día, campaña y socio", parameters=[serializers.RendimientoFiltros],
                   description="Clicks, clicks facturables, impresiones, conversiones, tasa de conversión y comisiones "
                               "por moneda de cada día (en la zona horaria de la plataforma), campaña y socio con "
                               "actividad, ordenados así. Una marca ve sus campañas; un socio, lo suyo.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
