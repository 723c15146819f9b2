"""Webhooks' one handler: an integration event becomes a delivery for every endpoint of every client
the routing table (domain.RUTAS) names that asked for its type, in the consumer's transaction, so
an event is turned into deliveries exactly once (the inbox deduplicates redeliveries)."""

import json
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from alpespartners.messaging.unit_of_work import UnitOfWork

from . import domain
from .models import CampaniaLocal, Endpoint, Entrega, EstadoEntrega, InscripcionLocal
from .projections import PROYECCIONES

CANAL_ENTREGAS = "webhooks_entregas"  # NOTIFYed when deliveries are due: the dispatcher wakes at once


def registrar_entregas(topic: str, envelopes: list[dict], uow: UnitOfWork) -> None:
    with uow:
        for envelope in envelopes:
            proyectar = PROYECCIONES.get(envelope["type"])
            if proyectar is not None:
                proyectar(envelope)
        ahora = timezone.now()
        entregas = [Entrega(endpoint_id=endpoint, event_id=envelope["id"], tipo=envelope["type"],
                            cuerpo=cuerpo(envelope), proximo_intento_en=ahora, plazo_hasta=ahora + plazo(),
                            fecha_creacion=ahora)
                    for envelope, endpoints in _endpoints_por_evento(topic, envelopes)
                    for endpoint in endpoints]
        Entrega.objects.bulk_create(entregas, ignore_conflicts=True)
        if entregas:
            avisar_despachador()
        uow.commit()


def _endpoints_por_evento(topic: str, envelopes: list[dict]) -> list[tuple[dict, list[uuid.UUID]]]:
    """Each envelope with the endpoints that receive it: a few queries for the whole batch."""
    campanias = {domain.id_campania(topic, envelope) for envelope in envelopes} - {None}
    marca_de = dict(CampaniaLocal.objects.filter(id__in=campanias).values_list("id", "id_marca"))
    inscritos_en: dict[uuid.UUID, set[uuid.UUID]] = {}
    if any(domain.SOCIOS_INSCRITOS in domain.RUTAS[topic][envelope["type"]] for envelope in envelopes):
        for id_campania, id_socio in InscripcionLocal.objects.filter(id_campania__in=campanias).values_list(
                "id_campania", "id_socio"):
            inscritos_en.setdefault(id_campania, set()).add(id_socio)
    clientes_por_evento = [domain.destinatarios(topic, envelope, marca_de, inscritos_en) for envelope in envelopes]
    todos = set().union(*clientes_por_evento)
    endpoints_de: dict[uuid.UUID, list[tuple[uuid.UUID, set[str]]]] = {}
    # Disabled endpoints too: what they miss waits for them (until its deadline), and can be replayed.
    for endpoint, id_cliente, eventos in Endpoint.objects.filter(id_cliente__in=todos).values_list(
            "id", "id_cliente", "eventos"):
        endpoints_de.setdefault(id_cliente, []).append((endpoint, set(eventos)))
    return [(envelope, [endpoint for id_cliente in clientes for endpoint, eventos in endpoints_de.get(id_cliente, [])
                        if envelope["type"] in eventos])
            for envelope, clientes in zip(envelopes, clientes_por_evento)]


def cuerpo(envelope: dict) -> str:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def plazo() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS_PLAZO_SEGUNDOS)


def avisar_despachador() -> None:
    """NOTIFY is transactional: the dispatcher hears it when the deliveries are committed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CANAL_ENTREGAS])


def rearmar(entregas, ahora: datetime) -> int:
    """Replay: the deliveries go again, as soon as the dispatcher can, with a new deadline."""
    return entregas.update(estado=EstadoEntrega.PENDIENTE, proximo_intento_en=ahora, plazo_hasta=ahora + plazo(),
                           entregada_en=None)


def registrar_entrega(topic: str, envelope: dict, uow: UnitOfWork) -> None:
    registrar_entregas(topic, [envelope], uow)
