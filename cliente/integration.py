"""The contracts of `cliente` with the rest of the company (DESIGN §4).

PUBLISHED lists every integration event this context emits on TOPIC: version and the
fields of `data` with their JSON types. tests/unit/test_contracts.py checks them. Below it, the
events of other contexts it reads, as the typed events its handlers take (bootstrap.py wires them).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from alpespartners.seedwork.domain import Monto

from .commands import COMMANDS  # noqa: F401  (commands accepted on COMMAND_TOPIC)

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



# --- eventos.pagos -----------------------------------------------------------------


@dataclass(frozen=True)
class PayoutExitoso:
    aggregate: ClassVar[str] = "id_payout"
    id_payout: uuid.UUID
    id_socio: uuid.UUID
    monto_total: Monto
    occurred_at: datetime
