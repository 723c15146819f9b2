"""Recording clicks and impressions on the hot path: no command and no transaction per click.

- The link is looked up in this process's memory (`enlace`), refreshed from the database at most
  every CLICKS_ENLACE_CACHE_SECONDS: a link retired, a campaign paused or its landing page changed
  is seen that late at worst — the same order as the consumer's own lag behind campanias — and the
  click in between is still recorded with the campaign's state of that moment. Unknown codes are
  remembered too, so a flood of made-up codes costs one query per code per TTL, not per request.
- The row goes to a per-process buffer written in batches (alpespartners/write_behind.py): the
  request does no network round trip at all when its link is cached.
- Billability is decided in the buffer's writing thread, just before the write (`decidir`): bots
  by their user agent (crawlerdetect's maintained list, cached per user agent), repeats by one
  Redis pipeline of SET NX EX for the whole batch."""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from dataclasses import dataclass

import cachetools
import redis
from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from alpespartners.client_address import client_address
from alpespartners.write_behind import WriteBehind

from . import domain
from .models import CampaniaLocal, Click, EnlaceLocal

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Enlace:
    codigo: str
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    estado_campania: str  # '' while pagos has no CampaniaCreada of it
    url_destino: str | None


# codigo → Enlace | None. Bounded (least recently used out first), so a flood of made-up codes
# costs memory up to the bound, never more.
ENLACES = cachetools.TTLCache(maxsize=settings.CLICKS_ENLACE_CACHE_MAX, ttl=settings.CLICKS_ENLACE_CACHE_SECONDS)


@cachetools.cached(ENLACES, lock=threading.Lock())
def enlace(codigo: str) -> Enlace | None:
    """The active link of this code, or None (unknown or retired)."""
    return _buscar(codigo)


def _buscar(codigo: str) -> Enlace | None:
    campania = CampaniaLocal.objects.filter(id=OuterRef("id_campania"))
    row = (EnlaceLocal.objects.filter(codigo=codigo, activo=True)
           .annotate(estado=Subquery(campania.values("estado")[:1]), url=Subquery(campania.values("url_destino")[:1]))
           .values_list("id_campania", "id_socio", "estado", "url").first())
    if row is None:
        return None
    id_campania, id_socio, estado, url = row
    return Enlace(codigo, id_campania, id_socio, estado or "", url)


# Shared by threads: only its `matches` (never read here) is per call; its own cache is thread-safe.
DETECTOR = CrawlerDetect()


@functools.lru_cache(maxsize=8192)
def es_bot(user_agent: str) -> bool:
    """A browser always names itself: no user agent at all is a script. crawlerdetect's one large
    regular expression costs ~0.3 ms on a user agent not seen before, so the answer is kept per user
    agent: real traffic repeats a few thousand browser strings."""
    return not user_agent.strip() or DETECTOR.is_crawler(user_agent)


def registrar(request, enlace: Enlace, tipo: domain.TipoInteraccion) -> uuid.UUID:
    """Buffer the click or impression; returns its id (the click_id). Whether it is billable is
    decided by `decidir`, in the buffer's writing thread: the visitor does not wait for it."""
    id_click = uuid.uuid4()
    direccion = client_address(request)
    user_agent = domain.acotar(request.META.get("HTTP_USER_AGENT", ""), domain.USER_AGENT_MAX)
    BUFFER.add({
        "id": id_click, "tipo": tipo.value, "codigo": enlace.codigo, "id_campania": enlace.id_campania,
        "id_socio": enlace.id_socio, "ocurrido_en": timezone.now(), "ip": domain.truncar_direccion(direccion),
        "user_agent": user_agent,
        "referrer": domain.acotar(request.META.get("HTTP_REFERER", ""), domain.REFERRER_MAX),
        # Until decided: the campaign's state as the link cache saw it, and the visitor's keyed hash
        # (the full address and user agent, never stored).
        ESTADO: enlace.estado_campania,
        HUELLA: domain.huella_visitante(settings.CLICKS_VISITANTE_SECRETO.encode(), direccion,
                                        request.META.get("HTTP_USER_AGENT", "")),
    })
    return id_click


ESTADO, HUELLA = "_estado_campania", "_huella"


def decidir(rows: list[dict]) -> None:
    """`facturable` and `motivo` of every undecided row, in arrival order. The repeat check is one
    Redis pipeline of SET NX EX for the whole batch (the window counts from the write, at most a
    flush interval after the click)."""
    pendientes = []
    for row in rows:
        if HUELLA not in row:
            continue  # decided before a failed write
        motivo = domain.motivo_sin_visitante(row.pop(ESTADO), es_bot(row["user_agent"]))
        huella = row.pop(HUELLA)
        if motivo is None:  # only a billable candidate needs the visitor's history
            pendientes.append((row, f"clicks:visto:{row['tipo']}:{row['codigo']}:{huella}"))
        _marcar(row, motivo)
    if not pendientes:
        return
    primeras = primeras_veces([clave for _, clave in pendientes])
    for index, (row, _) in enumerate(pendientes):
        _marcar(row, domain.motivo_por_repeticion(None if primeras is None else primeras[index]))


def _marcar(row: dict, motivo: domain.MotivoNoFacturable | None) -> None:
    row["facturable"], row["motivo"] = motivo is None, motivo.value if motivo else None


def primeras_veces(claves: list[str]) -> list[bool] | None:
    """For each key, whether it was absent (then set for the window); None if the store did not
    answer. The same key twice in one batch: the first is new, the second a repeat."""
    ventana = settings.CLICKS_REPETICION_SEGUNDOS
    try:
        client = repeat_store()
        if client is None:  # no Redis configured (the embedded default): this process's cache
            return [cache.add(clave, 1, ventana) for clave in claves]
        pipeline = client.pipeline(transaction=False)
        for clave in claves:
            pipeline.set(clave, 1, nx=True, ex=ventana)
        return [bool(answer) for answer in pipeline.execute()]
    except Exception:
        logger.warning("clicks: repeat store unavailable for %d visits", len(claves), exc_info=True)
        return None


# A slow Redis must not hold a batch long: the batch is in no one's memory but the writing thread's,
# so a crash meanwhile loses it too (the crash bound is the interval plus this, plus the COPY).
REPEAT_STORE_TIMEOUT_SECONDS = 0.25


@functools.cache
def repeat_store() -> redis.Redis | None:
    location = str(settings.CACHES["default"].get("LOCATION", ""))
    if not location.startswith(("redis://", "rediss://")):
        return None
    return redis.Redis.from_url(location, socket_timeout=REPEAT_STORE_TIMEOUT_SECONDS,
                                socket_connect_timeout=REPEAT_STORE_TIMEOUT_SECONDS)


BUFFER = WriteBehind(Click, interval=settings.CLICKS_FLUSH_SECONDS, batch=settings.CLICKS_FLUSH_ROWS,
                     max_rows=settings.CLICKS_BUFFER_MAX_ROWS, prepare=decidir)
