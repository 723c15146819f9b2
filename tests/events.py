"""Delivering integration events to a context through its real consumer path (inbox, handler,
Unit of Work), as the Pulsar consumer and the in-process transport do."""

import uuid

from django.utils import timezone

from alpespartners.messaging import inbox, outbox


def envelope(type: str, aggregate_id, data: dict, event_id=None) -> dict:
    return outbox.envelope(
        event_id=event_id or uuid.uuid4(), type=type, version=1, occurred_at=timezone.now(), aggregate_id=aggregate_id,
        correlation_id=uuid.uuid4(), causation_id=None, data=data,
    )


def deliver(context: str, topic: str, message: dict) -> bool:
    """True if applied, False if the inbox already had it."""
    return inbox.handle(context, topic, message)


def cliente_registrado(id_cliente, *, tipo: str = "EMPRESA", nombre: str = "Marca S.A.S.") -> dict:
    return envelope("ClienteRegistrado", id_cliente, {
        "tipo": tipo, "nombre": nombre, "email": f"{id_cliente}@correo.co", "tipo_documento": "nit",
        "numero_documento": "900123456-8", "fecha_nacimiento": None, "fecha_constitucion": "2012-01-31",
        "estado": "ACTIVO",
    })


def cliente_suspendido(id_cliente) -> dict:
    return envelope("ClienteSuspendido", id_cliente, {"motivo": "prueba"})


def pago(type: str, id_campania, *, id_pago=None, motivo: str = "", monto=None) -> dict:
    data = {"id_campania": str(id_campania), "id_cliente": str(uuid.uuid4()),
            "monto": monto or {"valor": "1000000.00", "moneda": "COP"}}
    if type == "PagoConfirmado":
        data["confirmacion"] = "conf-1"
    else:
        data["motivo"] = motivo
    return envelope(type, id_pago or uuid.uuid4(), data)
