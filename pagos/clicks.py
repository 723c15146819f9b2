"""Recording clicks and impressions on the hot path: no command and no transaction per click.

- The link is looked up in this process's memory (`enlace`), refreshed from the database at most
  every CLICKS_ENLACE_CACHE_SECONDS: a link retired, a campaign paused or its landing page changed
  is seen that late at worst — the same order as the consumer's own lag behind campanias — and the
  click in between is still recorded with the campaign's state of that moment. Unknown codes are
  remembered too, so a flood of made-up codes costs one query per code per TTL, not per request.
- A repeat is asked of Redis (SET NX EX, one round trip); bots are told by their user agent
  (crawlerdetect's maintained list), cached per user agent.
- The row goes to a per-process buffer written in batches (alpespartners/write_behind.py)."""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from dataclasses import dataclass

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

BUFFER = WriteBehind(Click, interval=settings.CLICKS_FLUSH_SECONDS, batch=settings.CLICKS_FLUSH_ROWS,
                     max_rows=settings.CLICKS_BUFFER_MAX_ROWS)


@dataclass(frozen=True)
class Enlace:
    codigo: str
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    estado_campania: str  # '' while pagos has no CampaniaCreada of it
    url_destino: str | None


class _Enlaces:
    """codigo → Enlace | None for CLICKS_ENLACE_CACHE_SECONDS. Emptied whole when full: a flood of
    made-up codes can cost memory up to the bound, never more."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Enlace | None]] = {}

    def get(self, codigo: str) -> Enlace | None:
        now = time.monotonic()
        entry = self._entries.get(codigo)
        if entry is not None and entry[0] > now:
            return entry[1]
        found = _buscar(codigo)
        with self._lock:
            if len(self._entries) >= settings.CLICKS_ENLACE_CACHE_MAX:
                self._entries.clear()
            self._entries[codigo] = (now + settings.CLICKS_ENLACE_CACHE_SECONDS, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


ENLACES = _Enlaces()


def enlace(codigo: str) -> Enlace | None:
    """The active link of this code, or None (unknown or retired)."""
    return ENLACES.get(codigo)


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


def primera_vez(tipo: domain.TipoInteraccion, codigo: str, direccion: str, user_agent: str) -> bool | None:
    """True if this visitor had not hit this link within the window; None if Redis did not answer.
    The key lives only for the window (SET NX EX), and holds a keyed hash, never the address."""
    huella = domain.huella_visitante(settings.CLICKS_VISITANTE_SECRETO.encode(), direccion, user_agent)
    try:
        return cache.add(f"clicks:visto:{tipo.value}:{codigo}:{huella}", 1, settings.CLICKS_REPETICION_SEGUNDOS)
    except Exception:
        logger.warning("clicks: repeat store unavailable", exc_info=True)
        return None


def registrar(request, enlace: Enlace, tipo: domain.TipoInteraccion) -> uuid.UUID:
    """Buffer the click or impression with its billability; returns its id (the click_id)."""
    id_click = uuid.uuid4()
    direccion = client_address(request)
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    motivo = domain.motivo_sin_visitante(enlace.estado_campania, es_bot(user_agent))
    if motivo is None:  # only a billable candidate spends the Redis round trip
        motivo = domain.motivo_por_repeticion(primera_vez(tipo, enlace.codigo, direccion, user_agent))
    BUFFER.add({
        "id": id_click, "tipo": tipo.value, "codigo": enlace.codigo, "id_campania": enlace.id_campania,
        "id_socio": enlace.id_socio, "ocurrido_en": timezone.now(), "ip": domain.truncar_direccion(direccion),
        "user_agent": domain.acotar(user_agent, domain.USER_AGENT_MAX),
        "referrer": domain.acotar(request.META.get("HTTP_REFERER", ""), domain.REFERRER_MAX),
        "facturable": motivo is None, "motivo": motivo.value if motivo else None,
    })
    return id_click
