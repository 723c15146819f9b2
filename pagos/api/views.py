"""One thin view per operation: validate, build the command, hand it to the command log.

Charges are created only by CobrarCampania from campanias' approval saga (comandos.pagos);
the API reads them and can revert a confirmed one. Conversions come one by one or in batches
and become commissions (transacciones)."""

import uuid

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.api import accept_command, validated
from alpespartners.messaging.api import CommandAcceptedOutput, CommandOutput
from alpespartners.messaging.models import CommandLog

from .. import commands, domain, queries
from . import serializers

CONTEXT = "pagos"


def cobro_path(id_pago) -> str:
    return reverse("pago-cobro-detalle", args=[id_pago])


def present(id_pago) -> dict:
    return serializers.CobroOutput(queries.cobro(id_pago)).data


def existing(id_pago):
    if queries.cobro(id_pago) is None:
        raise NotFound(f"No existe el cobro {id_pago}.")
    return id_pago


class CobrosView(ListAPIView):
    serializer_class = serializers.CobroOutput

    def get_queryset(self):
        return queries.cobros(**validated(serializers.CobroFiltros, self.request.query_params))

    @extend_schema(summary="Listar cobros de campañas", parameters=[serializers.CobroFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CobroDetalleView(APIView):
    @extend_schema(summary="Detalle de un cobro", responses=serializers.CobroOutput)
    def get(self, request, id_pago):
        return Response(present(existing(id_pago)))


class RevertirCobroView(APIView):
    @extend_schema(summary="Revertir (reembolsar) un cobro CONFIRMADO", request=serializers.RevertirPagoInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.CobroOutput},
                   description="Reembolsa el cobro en la pasarela y publica PagoRevertido; campanias cancela la "
                               "campaña como compensación. Un cobro que no está CONFIRMADO hace FALLIDO el comando.")
    def post(self, request, id_pago):
        data = validated(serializers.RevertirPagoInput, request.data)
        command = commands.RevertirPago(id_pago=existing(id_pago), **data)
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
                               "agotado, sin monto) hace FALLIDO el comando con el motivo; un id_externo repetido "
                               "responde con la comisión que ya tiene.")
    def post(self, request):
        data = validated(serializers.ConversionInput, request.data)
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
        if queries.transaccion(id_transaccion(command)) is None:
            raise NotFound(f"La campaña {command.id_campania} no tiene una conversión {command.id_externo}.")
        return accept_command(request, CONTEXT, command, resource_id=id_transaccion(command),
                              resource_path=transaccion_path, present_resource=present_transaccion)


def id_transaccion(command) -> uuid.UUID:
    return domain.id_transaccion(command.id_campania, command.id_externo)


class TransaccionesView(ListAPIView):
    serializer_class = serializers.TransaccionOutput

    def get_queryset(self):
        return queries.transacciones(**validated(serializers.TransaccionFiltros, self.request.query_params))

    @extend_schema(summary="Listar transacciones (comisiones y ajustes)", parameters=[serializers.TransaccionFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TransaccionDetalleView(APIView):
    @extend_schema(summary="Detalle de una transacción", responses=serializers.TransaccionOutput)
    def get(self, request, id_transaccion):
        if queries.transaccion(id_transaccion) is None:
            raise NotFound(f"No existe la transacción {id_transaccion}.")
        return Response(present_transaccion(id_transaccion))
