"""Webhooks: every integration event about a client's own objects, POSTed to the endpoints it
registered, signed with the endpoint's secret. Pure rules: who receives which event (RUTAS), which
addresses we refuse to call, when a failed delivery is tried again. entregas.py sends and records."""

from __future__ import annotations

import ipaddress
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Mapping
from urllib.parse import urlsplit

from alpespartners.seedwork.firmas import firmar

PREFIJO_SECRETO = "whsec_"  # recognisable in a receiver's config and in secret scanners
LARGO_MAXIMO_URL = 2000


class Destinatario(StrEnum):
    CLIENTE = "cliente"  # the client the event is about (its aggregate)
    MARCA = "marca"  # the brand that owns the campaign
    SOCIO = "socio"  # the partner the event names (id_socio)
    SOCIOS_INSCRITOS = "socios_inscritos"  # every partner enrolled in the campaign when the event is applied


CLIENTE, MARCA, SOCIO, SOCIOS_INSCRITOS = Destinatario

# Who receives each integration event, by topic: the one table of docs/API.md ("Webhooks"). A brand's
# charge (Pago*) and its budget go to the brand only; a payout to its partner only; a commission to
# both the brand paying it and the partner earning it; a change of a campaign's state to its brand and
# to the partners whose links it stops or starts.
RUTAS: dict[str, dict[str, tuple[Destinatario, ...]]] = {
    "eventos.cliente": {
        "ClienteRegistrado": (CLIENTE,),
        "ClienteActualizado": (CLIENTE,),
        "ClienteSuspendido": (CLIENTE,),
        "ClienteReactivado": (CLIENTE,),
        "MedioPagoRegistrado": (CLIENTE,),
    },
    "eventos.campanias": {
        "CampaniaCreada": (MARCA,),
        "CampaniaAprobada": (MARCA,),
        "CampaniaActualizada": (MARCA, SOCIOS_INSCRITOS),
        "CampaniaPausada": (MARCA, SOCIOS_INSCRITOS),
        "CampaniaReanudada": (MARCA, SOCIOS_INSCRITOS),
        "CampaniaFinalizada": (MARCA, SOCIOS_INSCRITOS),
        "CampaniaCancelada": (MARCA, SOCIOS_INSCRITOS),
        "SocioInscrito": (MARCA, SOCIO),
        "SocioRetirado": (MARCA, SOCIO),
        "EnlaceCreado": (MARCA, SOCIO),
    },
    "eventos.pagos": {
        "PagoConfirmado": (MARCA,),
        "PagoRechazado": (MARCA,),
        "PagoRevertido": (MARCA,),
        "PresupuestoAgotado": (MARCA,),
        "ComisionRegistrada": (MARCA, SOCIO),
        "ComisionRevertida": (MARCA, SOCIO),
        "PayoutCreado": (SOCIO,),
        "ComisionesCalculadas": (SOCIO,),
        "PayoutProcesado": (SOCIO,),
        "PayoutExitoso": (SOCIO,),
        "PayoutFallido": (SOCIO,),
    },
}

TIPOS: frozenset[str] = frozenset(tipo for por_tipo in RUTAS.values() for tipo in por_tipo)


class WebhookInvalido(ValueError):
    """Why an endpoint cannot be registered as asked; the message is for the client's developer."""


class CampaniaDesconocida(Exception):
    """An event of a campaign whose CampaniaCreada was not applied yet (it travels on another topic):
    the event is refused and redelivered later, when its brand is known."""


def destinatarios(topic: str, envelope: Mapping, marca_de: Mapping[uuid.UUID, uuid.UUID],
                  inscritos_en: Mapping[uuid.UUID, set[uuid.UUID]]) -> set[uuid.UUID]:
    """The clients that receive `envelope`: `marca_de` maps campaigns to their brand, `inscritos_en`
    campaigns to their enrolled partners (both only for the campaigns the event needs)."""
    data = envelope["data"]
    clientes: set[uuid.UUID] = set()
    for destinatario in RUTAS[topic][envelope["type"]]:
        if destinatario is CLIENTE:
            clientes.add(uuid.UUID(str(envelope["aggregate_id"])))
        elif destinatario is MARCA:
            clientes.add(marca(topic, envelope, marca_de))
        elif destinatario is SOCIO:
            clientes.add(uuid.UUID(str(data["id_socio"])))
        else:
            clientes |= inscritos_en.get(id_campania(topic, envelope), set())
    return clientes


def id_campania(topic: str, envelope: Mapping) -> uuid.UUID | None:
    """The campaign an event is about: campanias' events are the campaign's own; pagos' name it."""
    if topic == "eventos.campanias":
        return uuid.UUID(str(envelope["aggregate_id"]))
    valor = envelope["data"].get("id_campania")
    return uuid.UUID(str(valor)) if valor else None


