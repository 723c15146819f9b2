"""What every API view shares: the one error shape, command acceptance, the input fields."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse, QueryDict
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler

from alpespartners import correlation
from alpespartners.messaging import command_log
from alpespartners.messaging.models import CommandLog, CommandStatus
from alpespartners.seedwork.domain import DECIMAL_TEXT, Monto, to_minor_unit

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 10
MAX_IDEMPOTENCY_KEY_LENGTH = 255  # CommandLog.idempotency_key
# Visible ASCII only: a NUL or an escape sequence stored in the log would end up in the admin and logs.
IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_IDEMPOTENCY_KEY_LENGTH}}}")

ERROR_CODES = {
    exceptions.ValidationError: "datos_invalidos",
    exceptions.ParseError: "json_invalido",
    exceptions.NotAuthenticated: "no_autenticado",
    exceptions.AuthenticationFailed: "no_autenticado",
    exceptions.PermissionDenied: "sin_permiso",
    exceptions.NotFound: "no_encontrado",
    exceptions.MethodNotAllowed: "metodo_no_permitido",
    exceptions.UnsupportedMediaType: "tipo_de_contenido_no_soportado",
    exceptions.Throttled: "demasiadas_peticiones",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflicto"


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_handler(exc, context):
    """DRF exception handler: every 4xx and 5xx in the one error shape, never a trace."""
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return unavailable_response(exc, Response)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Recurso no encontrado.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(internal_error_body(), status=500)
    code = next((code for kind, code in ERROR_CODES.items() if isinstance(exc, kind)), None)
    code = code or getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(code, "Los datos enviados no son válidos.", details)
    else:
        response.data = error_body(code, str(exc.detail))
    return response


# The database restarting or unreachable: nothing was written, and the same request will work once it
# is back. A client is told to retry, not that we have a bug.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def unavailable_response(error: Exception, response_class):
    logger.warning("database unavailable: %s: %s", type(error).__name__, error)
    response = response_class(error_body("servicio_no_disponible", "El servicio no está disponible en este momento; "
                                         f"reintente en {RETRY_AFTER_SECONDS} s."), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """The same 503 for views outside DRF (the admin, /metrics) when the database is away."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UNAVAILABLE_ERRORS):
            return unavailable_response(exception, JsonResponse)
        return None


def not_found_view(request, exception=None):
    return JsonResponse(error_body("no_encontrado", "Recurso no encontrado."), status=404)


def internal_error_body() -> dict:
    """What a client learns of a bug: that it happened, and the id operators find it by in the logs."""
    return error_body("error_interno", "Error interno del servidor. Si escribe a soporte, cite el correlation_id.",
                      {"correlation_id": correlation.current()})


def server_error_view(request):
    return JsonResponse(internal_error_body(), status=500)


def bad_request_view(request, exception=None):
    return JsonResponse(error_body("peticion_invalida", "Petición inválida."), status=400)


class BodySizeLimitMiddleware:
    """413 in the error shape for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, before anything reads it
    (DRF's parsers read the stream without Django's own check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return bad_request_view(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return JsonResponse(error_body("cuerpo_demasiado_grande", f"El cuerpo de la petición supera {limit} bytes.",
                                           {"max_bytes": limit}), status=413)
        return self.get_response(request)


class Pagination(PageNumberPagination):
    """DRF's page numbers, except that `?page=` empty or not a number is a 400, not page 1 or a 404."""

    def get_page_number(self, request, paginator):
        page = request.query_params.get(self.page_query_param)
        if page is not None and not page.isdigit() and page not in self.last_page_strings:
            raise exceptions.ValidationError({self.page_query_param: ["Debe ser un número de página (1, 2, …)."]})
        return super().get_page_number(request, paginator)


# --- commands -----------------------------------------------------------------


def validated(serializer_class, data) -> dict:
    """Validated input (a request body or its query parameters), or a 400 in the error shape."""
    serializer = serializer_class(data=data)
    if isinstance(data, QueryDict):
        # DRF reads `?filtro=` as "not sent" (HTML form rules); a filter sent empty is a mistake to report.
        blank = {name: ["No puede estar vacío."] for name, value in data.items() if value == "" and name in serializer.fields}
        if blank:
            raise exceptions.ValidationError(blank)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def command_links(request, entry: CommandLog, resource_path) -> dict:
    return {
        "command": request.build_absolute_uri(reverse("comando-detalle", args=[entry.id])),
        "resource": request.build_absolute_uri(resource_path(entry.resource_id)) if entry.resource_id else None,
    }


def requested_wait(request) -> float:
    match = re.search(r"wait=(\d+(?:\.\d+)?)", request.headers.get("Prefer", ""))
    return min(float(match.group(1)), MAX_WAIT_SECONDS) if match else 0.0


