"""Sending deliveries: the `entregar_webhooks` process claims the deliveries that are due, POSTs each
from a pool of threads and records every attempt; a failed one is due again later (domain.Reintentos).

Isolation: one endpoint holds at most WEBHOOKS_POR_ENDPOINT threads, however many of its deliveries
are due and however long it takes to answer, so a slow or dead endpoint leaves the others the rest.
A claim is a lease: a delivery under way is due again only when its lease ends, so a dispatcher that
dies mid-attempt leaves it to be sent again (receivers deduplicate by X-Alpes-Event-Id).
"""

from __future__ import annotations

import logging
import random
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import urllib3
from cachetools import LRUCache
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, F, Min, OuterRef
from django.utils import timezone

from alpespartners.messaging.listen import autocommit_connection
from alpespartners.messaging.retries import TRANSIENT_ERRORS

from . import domain
from .handlers import CANAL_ENTREGAS
from .models import Endpoint, Entrega, EstadoEntrega, Intento

logger = logging.getLogger(__name__)

LARGO_RESPUESTA = 500  # the first characters of an answer kept with its attempt
VENCER_CADA_SEGUNDOS = 30  # how often deliveries past their deadline are failed


@dataclass(frozen=True)
class Trabajo:
    """A claimed delivery, with what sending it needs."""

    id_entrega: uuid.UUID
    id_endpoint: uuid.UUID
    url: str
    secreto: str
    event_id: str
    tipo: str
    cuerpo: str
    numero: int  # this attempt's number, 1 for the first
    plazo_hasta: datetime
    lease: datetime  # its proximo_intento_en while under way; changed meanwhile only by a replay


@dataclass(frozen=True)
class Respuesta:
    status: int | None  # None: no HTTP answer
    latencia_ms: int
    respuesta: str = ""
    error: str = ""


def reintentos() -> domain.Reintentos:
    return domain.Reintentos(inicial=timedelta(seconds=settings.WEBHOOKS_REINTENTO_INICIAL_SEGUNDOS),
                             maximo=timedelta(seconds=settings.WEBHOOKS_REINTENTO_MAXIMO_SEGUNDOS))


def _pendientes(ahora: datetime):
    return Entrega.objects.filter(estado=EstadoEntrega.PENDIENTE, proximo_intento_en__lte=ahora)


def reclamar(libres: int, en_vuelo: dict[uuid.UUID, int], por_endpoint: int, ahora: datetime) -> list[Trabajo]:
    """Up to `libres` due deliveries of enabled endpoints, none beyond what each endpoint may still
    hold; the endpoints are taken in a random order, so when threads are short none waits for ever."""
    endpoints = list(Endpoint.objects.filter(activo=True).filter(
        Exists(_pendientes(ahora).filter(endpoint=OuterRef("pk")))).values_list("id", "url", "secreto"))
    random.shuffle(endpoints)
    lease = ahora + timedelta(seconds=2 * settings.WEBHOOKS_TIMEOUT_SEGUNDOS + 30)
    trabajos = []
    with transaction.atomic():
        for id_endpoint, url, secreto in endpoints:
            cupo = min(por_endpoint - en_vuelo.get(id_endpoint, 0), libres - len(trabajos))
            if cupo <= 0:
                continue
            filas = list(_pendientes(ahora).filter(endpoint_id=id_endpoint).order_by("proximo_intento_en")
                         .select_for_update(skip_locked=True)
                         .values_list("id", "event_id", "tipo", "cuerpo", "intentos", "plazo_hasta")[:cupo])
            trabajos += [Trabajo(id_entrega, id_endpoint, url, secreto, str(event_id), tipo, cuerpo, intentos + 1, plazo,
                                 lease)
                         for id_entrega, event_id, tipo, cuerpo, intentos, plazo in filas]
        if trabajos:
            Entrega.objects.filter(id__in=[trabajo.id_entrega for trabajo in trabajos]).update(
                proximo_intento_en=lease, intentos=F("intentos") + 1)
    return trabajos