def marca(topic: str, envelope: Mapping, marca_de: Mapping[uuid.UUID, uuid.UUID]) -> uuid.UUID:
    if "id_cliente" in envelope["data"]:  # CampaniaCreada and the charges name their brand
        return uuid.UUID(str(envelope["data"]["id_cliente"]))
    campania = id_campania(topic, envelope)
    if campania not in marca_de:
        raise CampaniaDesconocida(f"{envelope['type']} {envelope['id']}: la campaña {campania} aún no se conoce.")
    return marca_de[campania]


def validar_tipos(eventos: list[str]) -> list[str]:
    desconocidos = sorted(set(eventos) - TIPOS)
    if desconocidos:
        raise WebhookInvalido(f"Tipos de evento desconocidos: {', '.join(desconocidos)}. Los tipos son los de "
                              "los eventos de integración (docs/API.md, Webhooks).")
    if not eventos:
        raise WebhookInvalido("Nombre al menos un tipo de evento.")
    return sorted(set(eventos))


@dataclass(frozen=True)
class Destino:
    """Where a URL points: what to resolve and whether plain http was asked for."""

    esquema: str
    host: str
    puerto: int


def destino(url: str, permitir_loopback: bool) -> Destino:
    """The URL's host and port, or WebhookInvalido: https only (plain http only where loopback is
    allowed, for tests), no credentials in it."""
    if len(url) > LARGO_MAXIMO_URL:
        raise WebhookInvalido(f"La URL tiene más de {LARGO_MAXIMO_URL} caracteres.")
    try:
        partes = urlsplit(url)
        puerto = partes.port
    except ValueError as error:
        raise WebhookInvalido(f"La URL no es válida: {error}.") from None
    if partes.scheme not in {"https", "http"} or (partes.scheme == "http" and not permitir_loopback):
        raise WebhookInvalido("La URL debe ser https://: los eventos viajan con datos de sus clientes.")
    if not partes.hostname:
        raise WebhookInvalido("La URL no tiene un nombre de servidor.")
    if partes.username or partes.password:
        raise WebhookInvalido("La URL no puede llevar usuario ni contraseña: la firma prueba quién envía.")
    return Destino(partes.scheme, partes.hostname, puerto or (443 if partes.scheme == "https" else 80))


def motivo_direccion_prohibida(direccion: str, permitir_loopback: bool) -> str | None:
    """Why we never call `direccion` (None when it is public): a webhook must not make our servers
    reach our own network or the cloud's metadata service (SSRF)."""
    ip = ipaddress.ip_address(direccion.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if permitir_loopback else f"{ip} es una dirección de loopback"
    if ip.is_link_local:
        return f"{ip} es una dirección link-local (como el servicio de metadatos de la nube)"
    if ip.is_private:
        return f"{ip} es una dirección privada"
    if not ip.is_global or ip.is_multicast:
        return f"{ip} no es una dirección pública"
    return None


def direcciones_permitidas(host: str, direcciones: list[str], permitir_loopback: bool) -> list[str]:
    """The addresses of `host` we may call, or WebhookInvalido: every one must be allowed, or a name
    could mix a public address with a private one and let the resolver choose."""
    if not direcciones:
        raise WebhookInvalido(f"El nombre {host} no resuelve a ninguna dirección.")
    for direccion in direcciones:
        motivo = motivo_direccion_prohibida(direccion, permitir_loopback)
        if motivo:
            raise WebhookInvalido(f"La URL apunta a {host}: {motivo}; solo se llaman direcciones públicas.")
    return direcciones


def nuevo_secreto() -> str:
    return PREFIJO_SECRETO + secrets.token_urlsafe(32)


def cabeceras(secreto: str, event_id: str, tipo: str, cuerpo: bytes, ahora: datetime, intento: int) -> dict[str, str]:
    """What a receiver checks: the event id to deduplicate, the time the signature was made, and
    `v1=` HMAC-SHA256 of "timestamp.body" with the endpoint's secret."""
    timestamp = str(int(ahora.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": "AlpesPartners-Webhooks/1",
        "X-Alpes-Event-Id": event_id,
        "X-Alpes-Event-Type": tipo,
        "X-Alpes-Timestamp": timestamp,
        "X-Alpes-Signature": firmar(secreto, timestamp, cuerpo),
        "X-Alpes-Delivery-Attempt": str(intento),
    }


@dataclass(frozen=True)
class Reintentos:
    """Exponential backoff with jitter: the n-th failure waits inicial·2ⁿ⁻¹ (at most `maximo`), times a
    random factor in [0.5, 1), so the deliveries a receiver's outage failed together do not all come
    back at the same instant; a delivery whose next try would fall after its deadline is failed."""

    inicial: timedelta
    maximo: timedelta

    def siguiente(self, fallos: int, ahora: datetime, plazo_hasta: datetime,
                  azar: random.Random | None = None) -> datetime | None:
        """When to try again after the `fallos`-th failure; None when that is past the deadline."""
        espera = min(self.inicial * 2 ** min(fallos - 1, 32), self.maximo)
        espera *= 0.5 + (azar or random).random() / 2
        siguiente = ahora + espera
        return siguiente if siguiente <= plazo_hasta else None


def exitoso(status: int | None) -> bool:
    return status is not None and 200 <= status < 300
