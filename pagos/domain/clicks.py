"""Clicks and impressions on a partner's tracking link: which are billable and why not, what of the
visitor is kept (a truncated address), and where the visitor is sent. Pure rules: the web view
(pagos/api/tracking.py) gathers the facts and records the outcome."""

import hashlib
import hmac
import ipaddress
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .comisiones import Conversion, EstadoCampania

# What of a request is stored, at most: enough to read a user agent or a referrer, never a body.
USER_AGENT_MAX = 512
REFERRER_MAX = 1024
# Addresses are kept at the precision of a neighbourhood, not of a household (privacy).
PREFIJO_IPV4 = 24
PREFIJO_IPV6 = 48
PARAMETRO_CLICK = "click_id"


class TipoInteraccion(StrEnum):
    CLICK = "CLICK"
    IMPRESION = "IMPRESION"


class MotivoNoFacturable(StrEnum):
    CAMPANIA_NO_APROBADA = "campania_no_aprobada"
    BOT = "bot"
    REPETIDO = "repetido"
    # The repeat store (Redis) did not answer: the brand is not charged for what could not be checked.
    SIN_VERIFICAR = "sin_verificar"


def motivo_sin_visitante(estado_campania: str, es_bot: bool) -> MotivoNoFacturable | None:
    """The reasons known without asking the repeat store; the first one found is the one kept."""
    if estado_campania != EstadoCampania.APROBADA.value:
        return MotivoNoFacturable.CAMPANIA_NO_APROBADA
    if es_bot:
        return MotivoNoFacturable.BOT
    return None


def motivo_por_repeticion(primera_vez: bool | None) -> MotivoNoFacturable | None:
    """`primera_vez` is None when the repeat store could not tell."""
    if primera_vez is None:
        return MotivoNoFacturable.SIN_VERIFICAR
    return None if primera_vez else MotivoNoFacturable.REPETIDO


def truncar_direccion(direccion: str) -> str:
    """IPv4 to its /24, IPv6 to its /48 (an IPv4-mapped IPv6 address as the IPv4 it is); '' if not an address."""
    try:
        ip = ipaddress.ip_address(direccion.strip())
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefijo = PREFIJO_IPV4 if ip.version == 4 else PREFIJO_IPV6
    return str(ipaddress.ip_network(f"{ip}/{prefijo}", strict=False).network_address)


def huella_visitante(secreto: bytes, direccion: str, user_agent: str) -> str:
    """A keyed hash of the full address and user agent: visitors behind one carrier NAT differ by
    their user agent, and without the secret the hash cannot be reversed by trying addresses."""
    return hmac.new(secreto, f"{direccion}\n{user_agent}".encode(), hashlib.sha256).hexdigest()


def acotar(texto: str, maximo: int) -> str:
    """A header as stored: at most `maximo` characters and no NUL (a text column refuses it, and
    one such row would fail the whole batch it is written in)."""
    return texto.replace("\x00", "")[:maximo]


def url_con_click(url_destino: str, id_click: str) -> str:
    """The landing URL with `click_id` in its query: its other parameters kept in order, a
    `click_id` it already carried replaced (the brand must read ours), the fragment kept last."""
    partes = urlsplit(url_destino)
    parametros = [(nombre, valor) for nombre, valor in parse_qsl(partes.query, keep_blank_values=True)
                  if nombre != PARAMETRO_CLICK]
    parametros.append((PARAMETRO_CLICK, id_click))
    return urlunsplit(partes._replace(query=urlencode(parametros)))


@dataclass(frozen=True)
class InteraccionPorFacturar:
    """A billable click or impression not billed yet, as billing claims it."""

    id: uuid.UUID
    tipo: str  # TipoInteraccion: the conversion type whose term pays it
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    ocurrido_en: datetime

    def como_conversion(self) -> Conversion:
        """Billed as a conversion of its type with no amount, decided like any other (the campaign's
        state, dates, enrolment and budget at billing time). Its id_externo is the click id, so its
        commission's id is fixed by the click: a batch billed twice finds it registered (DUPLICADA)."""
        return Conversion(str(self.id), self.id_campania, self.id_socio, self.tipo, None, self.ocurrido_en)
