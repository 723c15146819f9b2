"""The contracts of `pagos` with the rest of the company (DESIGN §4).

PUBLISHED lists every integration event this context emits on TOPIC: version and the
fields of `data` with their JSON types. tests/unit/test_contracts.py checks them. Below them, the
events of other contexts it reads, as the typed events its handlers take (bootstrap.py wires them).
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from alpespartners.seedwork.domain import Monto

from .commands import COMMANDS, DEPENDS_ON  # noqa: F401  (commands accepted on COMMAND_TOPIC; what each waits for)

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



# --- eventos.cliente: the local copy of brands and partners ---------------------------


@dataclass(frozen=True)
class ClienteRegistrado:
    aggregate: ClassVar[str] = "id_cliente"
    id_cliente: uuid.UUID
    nombre: str
    estado: str


@dataclass(frozen=True)
class ClienteActualizado:
    aggregate: ClassVar[str] = "id_cliente"
    id_cliente: uuid.UUID
    nombre: str


@dataclass(frozen=True)
class ClienteSuspendido:
    aggregate: ClassVar[str] = "id_cliente"
    id_cliente: uuid.UUID


@dataclass(frozen=True)
class ClienteReactivado:
    aggregate: ClassVar[str] = "id_cliente"
    id_cliente: uuid.UUID


@dataclass(frozen=True)
class MedioPagoRegistrado:
    aggregate: ClassVar[str] = "id_cliente"
    id_cliente: uuid.UUID
    token: str
    mascara: str
    predeterminado: bool


# --- eventos.campanias: the local copy of campaigns, enrolments and tracking links ------

VENTANA_ATRIBUCION_DIAS = 30  # campanias' default, for campaigns created before CampaniaCreada v3


@dataclass(frozen=True)
class CampaniaCreada:
    aggregate: ClassVar[str] = "id_campania"
    id_campania: uuid.UUID
    id_cliente: uuid.UUID
    nombre: str
    presupuesto: Monto
    fecha_inicio: date
    fecha_fin: date
    comisiones: dict[str, dict[str, str]]
    dias_retencion: int
    # v3; a v2 envelope has neither: no landing page yet, the default window.
    url_destino: str | None = None
    ventana_atribucion_dias: int = VENTANA_ATRIBUCION_DIAS


@dataclass(frozen=True)
class CampaniaActualizada:
    """The campaign's tracking settings after a change (both always present)."""

    aggregate: ClassVar[str] = "id_campania"
    id_campania: uuid.UUID
    url_destino: str | None
    ventana_atribucion_dias: int


@dataclass(frozen=True)
class CampaniaCambioEstado:
    """Every event that only moves a campaign to another state; the subclass says which."""

    aggregate: ClassVar[str] = "id_campania"
    id_campania: uuid.UUID


class CampaniaAprobada(CampaniaCambioEstado):
    pass


class CampaniaPausada(CampaniaCambioEstado):
    pass


class CampaniaReanudada(CampaniaCambioEstado):
    pass


class CampaniaFinalizada(CampaniaCambioEstado):
    pass


class CampaniaCancelada(CampaniaCambioEstado):
    pass


@dataclass(frozen=True)
class SocioInscrito:
    aggregate: ClassVar[str] = "id_campania"
    id_campania: uuid.UUID
    id_socio: uuid.UUID


@dataclass(frozen=True)
class SocioRetirado:
    aggregate: ClassVar[str] = "id_campania"
    id_campania: uuid.UUID
    id_socio: uuid.UUID


@dataclass(frozen=True)
class EnlaceCreado:
    """An enrolment's tracking link (retired with the enrolment: SocioRetirado)."""

    aggregate: ClassVar[str] = "id_campania"
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    codigo: str
