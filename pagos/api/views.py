"""One thin view per operation: validate, build the command, hand it to the command log.

Charges are created only by CobrarCampania from campanias' approval saga (comandos.pagos);
the API reads them and can revert a confirmed one."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.api import accept_command, validated
from alpespartners.messaging.api import CommandAcceptedOutput

from .. import commands, queries
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
