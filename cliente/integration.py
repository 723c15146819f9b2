"""The contracts of `cliente` with the rest of the company (DESIGN §4).

PUBLISHED lists every integration event this context emits on TOPIC: version and the
fields of `data` with their JSON types. tests/unit/test_contracts.py checks them.
"""

from alpespartners.messaging.unit_of_work import UnitOfWork

from . import handlers, projections
from .commands import COMMANDS  # noqa: F401  (commands accepted on COMMAND_TOPIC)
from .tasks import ejecutar_comando as COMMAND_TASK  # noqa: F401

TOPIC = "eventos.cliente"
COMMAND_TOPIC = "comandos.cliente"

PUBLISHED = {
    "ClienteRegistrado": {
        "version": 1,
        "data": {
            "tipo": "string: NATURAL | EMPRESA", "nombre": "string", "email": "string",
            "tipo_documento": "string: cedula | nit", "numero_documento": "string",
            "fecha_nacimiento": "string (date) | null", "fecha_constitucion": "string (date) | null",
            "estado": "string: ACTIVO",
        },
    },
    "ClienteActualizado": {"version": 1, "data": {"nombre": "string", "email": "string"}},
    "ClienteSuspendido": {"version": 1, "data": {"motivo": "string"}},
    "ClienteReactivado": {"version": 1, "data": {"motivo": "string"}},
    "MedioPagoRegistrado": {
        "version": 1,
        "data": {
            "id_medio_pago": "string (uuid)", "tipo": "string: TARJETA | PSE | TRANSFERENCIA",
            "token": "string (gateway token)", "mascara": "string", "predeterminado": "boolean",
        },
    },
}

# Inbound: {topic: {event type: handler(envelope, uow)}}.
CONSUMES = handlers.EVENT_HANDLERS


def unit_of_work(**kwargs) -> UnitOfWork:
    return UnitOfWork(topic=TOPIC, project=projections.project, **kwargs)
