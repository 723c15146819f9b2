"""The contracts of `pagos` with the rest of the company (DESIGN §4).

PUBLISHED lists every integration event this context emits on TOPIC: version and the
fields of `data` with their JSON types. tests/unit/test_contracts.py checks them.
"""

from alpespartners.messaging.unit_of_work import UnitOfWork

from . import handlers, projections
from .commands import COMMANDS, DEPENDS_ON  # noqa: F401  (commands accepted on COMMAND_TOPIC; what each waits for)
from .tasks import ejecutar_comando as COMMAND_TASK  # noqa: F401

TOPIC = "eventos.pagos"
COMMAND_TOPIC = "comandos.pagos"

MONTO = "object: {valor: string (decimal), moneda: string (ISO 4217)}"

# aggregate_id of the charge events is the pago id (uuid5 of the campaign: one charge per campaign).
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
    # aggregate_id: the transaction (commission).
    "ComisionRegistrada": {
        "version": 1,
        "data": {
            "id_campania": "string (uuid)", "id_socio": "string (uuid)", "id_externo": "string: the conversion's id "
            "at its source, unique per campaign", "tipo": "VENTA | CONVERSION | CLICK | IMPRESION",
            "monto_conversion": MONTO + " or null (CLICK, IMPRESION)", "comision": MONTO + ", in the campaign's currency",
            "ocurrida_en": "string (datetime)", "pagable_desde": "string (datetime): end of the retention",
        },
    },
    "ComisionRevertida": {
        "version": 1,
        "data": {
            "id_campania": "string (uuid)", "id_socio": "string (uuid)", "id_externo": "string",
            "comision": MONTO + ": back to the campaign's budget", "motivo": "string",
            "ajuste": MONTO + " (negative) when the commission had been paid, netted in the partner's next payout; "
                      "else null",
        },
    },
    # aggregate_id: the campaign.
    "PresupuestoAgotado": {
        "version": 1,
        "data": {"id_campania": "string (uuid)", "presupuesto": MONTO, "disponible": MONTO + ": what was left"},
    },
    # aggregate_id of the payout events: the payout.
    "PayoutCreado": {
        "version": 1,
        "data": {"id_socio": "string (uuid)", "id_ciclo": "string (uuid)", "fecha_corte": "string (date)",
                 "moneda": "string (ISO 4217)"},
    },
    "ComisionesCalculadas": {
        "version": 1,
        "data": {"id_socio": "string (uuid)", "id_ciclo": "string (uuid)", "monto_total": MONTO,
                 "transacciones": "integer: commissions and adjustments in the payout"},
    },
    "PayoutProcesado": {
        "version": 1,
        "data": {"id_socio": "string (uuid)", "monto_total": MONTO, "intento": "integer, 1 for the first sending"},
    },
    "PayoutExitoso": {
        "version": 1,
        "data": {"id_socio": "string (uuid)", "monto_total": MONTO, "confirmacion": "string (the gateway's code)"},
    },
    "PayoutFallido": {
        "version": 1,
        "data": {"id_socio": "string (uuid)", "monto_total": MONTO, "motivo": "string"},
    },
}

# Inbound: {topic: {event type: handler(envelope, uow)}}.
CONSUMES = handlers.EVENT_HANDLERS
DECIDED_TOGETHER = handlers.COMMANDS_DECIDED_TOGETHER
ORDERED = handlers.ORDERED_EVENTS


def unit_of_work(**kwargs) -> UnitOfWork:
    return UnitOfWork(topic=TOPIC, project=projections.project, **kwargs)
