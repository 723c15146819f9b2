"""Givens for tracking links: campanias' events as pagos receives them, through its real consumer path."""

import secrets
import uuid
from datetime import timedelta

from django.utils import timezone

from tests import events

COMISIONES = {
    "VENTA": {"tipo": "PORCENTAJE", "valor": "5"}, "CONVERSION": {"tipo": "PORCENTAJE", "valor": "3"},
    "CLICK": {"tipo": "FIJA", "valor": "0.10"}, "IMPRESION": {"tipo": "FIJA", "valor": "0.01"},
}
SIN_CAMPOS = object()  # a v2 CampaniaCreada: no url_destino, no ventana_atribucion_dias


def campania_creada(id_campania, *, url_destino=SIN_CAMPOS, ventana: int = 30) -> dict:
    hoy = timezone.localdate()
    data = {
        "id_cliente": str(uuid.uuid4()), "nombre": "Campaña", "presupuesto": {"valor": "1000.00", "moneda": "COP"},
        "fecha_inicio": str(hoy - timedelta(days=10)), "fecha_fin": str(hoy + timedelta(days=30)),
        "comisiones": COMISIONES, "dias_retencion": 30,
    }
    if url_destino is SIN_CAMPOS:
        return events.envelope("CampaniaCreada", id_campania, data) | {"version": 2}
    data |= {"url_destino": url_destino, "ventana_atribucion_dias": ventana}
    return events.envelope("CampaniaCreada", id_campania, data) | {"version": 3}


def campania(url_destino: str | None = "https://tienda.co/zapatos?utm_source=alpes", *,
             estados: tuple[str, ...] = ("CampaniaAprobada",)) -> uuid.UUID:
    id_campania = uuid.uuid4()
    events.deliver("pagos", "eventos.campanias", campania_creada(id_campania, url_destino=url_destino))
    for tipo in estados:
        data = {"id_pago": str(uuid.uuid4())} if tipo == "CampaniaAprobada" else {"motivo": "prueba"}
        events.deliver("pagos", "eventos.campanias", events.envelope(tipo, id_campania, data))
    return id_campania


def enlace_creado(id_campania, id_socio, codigo: str) -> dict:
    return events.envelope("EnlaceCreado", id_campania, {"id_socio": str(id_socio), "codigo": codigo})


def enlace(id_campania) -> tuple[uuid.UUID, str]:
    """An enrolled partner and its link: SocioInscrito, then EnlaceCreado, as campanias emits them."""
    id_socio, codigo = uuid.uuid4(), secrets.token_urlsafe(8)
    events.deliver("pagos", "eventos.campanias", events.envelope("SocioInscrito", id_campania, {"id_socio": str(id_socio)}))
    events.deliver("pagos", "eventos.campanias", enlace_creado(id_campania, id_socio, codigo))
    return id_socio, codigo


def socio_retirado(id_campania, id_socio) -> dict:
    return events.envelope("SocioRetirado", id_campania, {"id_socio": str(id_socio)})
