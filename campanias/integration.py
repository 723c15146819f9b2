"""The contracts of `campanias` with the rest of the company (DESIGN §4).

PUBLISHED lists every integration event this context emits on TOPIC: version and the
fields of `data` with their JSON types. SENDS lists the commands it sends to other
contexts. tests/unit/test_contracts.py checks them. Below them, the events of other contexts it
reads, as the typed events its handlers take (bootstrap.py wires them).
"""

import uuid
from dataclasses import dataclass
from typing import ClassVar

from alpespartners.seedwork.domain import Monto

from .commands import COMMANDS, DEPENDS_ON  # noqa: F401  (commands accepted on COMMAND_TOPIC; what each waits for)

TOPIC = "eventos.campanias"
COMMAND_TOPIC = "comandos.campanias"

MONTO = "object: {valor: string (decimal), moneda: string (ISO 4217)}"
COMISIONES = ("object: {VENTA|CONVERSION|CLICK|IMPRESION: {tipo: PORCENTAJE | FIJA, valor: string (decimal)}}; "
              "PORCENTAJE is a percentage of the conversion's amount, FIJA an amount in the campaign's currency")

# The campaign's tracking settings, as they are after the event.
TRACKING = {"url_destino": "string (https URL) or null: where a tracking link sends visitors",
            "ventana_atribucion_dias": "integer 1–365: how long a click can earn its partner a conversion"}

PUBLISHED = {
    "CampaniaCreada": {
        "version": 3,
        "data": {
            "id_cliente": "string (uuid): the brand", "nombre": "string", "presupuesto": MONTO,
            "fecha_inicio": "string (date)", "fecha_fin": "string (date)", "comisiones": COMISIONES,
            "dias_retencion": "integer 0–365", **TRACKING,
        },
        "previous_versions": {1: "presupuesto was a string (decimal) with a separate `moneda`; no dias_retencion (30)",
                              2: "no url_destino (null) nor ventana_atribucion_dias (30)"},
    },
    "CampaniaActualizada": {"version": 1, "data": TRACKING},
    # after SocioInscrito, or later for an enrolment that predates links; retired by SocioRetirado
    "EnlaceCreado": {"version": 1, "data": {"id_socio": "string (uuid)",
                                            "codigo": "string: the link's code, GET /t/{codigo}"}},
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



# --- eventos.cliente: the local copy of clients --------------------------------------


@dataclass(frozen=True)
class ClienteRegistrado:
    aggregate: ClassVar[str] = "id_cliente"
    id_cliente: uuid.UUID
    tipo: str
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


# --- eventos.pagos: the approval saga's charge and the budget --------------------------


@dataclass(frozen=True)
class EventoDeCobro:
    """What the approval saga reads of a charge's answer; the subclass says which answer."""

    aggregate: ClassVar[str] = "id_pago"
    id_pago: uuid.UUID
    id_campania: uuid.UUID
    motivo: str | None = None  # PagoRechazado, PagoRevertido


class PagoConfirmado(EventoDeCobro):
    pass


class PagoRechazado(EventoDeCobro):
    pass


class PagoRevertido(EventoDeCobro):
    pass


@dataclass(frozen=True)
class PresupuestoAgotado:
    aggregate: ClassVar[str] = "id_campania"
    id_campania: uuid.UUID


@dataclass(frozen=True)
class MovimientoDeComision:
    """A commission's amount against its campaign's budget: registered, it consumes; reverted, it gives back."""

    aggregate: ClassVar[str] = "id_transaccion"
    id_transaccion: uuid.UUID
    id_campania: uuid.UUID
    comision: Monto


class ComisionRegistrada(MovimientoDeComision):
    pass


class ComisionRevertida(MovimientoDeComision):
    pass
