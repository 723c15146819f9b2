"""The one signature scheme of the platform's HTTP integrations: `v1=` and the hex HMAC-SHA256 of
"timestamp.message" made with a shared secret. Brands sign their postbacks with it and we sign the
webhooks we send them with it, so a receiver's code (docs/API.md) serves both ways."""

import hashlib
import hmac


def firmar(secreto: str, timestamp: str, mensaje: bytes) -> str:
    digest = hmac.new(secreto.encode(), timestamp.encode() + b"." + mensaje, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def firma_valida(secreto: str, timestamp: str, mensaje: bytes, firma: str) -> bool:
    """In constant time: how long a comparison takes says nothing of the expected signature."""
    return hmac.compare_digest(firmar(secreto, timestamp, mensaje), firma)