def vencer(ahora: datetime) -> int:
    """Fails the deliveries whose run ended while they waited (for a disabled endpoint, say): a late
    event is not sent once its 24 h are over, unless it is replayed."""
    return _pendientes(ahora).filter(plazo_hasta__lt=ahora).update(estado=EstadoEntrega.FALLIDA)


class ClienteHttp:
    """POSTs to an endpoint at an address checked just before (domain.direcciones_permitidas): the
    connection goes to that address, with the URL's name for TLS and Host, so a name cannot resolve
    to a public address when registered and to a private one when called."""

    def __init__(self, *, timeout: float, permitir_loopback: bool, conexiones_por_destino: int):
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self.permitir_loopback = permitir_loopback
        self.conexiones_por_destino = conexiones_por_destino
        self._pools: LRUCache = LRUCache(maxsize=1000)
        self._lock = threading.Lock()

    def enviar(self, url: str, cuerpo: bytes, cabeceras: dict[str, str]) -> Respuesta:
        inicio = time.monotonic()
        try:
            destino = domain.destino(url, self.permitir_loopback)
            direccion = domain.direcciones_permitidas(destino.host, resolver(destino.host, destino.puerto),
                                                      self.permitir_loopback)[0]
        except domain.WebhookInvalido as rechazo:
            return Respuesta(None, _ms(inicio), error=str(rechazo))
        partes = urllib3.util.parse_url(url)
        ruta = (partes.path or "/") + (f"?{partes.query}" if partes.query else "")
        host = destino.host if ":" not in destino.host else f"[{destino.host}]"
        if partes.port:
            host += f":{partes.port}"
        try:
            respuesta = self._pool(destino, direccion).urlopen(
                "POST", ruta, body=cuerpo, headers={**cabeceras, "Host": host}, retries=False, redirect=False,
                preload_content=False, assert_same_host=False, timeout=self.timeout)
        except urllib3.exceptions.HTTPError as error:
            return Respuesta(None, _ms(inicio), error=_motivo(error))
        try:
            leido = respuesta.read(LARGO_RESPUESTA, decode_content=False)
            if respuesta.length_remaining:  # a long answer: not read to the end, so not reusable
                respuesta.close()
        except urllib3.exceptions.HTTPError as error:
            return Respuesta(respuesta.status, _ms(inicio), error=_motivo(error))
        finally:
            respuesta.release_conn()
        return Respuesta(respuesta.status, _ms(inicio), respuesta=leido.decode("utf-8", "replace"))

    def _pool(self, destino: domain.Destino, direccion: str):
        clave = (destino.esquema, direccion, destino.puerto, destino.host)
        with self._lock:
            pool = self._pools.get(clave)
            if pool is None:
                opciones = {"maxsize": self.conexiones_por_destino, "block": False}
                if destino.esquema == "https":
                    pool = urllib3.HTTPSConnectionPool(direccion, destino.puerto, server_hostname=destino.host,
                                                       assert_hostname=destino.host, cert_reqs="CERT_REQUIRED", **opciones)
                else:  # only to loopback, where WEBHOOKS_PERMITIR_LOOPBACK allows it (tests)
                    pool = urllib3.HTTPConnectionPool(direccion, destino.puerto, **opciones)
                self._pools[clave] = pool
            return pool


def resolver(host: str, puerto: int) -> list[str]:
    try:
        return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, puerto, type=socket.SOCK_STREAM)))
    except (socket.gaierror, UnicodeError) as error:
        raise domain.WebhookInvalido(f"El nombre {host} no resuelve: {error}.") from None


def _ms(inicio: float) -> int:
    return round((time.monotonic() - inicio) * 1000)


def _motivo(error: Exception) -> str:
    if isinstance(error, urllib3.exceptions.NewConnectionError):  # first: urllib3 makes it a kind of timeout
        return "No se pudo conectar (conexión rechazada o inalcanzable)."
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return "Sin respuesta dentro del tiempo límite."
    return f"{type(error).__name__}: {error}"[:500]


