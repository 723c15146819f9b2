"""Postbacks: a brand's server reports a conversion with the click id our link gave its visitor, and
proves who it is with its postback secret — as the secret itself (a token) or as an HMAC of the
request made with it. Pure rules: pagos/postbacks.py finds the credentials, the view asks here."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from alpespartners.seedwork.firmas import firma_valida, firmar  # noqa: F401  (firmar: how a brand signs, for tests and docs)

# A signature is good this long either side of its timestamp: a captured request cannot be replayed
# later (and a replay within it is a duplicate id_externo anyway).
TOLERANCIA_FIRMA = timedelta(minutes=5)
# After a rotation the previous secret keeps working this long, so a brand can deploy the new one
# without refused postbacks; a leaked secret is revoked at once instead (`revocar_anterior`).
GRACIA_ROTACION = timedelta(hours=24)
PREFIJO_SECRETO = "pbs_"  # recognisable in a brand's config and in secret scanners


class CredencialInvalida(Exception):
    """Why a postback's credentials prove nothing; the message is for the brand's developer."""


@dataclass(frozen=True)
class Credencial:
    id_cliente: uuid.UUID
    secreto: str


def nuevo_secreto() -> str:
    return PREFIJO_SECRETO + secrets.token_urlsafe(32)


def huella(secreto: str) -> str:
    """How a token is looked up: its SHA-256, so the lookup itself leaks nothing of the secret."""
    return hashlib.sha256(secreto.encode()).hexdigest()


def verificar_firma(credenciales: list[Credencial], timestamp: str, mensaje: bytes, firma: str,
                    ahora: datetime) -> Credencial:
    """The credential whose secret made `firma`, or CredencialInvalida with the reason."""
    try:
        firmada_en = datetime.fromtimestamp(int(timestamp), tz=ahora.tzinfo)
    except (ValueError, OverflowError, OSError):
        raise CredencialInvalida("X-Alpes-Timestamp debe ser un tiempo Unix en segundos.") from None
    if abs(ahora - firmada_en) > TOLERANCIA_FIRMA:
        raise CredencialInvalida(f"La firma es de {firmada_en.isoformat()}; solo se aceptan firmas de hasta "
                                 f"{int(TOLERANCIA_FIRMA.total_seconds() // 60)} minutos de diferencia con la hora "
                                 "del servidor.")
    if not credenciales:
        raise CredencialInvalida("El cliente no tiene un secreto de postback vigente.")
    for credencial in credenciales:  # the current secret and, during a rotation, the previous one
        if firma_valida(credencial.secreto, timestamp, mensaje, firma):
            return credencial
    raise CredencialInvalida("La firma no corresponde a la petición con el secreto de postback del cliente.")


def vence_anterior(ahora: datetime, revocar_anterior: bool) -> datetime:
    """Until when the secrets a rotation replaces keep working."""
    return ahora if revocar_anterior else ahora + GRACIA_ROTACION
