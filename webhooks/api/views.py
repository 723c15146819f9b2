"""/webhooks: a client's endpoints (the secret shown once, at creation), their deliveries with every
attempt, and replays. Staff see and manage every client's; a brand or a partner its own."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.access.models import Rol
from alpespartners.access.scope import scope_of
from alpespartners.api import validated

from .. import domain, endpoints, queries
from ..models import Endpoint, Entrega
from . import serializers


class WebhookRechazado(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, message: str, status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(message)
        self.default_code, self.status_code = code, status_code  # the error shape's code


def _invalido(invalido: domain.WebhookInvalido, campo: str):
    return exceptions.ValidationError({campo: [str(invalido)]})


def sin_cuerpo(request) -> None:
    """Parses the body nobody reads: bytes that are not JSON are refused here too (400 json_invalido)."""
    request.data  # noqa: B018


def visibles(request):
    scope = scope_of(request)
    scope.require(Rol.MARCA, Rol.SOCIO)
    return scope.restrict(queries.endpoints(), marca="id_cliente", socio="id_cliente")


def existente(request, id_endpoint) -> Endpoint:
    endpoint = visibles(request).filter(id=id_endpoint).first()
    if endpoint is None:
        raise NotFound(f"No existe el endpoint {id_endpoint}.")
    return endpoint


class EndpointsView(ListAPIView):
    queryset = Endpoint.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.EndpointOutput

    def get_queryset(self):
        return visibles(self.request).order_by("-fecha_creacion", "id")

    @extend_schema(summary="Listar endpoints de webhooks")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Registrar un endpoint de webhooks", request=serializers.EndpointInput,
                   responses={201: serializers.EndpointCreadoOutput},
                   description="La URL debe ser https y resolver solo a direcciones públicas. El secreto que firma "
                               "las entregas se muestra esta única vez.")
    def post(self, request):
        scope = scope_of(request)
        scope.require(Rol.MARCA, Rol.SOCIO)
        data = validated(serializers.EndpointInput, request.data)
        if scope.staff and "id_cliente" not in data:
            raise exceptions.ValidationError({"id_cliente": ["Staff registra endpoints en nombre de un cliente: "
                                                             "nómbrelo."]})
        id_cliente = scope.own_client(data["id_cliente"]) if "id_cliente" in data else scope.id_cliente
        try:
            registro = endpoints.registrar(id_cliente, data["url"], data["eventos"], data["activo"])
        except domain.WebhookInvalido as invalido:
            raise _invalido(invalido, "url") from None
        except endpoints.ClienteDesconocido:
            raise NotFound(f"No existe el cliente {id_cliente}.") from None
        body = {**serializers.EndpointOutput(registro.endpoint).data, "secreto": registro.secreto}
        # A secret in the answer: no cache may keep it.
        return Response(serializers.EndpointCreadoOutput(body).data, status=201, headers={"Cache-Control": "no-store"})


class EndpointDetalleView(APIView):
    @extend_schema(summary="Ver un endpoint de webhooks", responses=serializers.EndpointOutput)
    def get(self, request, id_endpoint):
        return Response(serializers.EndpointOutput(existente(request, id_endpoint)).data)

    @extend_schema(summary="Cambiar un endpoint de webhooks (URL, eventos, activarlo de nuevo)",
                   request=serializers.EndpointCambios, responses=serializers.EndpointOutput)
    def patch(self, request, id_endpoint):
        endpoint = existente(request, id_endpoint)
        data = validated(serializers.EndpointCambios, request.data)
        try:
            endpoints.actualizar(endpoint, **data)
        except domain.WebhookInvalido as invalido:
            raise _invalido(invalido, "url" if "url" in data else "eventos") from None
        return Response(serializers.EndpointOutput(existente(request, id_endpoint)).data)

    @extend_schema(summary="Eliminar un endpoint de webhooks (y sus entregas)", responses={204: None})
    def delete(self, request, id_endpoint):
        sin_cuerpo(request)
        existente(request, id_endpoint).delete()
        return Response(status=204)


class EntregasView(ListAPIView):
    queryset = Entrega.objects.none()
    serializer_class = serializers.EntregaOutput

    def get_queryset(self):
        endpoint = existente(self.request, self.kwargs["id_endpoint"])
        return queries.entregas(endpoint, **validated(serializers.EntregaFiltros, self.request.query_params))

    @extend_schema(summary="Listar las entregas de un endpoint, con cada intento", parameters=[serializers.EntregaFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _reenviar(request, id_endpoint, **cuales) -> int:
    try:
        return endpoints.reenviar(existente(request, id_endpoint), ahora=timezone.now(), **cuales)
    except endpoints.ReenvioRechazado as rechazo:
        codigo_http = 409 if rechazo.code == "endpoint_deshabilitado" else 400
        raise WebhookRechazado(rechazo.code, str(rechazo), codigo_http) from None


class ReenviarEntregaView(APIView):
    @extend_schema(summary="Reenviar una entrega (el mismo evento, el mismo id)", request=None,
                   responses={202: serializers.EntregaOutput})
    def post(self, request, id_endpoint, id_entrega):
        sin_cuerpo(request)
        if not _reenviar(request, id_endpoint, ids=[id_entrega]):
            raise NotFound(f"No existe la entrega {id_entrega}.")
        entrega = queries.entregas(existente(request, id_endpoint)).get(id=id_entrega)
        return Response(serializers.EntregaOutput(entrega).data, status=202)


class ReenviarDesdeView(APIView):
    @extend_schema(summary="Reenviar todas las entregas desde un instante", request=serializers.ReenvioInput,
                   responses={202: serializers.ReenvioOutput})
    def post(self, request, id_endpoint):
        data = validated(serializers.ReenvioInput, request.data)
        return Response({"reenviadas": _reenviar(request, id_endpoint, desde=data["desde"])}, status=202)
