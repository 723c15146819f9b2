"""Endpoints' storage side: register (the URL checked against what its name resolves to now), change,
remove, and replay deliveries. The rules are in domain.py; the API and the admin call here."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from alpespartners import registry

from . import domain, handlers
from .entregas import resolver
from .models import Endpoint, Entrega


class ClienteDesconocido(Exception):
    pass


class ReenvioRechazado(Exception):
    """Why deliveries cannot be replayed as asked; `code` is the API error's."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def validar_url(url: str) -> str:
    """The URL, or WebhookInvalido: https, and a name that resolves only to public addresses."""
    permitir = settings.WEBHOOKS_PERMITIR_LOOPBACK
    destino = domain.destino(url, permitir)
    domain.direcciones_permitidas(destino.host, resolver(destino.host, destino.puerto), permitir)
    return url


@dataclass(frozen=True)
class Registro:
    endpoint: Endpoint
    secreto: str  # in clear, this once


def registrar(id_cliente: uuid.UUID, url: str, eventos: list[str], activo: bool = True) -> Registro:
    if registry.find_client(id_cliente) is None:
        raise ClienteDesconocido(id_cliente)
    secreto = domain.nuevo_secreto()
    endpoint = Endpoint.objects.create(id_cliente=id_cliente, url=validar_url(url),
                                       eventos=domain.validar_tipos(eventos), secreto=secreto, activo=activo)
    return Registro(endpoint, secreto)


def actualizar(endpoint: Endpoint, *, url: str | None = None, eventos: list[str] | None = None,
               activo: bool | None = None) -> Endpoint:
    """Enabling an endpoint again (after the dispatcher disabled it) starts a new run of failures: what
    waited for it goes out at once."""
    if url is not None:
        endpoint.url = validar_url(url)
    if eventos is not None:
        endpoint.eventos = domain.validar_tipos(eventos)
    if activo is not None:
        if activo and not endpoint.activo:
            endpoint.fallos_seguidos, endpoint.deshabilitado_en, endpoint.motivo_deshabilitado = 0, None, ""
        endpoint.activo = activo
    with transaction.atomic():
        endpoint.save()
        if endpoint.activo:
            handlers.avisar_despachador()
    return endpoint


def limite_de_reenvio(ahora: datetime) -> datetime:
    return ahora - timedelta(days=settings.WEBHOOKS_RETENCION_DIAS)


def reenviar(endpoint: Endpoint, *, ahora: datetime, ids: list[uuid.UUID] | None = None,
             desde: datetime | None = None) -> int:
    """Sends some deliveries (`ids`), or every delivery created since `desde`, again: the same body and
    event id, a new deadline. Returns how many."""
    if not endpoint.activo:
        raise ReenvioRechazado("endpoint_deshabilitado", "El endpoint está deshabilitado"
                               + (f" ({endpoint.motivo_deshabilitado})" if endpoint.motivo_deshabilitado else "")
                               + ": actívelo (activo: true) antes de reenviar.")
    entregas = Entrega.objects.filter(endpoint=endpoint)
    if ids is not None:
        entregas = entregas.filter(id__in=ids)
    if desde is not None:
        limite = limite_de_reenvio(ahora)
        if desde < limite:
            raise ReenvioRechazado("fuera_de_retencion", f"Las entregas se guardan {settings.WEBHOOKS_RETENCION_DIAS} "
                                   f"días: no se puede reenviar desde antes de {limite.isoformat()}.")
        entregas = entregas.filter(fecha_creacion__gte=desde)
    with transaction.atomic():
        cuantas = handlers.rearmar(entregas, ahora)
        if cuantas:
            handlers.avisar_despachador()
    return cuantas
