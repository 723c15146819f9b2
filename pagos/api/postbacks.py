"""POST and GET /pagos/postbacks: a brand's server reports a conversion with the click id its visitor
brought, authenticated by the brand's postback secret instead of a user's token; and
POST /clientes/{id}/secreto-postback, which rotates that secret.

Who sends the postback is proven one of two ways:
- the secret itself: `X-Alpes-Token: <secreto>` (or `?token=` for a tracker that can only call a URL);
- a signature: `X-Alpes-Cliente: <id_cliente>`, `X-Alpes-Timestamp: <unix seconds>` and
  `X-Alpes-Signature: v1=<hex HMAC-SHA256 of "timestamp.body">` (of "timestamp.query" for a GET),
  the scheme of our webhooks.
After that it is a conversion like POST /pagos/conversiones, with campaign and partner taken from
the click: the same command, the same answers."""

import uuid

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions, status, throttling
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.access.models import Rol
from alpespartners.access.scope import scope_of
from alpespartners.api import accept_command, validated
from alpespartners.messaging.api import CommandAcceptedOutput
from alpespartners.throttling import FailedAuthenticationThrottle, RatesFromSettings

from .. import commands, domain, postbacks
from . import serializers
from .views import CONTEXT, id_transaccion, present_transaccion, transaccion_path


class PostbackAuthentication(authentication.BaseAuthentication):
    """The brand a postback speaks for (`request.auth`, a domain.Credencial), or 401 saying why;
    an address over its rate of wrong credentials gets 429, as with wrong API tokens."""

    def authenticate(self, request):
        try:
            return AnonymousUser(), self._credencial(request, timezone.now())
        except domain.CredencialInvalida as invalida:
            throttle = FailedAuthenticationThrottle()
            if not throttle.allow_request(request, None):
                raise exceptions.Throttled(throttle.wait()) from None
            raise exceptions.AuthenticationFailed(str(invalida)) from None

    def _credencial(self, request, ahora) -> domain.Credencial:
        firma = request.headers.get("X-Alpes-Signature")
        if firma is not None:
            try:
                id_cliente = uuid.UUID(request.headers.get("X-Alpes-Cliente", ""))
            except ValueError:
                raise domain.CredencialInvalida(
                    "Una petición firmada nombra a su cliente en X-Alpes-Cliente (su id, un UUID).") from None
            firmado = request._request.body if request.method == "POST" else request.META.get("QUERY_STRING", "").encode()
            return domain.verificar_firma(postbacks.del_cliente(id_cliente, ahora),
                                          request.headers.get("X-Alpes-Timestamp", ""), firmado, firma, ahora)
        token = request.headers.get("X-Alpes-Token") or request.query_params.get("token")
        if not token:
            raise domain.CredencialInvalida("Falta la credencial de postback: X-Alpes-Token (o ?token=) con el "
                                            "secreto, o la firma X-Alpes-Signature.")
        credencial = postbacks.por_token(token, ahora)
        if credencial is None:
            raise domain.CredencialInvalida("El secreto de postback no es válido o ya venció.")
        return credencial

    def authenticate_header(self, request):
        return "X-Alpes-Token"  # a 401, not a 403: the request can be repeated with a credential


class PostbackThrottle(RatesFromSettings, throttling.SimpleRateThrottle):
    """Postbacks per brand, at the rate of a user of the API (REST_FRAMEWORK rate "postback")."""

    scope = "postback"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.auth.id_cliente}


