"""The contracts of `campanias` with the rest of the company (DESIGN §4).

PUBLISHED lists every integration event this context emits on TOPIC: version and the
fields of `data` with their JSON types. SENDS lists the commands it sends to other
contexts. tests/unit/test_contracts.py checks them.
"""

from alpespartners.messaging.unit_of_work import UnitOfWork

from . import handlers, projections
from .commands import COMMANDS, DEPENDS_ON  # noqa: F401  (commands accepted on COMMAND_TOPIC; what each waits for)
from .tasks import ejecutar_comando as COMMAND_TASK  # noqa: F401

TOPIC = "eventos.campanias"
COMMAND_TOPIC = "comandos.campanias"

MONTO = "object: {valor: string (decimal), moneda: string (ISO 4217)}"
COMISIONES = ("object: {VENTA|CONVERSION|CLICK|IMPRESION: {tipo: PORCENTAJE | FIJA, valor: string (decimal)}}; "
              "PORCENTAJE is a percentage of the conversion's amount, FIJA an amount in the campaign's currency")

PUBLISHED = {
    "CampaniaCreada": {
        "version": 2,
        "data": {
            "id_cliente": "string (uuid): the brand", "nombre": "string", "presupuesto": MONTO,
            "fecha_inicio": "string (date)", "fecha_fin": "string (date)", "comisiones": COMISIONES,
            "dias_retencion": "integer 0–365",
        },
        "previous_versions": {1: "presupuesto was a string (decimal) with a separate `moneda`; no dias_retencion (30)"},
    },
    "CampaniaAprobada": {"version": 1, "data": {"id_pago": "string (uuid): the confirmed charge in pagos"}},
    "CampaniaCancelada": {"version": 1, "data": {"motivo": "string"}},
    "SocioInscrito": {"version": 1, "data": {"id_socio": "string (uuid)"}},
    "SocioRetirado": {"version": 1, "data": {"id_socio": "string (uuid)"}},
    "CampaniaPausada": {"version": 1, "data": {"motivo": "string"}},
    "CampaniaReanudada": {"version": 1, "data": {"motivo": "string"}},
    "CampaniaFinalizada": {"version": 1, "data": {"motivo": "string"}},
}

SENDS = {
    "comandos.pagos": {
        "CobrarCampania": {"id_campania": "string (uuid)", "id_cliente": "string (uuid)", "monto": MONTO},
        "RevertirPago": {"id_pago": "string (uuid)", "motivo": "string"},
    },
}

# Inbound: {topic: {event type: handler(envelope, uow)}}.
CONSUMES = handlers.EVENT_HANDLERS
BATCH_CONSUMES = handlers.BATCH_EVENT_HANDLERS
ORDERED = handlers.ORDERED_EVENTS

rebuild_projections = projections.rebuild


def unit_of_work(**kwargs) -> UnitOfWork:
    return UnitOfWork(topic=TOPIC, project=projections.project, **kwargs)
