"""The contracts of `pagos` with the rest of the company (DESIGN §4).

PUBLISHED lists every integration event this context emits on TOPIC: version and the
fields of `data` with their JSON types. tests/unit/test_contracts.py checks them.
"""

from alpespartners.seedwork.unit_of_work import UnitOfWork

from . import handlers, projections
from .commands import COMMANDS  # noqa: F401  (commands accepted on COMMAND_TOPIC)
from .tasks import ejecutar_comando as COMMAND_TASK  # noqa: F401

TOPIC = "eventos.pagos"
COMMAND_TOPIC = "comandos.pagos"

MONTO = "object: {valor: string (decimal), moneda: string (ISO 4217)}"

# aggregate_id of every event is the pago id (uuid5 of the campaign: one charge per campaign).
PUBLISHED = {
    "PagoConfirmado": {
        "version": 1,
        "data": {
            "id_campania": "string (uuid)", "id_cliente": "string (uuid)", "monto": MONTO,
            "confirmacion": "string (the gateway's confirmation code)",
        },
    },
    "PagoRechazado": {
        "version": 1,
        "data": {"id_campania": "string (uuid)", "id_cliente": "string (uuid)", "monto": MONTO, "motivo": "string"},
    },
    "PagoRevertido": {
        "version": 1,
        "data": {"id_campania": "string (uuid)", "id_cliente": "string (uuid)", "monto": MONTO, "motivo": "string"},
    },
}

# Inbound: {topic: {event type: handler(envelope, uow)}}.
CONSUMES = handlers.EVENT_HANDLERS


def unit_of_work(**kwargs) -> UnitOfWork:
    return UnitOfWork(topic=TOPIC, project=projections.project, **kwargs)