class PostbackRechazado(exceptions.APIException):
    """Refused before any command: the click is not one this brand can report."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.default_code = code  # the error shape's code (alpespartners.api.error_handler)


POSTBACK_DESCRIPTION = (
    "Autenticado con el secreto de postback de la marca, no con un token de usuario: `X-Alpes-Token` (o "
    "`?token=`), o `X-Alpes-Cliente` + `X-Alpes-Timestamp` + `X-Alpes-Signature: v1=<hex HMAC-SHA256 de "
    "\"timestamp.cuerpo\">` (del query en un GET). El click decide campaña y socio: un click desconocido o de "
    "otra marca responde 422 sin comando; después es una conversión como las de POST /pagos/conversiones "
    "(duplicada por id_externo, presupuesto, retención, Idempotency-Key y Prefer: wait), y además la conversión "
    "debe ocurrir dentro de la ventana de atribución de la campaña tras el click (click_fuera_de_ventana) y no "
    "antes que él (anterior_al_click)."
)


class PostbacksView(APIView):
    authentication_classes = (PostbackAuthentication,)
    permission_classes = ()  # the authentication either names the brand or refuses the request
    throttle_classes = (PostbackThrottle,)

    @extend_schema(summary="Registrar una conversión por postback (servidor a servidor)", auth=[],
                   request=serializers.PostbackInput, description=POSTBACK_DESCRIPTION,
                   responses={202: CommandAcceptedOutput, 201: serializers.TransaccionOutput})
    def post(self, request):
        return self._registrar(request, validated(serializers.PostbackInput, request.data))

    @extend_schema(summary="Registrar una conversión por postback con GET (para trackers)", auth=[],
                   parameters=[serializers.PostbackQuery,
                               OpenApiParameter("token", str, description="el secreto de postback")],
                   description=POSTBACK_DESCRIPTION,
                   responses={202: CommandAcceptedOutput, 201: serializers.TransaccionOutput})
    def get(self, request):
        return self._registrar(request, validated(serializers.PostbackQuery, request.query_params))

    def _registrar(self, request, data: dict) -> Response:
        click = postbacks.click_de_marca(data["click_id"], request.auth.id_cliente)
        if click is None and postbacks.existe_click(data["click_id"]):
            raise PostbackRechazado("click_de_otra_marca", "El click es de una campaña de otra marca.")
        if click is None:
            raise PostbackRechazado("click_desconocido", f"No hay un click {data['click_id']}: use el click_id que "
                                                         "recibió su página de destino.")
        command = commands.RegistrarConversion(
            id_externo=data["id_externo"], id_campania=click.id_campania, id_socio=click.id_socio, tipo=data["tipo"],
            monto=data.get("monto"), ocurrida_en=data.get("ocurrida_en") or timezone.now(),
            id_click=click.id, click_en=click.ocurrido_en,
        )
        return accept_command(request, CONTEXT, command, resource_id=id_transaccion(command),
                              resource_path=transaccion_path, present_resource=present_transaccion, creates=True,
                              on_behalf_of=request.auth.id_cliente)


class SecretoPostbackView(APIView):
    @extend_schema(summary="Rotar el secreto de postback de un cliente", request=serializers.RotarSecretoPostbackInput,
                   responses={201: serializers.SecretoPostbackOutput},
                   description="Crea un secreto nuevo y lo muestra esta única vez. El anterior sigue valiendo 24 h "
                               "(para desplegar el nuevo sin perder postbacks) o deja de valer ya con "
                               "revocar_anterior. Staff, o la marca para sí misma.")
    def post(self, request, id_cliente):
        scope = scope_of(request)
        scope.require(Rol.MARCA)
        scope.own_client(id_cliente)
        data = validated(serializers.RotarSecretoPostbackInput, request.data)
        try:
            rotacion = postbacks.rotar(id_cliente, revocar_anterior=data["revocar_anterior"], ahora=timezone.now())
        except postbacks.ClienteDesconocido:
            raise NotFound(f"No existe el cliente {id_cliente}.") from None
        body = {"id_cliente": id_cliente, "secreto": rotacion.secreto,
                "fecha_creacion": rotacion.credencial.fecha_creacion, "anterior_vale_hasta": rotacion.anterior_vale_hasta}
        # A secret in the answer: no cache may keep it.
        return Response(serializers.SecretoPostbackOutput(body).data, status=201, headers={"Cache-Control": "no-store"})