def accept_command(request, context: str, command, *, resource_id: uuid.UUID, resource_path,
                   present_resource, creates: bool = False, command_id: uuid.UUID | None = None,
                   on_behalf_of: uuid.UUID | None = None) -> Response:
    """Log the command, enqueue it after commit and answer 202 — or, with `Prefer: wait=N`
    and the command done in time, 201/200 with the resource (422 if it was refused).
    A replayed Idempotency-Key answers about the first command, not this request's ids.
    `on_behalf_of`: the client a request without a user speaks for (a brand's postback); its
    Idempotency-Keys are its own, apart from every other client's."""
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise exceptions.ValidationError({"Idempotency-Key": (
            f"Debe tener entre 1 y {MAX_IDEMPOTENCY_KEY_LENGTH} caracteres ASCII visibles "
            "(sin espacios ni caracteres de control)."
        )})
    user = request.user
    if on_behalf_of is not None:
        user = None
        if idempotency_key is not None:  # hashed, so the stored key fits whatever the client sent
            idempotency_key = f"{on_behalf_of}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    # A GET that commands (a tracker's postback) says everything in its query.
    body = request.query_params.dict() if request.method == "GET" else request.data
    try:
        entry, _ = command_log.submit(
            context,
            command,
            user=user,
            idempotency_key=idempotency_key,
            request_fingerprint=command_log.fingerprint(request.method, request.path, body),
            resource_id=resource_id,
            correlation_id=uuid.UUID(correlation.current()),  # bound for the request by CorrelationIdMiddleware
            command_id=command_id,
        )
    except command_log.IdempotencyKeyReused:
        raise Conflict("Esta Idempotency-Key ya se usó con otra petición.") from None
    wait = requested_wait(request)
    entry = command_log.wait_for(entry, wait)  # with no wait, one re-read: eager mode may have run it
    links = command_links(request, entry, resource_path)
    headers = {"Location": links["command"]}
    if wait and entry.status == CommandStatus.COMPLETADO:
        return Response(present_resource(entry.resource_id), status=201 if creates else 200,
                        headers={"Location": links["resource"]})
    if wait and entry.status == CommandStatus.FALLIDO:
        error = entry.error or {}
        body = error_body(error.get("code", "comando_fallido"), error.get("message", "El comando falló."),
                          {"command_id": str(entry.id), "field": error.get("field")})
        return Response(body, status=422, headers=headers)
    body = {"command_id": str(entry.id), "status": entry.status,
            "resource_id": str(entry.resource_id) if entry.resource_id else None, "links": links}
    return Response(body, status=202, headers=headers)


# --- input fields -------------------------------------------------------------


# DRF's fields coerce what the schema calls invalid: CharField takes 12 as "12", UUIDField takes
# true as UUID(int=1), BooleanField takes "yes" and 1, IntegerField takes "30". Found by schemathesis
# (id_externo: 12, id_socio: true accepted). Request bodies use these instead: the JSON type or 400.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


# Dates a request may carry: year 1 or 9999 overflowed time-zone arithmetic (error_interno) or made
# an empty payout cycle. A date outside these years is a 400 for every field, whatever its own rules.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2100, 12, 31)
DATE_RANGE_MESSAGE = f"Debe estar entre {FIRST_DATE.isoformat()} y {LAST_DATE.isoformat()}."
# Django's date parsing matches \d, so "٢٠٢٦-١١-٢٠" (Arabic-Indic digits) was read as 2026-11-20.
DATE_ASCII_MESSAGE = "Debe escribirse con dígitos ASCII (0-9), en formato ISO 8601."


def require_ascii(data) -> None:
    if isinstance(data, str) and not data.isascii():
        raise serializers.ValidationError(DATE_ASCII_MESSAGE)


class BoundedDateField(serializers.DateField):
    def to_internal_value(self, data):
        require_ascii(data)
        value = super().to_internal_value(data)
        if not FIRST_DATE <= value <= LAST_DATE:
            raise serializers.ValidationError(DATE_RANGE_MESSAGE)
        return value


class BoundedDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, data):
        require_ascii(data)
        if isinstance(data, str) and (match := re.match(r"\s*(\d{4})-", data)) and \
                not FIRST_DATE.year <= int(match.group(1)) <= LAST_DATE.year:
            raise serializers.ValidationError(DATE_RANGE_MESSAGE)  # before parsing: year 1 minus an offset overflows
        value = super().to_internal_value(data)
        if not FIRST_DATE <= value.date() <= LAST_DATE:
            raise serializers.ValidationError(DATE_RANGE_MESSAGE)
        return value


# --- money --------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "example": "1250.50"})
class DecimalTextField(serializers.Field):
    """A decimal as the contract writes money (DESIGN §2: a string), one way only: ASCII digits, an
    optional minus sign (the domain rules say where a sign is allowed), an optional point with digits on
    both sides. DRF's DecimalField would read " 10", "1e3", "1_000", "١٠" and the number 12.5 (a float)."""

    default_error_messages = {
        "numero": 'Envíe el valor como texto, p. ej. "12.50", no como número.',
        "formato": 'Debe ser un decimal escrito con dígitos ASCII, p. ej. "1250.50": sin espacios, separadores '
                   "de miles, guiones bajos ni exponente.",
        "digitos": "Admite como máximo {max_digits} dígitos.",
    }

    def __init__(self, *, max_digits: int, **kwargs):
        self.max_digits = max_digits
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            self.fail("numero")
        if not isinstance(data, str) or not DECIMAL_TEXT.fullmatch(data):
            self.fail("formato")
        if sum(character.isdigit() for character in data) > self.max_digits:
            self.fail("digitos", max_digits=self.max_digits)
        return Decimal(data)

    def to_representation(self, value):
        return str(value)


class MontoInput(serializers.Serializer):
    """A Monto in a request: `valor` a decimal string, `moneda` ISO 4217. The currency's decimals and
    the sign are the domain's rules for each amount (presupuesto, monto of a conversion)."""

    valor = DecimalTextField(max_digits=20)
    moneda = serializers.RegexField(r"^[A-Z]{3}$", error_messages={"invalid": "Debe ser un código ISO 4217 (p. ej. COP)."})

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return Monto(values["valor"], values["moneda"])


class MontoOutput(serializers.Serializer):
    valor = serializers.CharField()
    moneda = serializers.CharField()


def monto_json(valor: Decimal, moneda: str) -> dict[str, str]:
    """A stored amount as the API shows it: to the currency's minor unit, `valor` a string."""
    return {"valor": str(to_minor_unit(valor, moneda)), "moneda": moneda}
