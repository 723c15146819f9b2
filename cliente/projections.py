"""Domain events → ClienteView, in the handler's transaction; and pagos' payouts → its totals."""

import uuid
from datetime import datetime
from decimal import Decimal

from alpespartners.seedwork.domain import MINOR_UNITS, Monto, to_json_value

from . import domain
from .models import ClienteView


def project(event) -> None:
    projector = PROJECTORS.get(type(event))
    if projector is not None:
        projector(event)


def cliente_registrado(event: domain.ClienteRegistrado) -> None:
    ClienteView.objects.create(
        id=event.aggregate_id, tipo=event.tipo, nombre=event.nombre, email=event.email,
        tipo_documento=event.tipo_documento, numero_documento=event.numero_documento, estado=event.estado,
        fecha_registro=event.occurred_at,
    )


def cliente_actualizado(event: domain.ClienteActualizado) -> None:
    ClienteView.objects.filter(id=event.aggregate_id).update(nombre=event.nombre, email=event.email)


def cliente_suspendido(event: domain.ClienteSuspendido) -> None:
    ClienteView.objects.filter(id=event.aggregate_id).update(estado=domain.EstadoCliente.SUSPENDIDO.value)


def cliente_reactivado(event: domain.ClienteReactivado) -> None:
    ClienteView.objects.filter(id=event.aggregate_id).update(estado=domain.EstadoCliente.ACTIVO.value)


def medio_pago_registrado(event: domain.MedioPagoRegistrado) -> None:
    view = ClienteView.objects.select_for_update().get(id=event.aggregate_id)
    medios = [{**medio, "predeterminado": medio["predeterminado"] and not event.predeterminado} for medio in view.medios_pago]
    medios.append({"id": to_json_value(event.id_medio_pago), "tipo": event.tipo, "mascara": event.mascara,
                   "predeterminado": event.predeterminado})
    view.medios_pago = medios
    view.save(update_fields=["medios_pago"])


PROJECTORS = {
    domain.ClienteRegistrado: cliente_registrado,
    domain.ClienteActualizado: cliente_actualizado,
    domain.ClienteSuspendido: cliente_suspendido,
    domain.ClienteReactivado: cliente_reactivado,
    domain.MedioPagoRegistrado: medio_pago_registrado,
}


def pago_recibido(id_cliente: uuid.UUID, monto: Monto, pagado_en: datetime) -> bool:
    """A successful payout to the partner, added to its currency's total. False for a client
    this context does not know."""
    # Locked: two payouts delivered at once would otherwise both add to the same old total.
    view = ClienteView.objects.select_for_update().filter(id=id_cliente).first()
    if view is None:
        return False
    totales = {total["moneda"]: Decimal(total["valor"]) for total in view.total_pagos}
    totales[monto.moneda] = totales.get(monto.moneda, Decimal(0)) + monto.valor
    view.total_pagos = [
        {"valor": str(valor.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(moneda, 2)))), "moneda": moneda}
        for moneda, valor in totales.items()
    ]
    # Each payout is its own key, so a partner's payouts may arrive out of order: the latest one wins.
    if view.ultimo_pago is None or pagado_en > view.ultimo_pago:
        view.ultimo_pago = pagado_en
    view.save(update_fields=["total_pagos", "ultimo_pago"])
    return True