def registrar(trabajo: Trabajo, respuesta: Respuesta, ahora: datetime) -> None:
    """The attempt, the delivery's new state and the endpoint's run of failures, in one transaction."""
    with transaction.atomic():
        Intento.objects.create(entrega_id=trabajo.id_entrega, numero=trabajo.numero, fecha=ahora,
                               status=respuesta.status, latencia_ms=respuesta.latencia_ms,
                               respuesta=respuesta.respuesta[:LARGO_RESPUESTA], error=respuesta.error[:500])
        # A replay while the attempt was under way re-armed it: the replay stands, whatever this attempt got.
        entrega = Entrega.objects.filter(id=trabajo.id_entrega, proximo_intento_en=trabajo.lease)
        endpoint = Endpoint.objects.filter(id=trabajo.id_endpoint)
        if domain.exitoso(respuesta.status):
            entrega.update(estado=EstadoEntrega.ENTREGADA, entregada_en=ahora)
            endpoint.filter(fallos_seguidos__gt=0).update(fallos_seguidos=0)
            return
        siguiente = reintentos().siguiente(trabajo.numero, ahora, trabajo.plazo_hasta)
        if siguiente is None:
            entrega.update(estado=EstadoEntrega.FALLIDA)
        else:
            entrega.update(proximo_intento_en=siguiente)
        endpoint.update(fallos_seguidos=F("fallos_seguidos") + 1)
        limite = settings.WEBHOOKS_FALLOS_PARA_DESHABILITAR
        if endpoint.filter(activo=True, fallos_seguidos__gte=limite).update(
                activo=False, deshabilitado_en=ahora,
                motivo_deshabilitado=f"{limite} intentos fallidos seguidos; el último: {describir(respuesta)}"[:500]):
            logger.warning("webhook endpoint %s disabled after %s failed attempts in a row", trabajo.id_endpoint, limite)


def describir(respuesta: Respuesta) -> str:
    return f"HTTP {respuesta.status}" if respuesta.status is not None else respuesta.error


def entregar(trabajo: Trabajo, cliente: ClienteHttp) -> Respuesta:
    """One attempt: sign the delivery's body now, POST it, record what happened."""
    cuerpo = trabajo.cuerpo.encode()
    cabeceras = domain.cabeceras(trabajo.secreto, trabajo.event_id, trabajo.tipo, cuerpo, timezone.now(), trabajo.numero)
    respuesta = cliente.enviar(trabajo.url, cuerpo, cabeceras)
    registrar(trabajo, respuesta, timezone.now())
    logger.info("webhook %s %s to endpoint %s, attempt %s: %s in %s ms", trabajo.tipo, trabajo.event_id,
                trabajo.id_endpoint, trabajo.numero, describir(respuesta), respuesta.latencia_ms)
    return respuesta


