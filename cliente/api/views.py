"""One thin view per operation: validate, build the command, hand it to the command log."""

import uuid

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.access.scope import scope_of
from alpespartners.api import accept_command, validated
from alpespartners.messaging.api import CommandAcceptedOutput

from ..models import ClienteView
from .. import commands, queries
from . import serializers

CONTEXT = "cliente"


def cliente_path(id_cliente) -> str:
    return reverse("cliente-detalle", args=[id_cliente])


def present(id_cliente) -> dict:
    return serializers.ClienteOutput(queries.cliente(id_cliente)).data


def visible(request, queryset):
    """Staff see every client; a marca or socio user only its own."""
    return scope_of(request).restrict(queryset, marca="id", socio="id")


def existing(request, id_cliente):
    if not visible(request, queries.clientes()).filter(id=id_cliente).exists():
        raise NotFound(f"No existe el cliente {id_cliente}.")
    return id_cliente


def accept(request, command, id_cliente, *, creates=False):
    return accept_command(request, CONTEXT, command, resource_id=id_cliente, resource_path=cliente_path,
                          present_resource=present, creates=creates)


class ClientesView(ListAPIView):
    queryset = ClienteView.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.ClienteOutput

    def get_queryset(self):
        return visible(self.request, queries.clientes(**validated(serializers.ClienteFiltros, self.request.query_params)))

    @extend_schema(summary="Listar clientes", parameters=[serializers.ClienteFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Registrar un cliente", request=serializers.RegistrarClienteInput,
                   responses={202: CommandAcceptedOutput, 201: serializers.ClienteOutput})
    def post(self, request):
        scope_of(request).require()  # onboarding is the back office's
        data = validated(serializers.RegistrarClienteInput, request.data)
        id_cliente = data.pop("id", None) or uuid.uuid4()
        return accept(request, commands.RegistrarCliente(id=id_cliente, **data), id_cliente, creates=True)


class ClienteView(APIView):
    @extend_schema(summary="Detalle de un cliente", responses=serializers.ClienteOutput)
    def get(self, request, id_cliente):
        return Response(present(existing(request, id_cliente)))

    @extend_schema(summary="Actualizar nombre o email", request=serializers.ActualizarClienteInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.ClienteOutput})
    def patch(self, request, id_cliente):
        data = validated(serializers.ActualizarClienteInput, request.data)
        return accept(request, commands.ActualizarCliente(id_cliente=existing(request, id_cliente), **data), id_cliente)


class SuspenderClienteView(APIView):
    @extend_schema(summary="Suspender un cliente", request=serializers.MotivoInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.ClienteOutput})
    def post(self, request, id_cliente):
        scope_of(request).require()  # suspending a client is the back office's
        data = validated(serializers.MotivoInput, request.data)
        return accept(request, commands.SuspenderCliente(id_cliente=existing(request, id_cliente), **data), id_cliente)


class ReactivarClienteView(APIView):
    @extend_schema(summary="Reactivar un cliente", request=serializers.MotivoInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.ClienteOutput})
    def post(self, request, id_cliente):
        scope_of(request).require()  # suspending a client is the back office's
        data = validated(serializers.MotivoInput, request.data)
        return accept(request, commands.ReactivarCliente(id_cliente=existing(request, id_cliente), **data), id_cliente)


class MediosPagoView(APIView):
    @extend_schema(summary="Registrar un medio de pago", request=serializers.RegistrarMedioPagoInput,
                   responses={202: CommandAcceptedOutput, 200: serializers.ClienteOutput})
    def post(self, request, id_cliente):
        data = validated(serializers.RegistrarMedioPagoInput, request.data)
        command = commands.RegistrarMedioPago(
            id_cliente=existing(request, id_cliente), id_medio_pago=data.pop("id", None) or uuid.uuid4(), **data
        )
        return accept(request, command, id_cliente)