class Despachador:
    """The loop of `manage.py entregar_webhooks`: claim what is due while threads are free; wake when
    the consumer NOTIFYs new deliveries (heard by a listening thread), when an attempt ends (a thread,
    maybe of an endpoint at its cap, is free), at the next retry due, or every WEBHOOKS_ESPERA_SEGUNDOS;
    stop on SIGTERM after the attempts under way."""

    def __init__(self, *, hilos: int | None = None, por_endpoint: int | None = None, espera: float | None = None,
                 stopping: threading.Event | None = None):
        self.hilos = hilos or settings.WEBHOOKS_HILOS
        self.por_endpoint = por_endpoint or settings.WEBHOOKS_POR_ENDPOINT
        self.espera = espera or settings.WEBHOOKS_ESPERA_SEGUNDOS
        self.cliente = ClienteHttp(timeout=settings.WEBHOOKS_TIMEOUT_SEGUNDOS,
                                   permitir_loopback=settings.WEBHOOKS_PERMITIR_LOOPBACK,
                                   conexiones_por_destino=self.por_endpoint)
        self.stopping = stopping or threading.Event()
        self.despertar = threading.Event()
        self.en_vuelo: dict[Future, Trabajo] = {}
        self.intentos = 0
        self.proximo_vencimiento = 0.0

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._parar())

    def _parar(self) -> None:
        self.stopping.set()
        self.despertar.set()

    def run(self) -> None:
        logger.info("webhooks dispatcher: %s threads, %s per endpoint", self.hilos, self.por_endpoint)
        if connection.vendor == "postgresql":  # SQLite (the demo) has no NOTIFY: it polls
            threading.Thread(target=self._escuchar, name="webhooks-listen", daemon=True).start()
        with ThreadPoolExecutor(self.hilos, thread_name_prefix="webhook") as hilos:
            while not self.stopping.is_set():
                try:
                    self._despachar(hilos)
                except TRANSIENT_ERRORS as error:
                    logger.warning("webhooks dispatcher: database unavailable (%s); retrying", error)
                    connection.close()
                    self.stopping.wait(1.0)
            wait(self.en_vuelo)

    def _despachar(self, hilos: ThreadPoolExecutor) -> None:
        self.despertar.clear()  # before claiming: whatever happens from now on wakes the wait below
        if time.monotonic() >= self.proximo_vencimiento:
            vencer(timezone.now())
            self.proximo_vencimiento = time.monotonic() + VENCER_CADA_SEGUNDOS
        for terminado in [future for future in self.en_vuelo if future.done()]:
            del self.en_vuelo[terminado]
        libres = self.hilos - len(self.en_vuelo)
        trabajos = []
        if libres > 0:
            por_endpoint: dict[uuid.UUID, int] = {}
            for trabajo in self.en_vuelo.values():
                por_endpoint[trabajo.id_endpoint] = por_endpoint.get(trabajo.id_endpoint, 0) + 1
            trabajos = reclamar(libres, por_endpoint, self.por_endpoint, timezone.now())
        for trabajo in trabajos:
            intento = hilos.submit(self._intentar, trabajo)
            intento.add_done_callback(lambda _: self.despertar.set())
            self.en_vuelo[intento] = trabajo
        if not trabajos:
            self.despertar.wait(self._hasta_el_proximo())

    def _hasta_el_proximo(self) -> float:
        """Seconds until the next retry is due (at most `espera`): a NOTIFY announces new deliveries, not retries."""
        proximo = Entrega.objects.filter(estado=EstadoEntrega.PENDIENTE, endpoint__activo=True).aggregate(
            proximo=Min("proximo_intento_en"))["proximo"]
        if proximo is None:
            return self.espera
        return min(max((proximo - timezone.now()).total_seconds(), 0.0), self.espera)

    def _intentar(self, trabajo: Trabajo) -> None:
        try:
            entregar(trabajo, self.cliente)
            self.intentos += 1
        except Exception:  # noqa: BLE001  the lease brings it back; the thread must live on
            logger.exception("webhook delivery %s could not be recorded; retried when its lease ends", trabajo.id_entrega)
            close_old_connections()

    def _escuchar(self) -> None:
        """LISTEN on a connection of its own; every NOTIFY wakes the loop. Reconnects while the
        database is away (the loop polls meanwhile)."""
        while not self.stopping.is_set():
            try:
                with autocommit_connection() as oyente:
                    oyente.execute(f"LISTEN {CANAL_ENTREGAS}")
                    while not self.stopping.is_set():
                        for _ in oyente.notifies(timeout=1.0):
                            self.despertar.set()
            except psycopg.Error as error:
                logger.warning("webhooks dispatcher: cannot listen for new deliveries (%s); retrying", error)
                self.stopping.wait(1.0)


def purgar(ahora: datetime | None = None) -> int:
    """Deletes the deliveries (and their attempts) older than WEBHOOKS_RETENCION_DIAS, unless one is
    still due; a thousand at a time, so the purge never holds a long lock."""
    antes_de = (ahora or timezone.now()) - timedelta(days=settings.WEBHOOKS_RETENCION_DIAS)
    borradas = 0
    while True:
        ids = list(Entrega.objects.filter(fecha_creacion__lt=antes_de).exclude(estado=EstadoEntrega.PENDIENTE)
                   .values_list("id", flat=True)[:1000])
        if not ids:
            return borradas
        Entrega.objects.filter(id__in=ids).delete()
        borradas += len(ids)


def despachar_hasta(stopping: threading.Event) -> None:
    """The dispatcher in a thread of the demo's server (alpespartners.registry.register_embedded_loop)."""
    Despachador(hilos=4, stopping=stopping).run()
