"""Read models, in the handler's transaction: domain events → CobroView, and the other contexts'
integration events → ClienteLocal, CampaniaLocal, SocioCampaniaLocal (pagos never asks them; it
keeps its own copies). Commissions need no projection: `Transaccion` is their read model too."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from . import domain, integration
from .models import CampaniaLocal, ClienteLocal, CobroView, EnlaceLocal, SocioCampaniaLocal


def project(event) -> None:
    projector = PROJECTORS.get(type(event))
    if projector is not None:
        projector(event)


def pago_confirmado(event: domain.PagoConfirmado) -> None:
    _crear_cobro(event, domain.EstadoPago.CONFIRMADO, motivo=None, confirmacion=event.confirmacion)


def pago_rechazado(event: domain.PagoRechazado) -> None:
    _crear_cobro(event, domain.EstadoPago.RECHAZADO, motivo=event.motivo, confirmacion=None)


def pago_revertido(event: domain.PagoRevertido) -> None:
    CobroView.objects.filter(id=event.aggregate_id).update(
        estado=domain.EstadoPago.REVERTIDO.value, motivo=event.motivo, fecha_actualizacion=event.occurred_at
    )


def _crear_cobro(event, estado: domain.EstadoPago, *, motivo: str | None, confirmacion: str | None) -> None:
    # A charge is born decided (the gateway answers before the transaction), so its first event creates the row.
    CobroView.objects.create(
        id=event.aggregate_id, id_campania=event.id_campania, id_cliente=event.id_cliente, valor=event.monto.valor,
        moneda=event.monto.moneda, estado=estado.value, motivo=motivo, confirmacion=confirmacion,
        fecha_creacion=event.occurred_at, fecha_actualizacion=event.occurred_at,
    )


PROJECTORS = {
    domain.PagoConfirmado: pago_confirmado,
    domain.PagoRechazado: pago_rechazado,
    domain.PagoRevertido: pago_revertido,
}


# --- eventos.cliente → ClienteLocal ----------------------------------------------------
# Upserts: an event may arrive before the client's ClienteRegistrado (another partition's
# redelivery, a replay), and it must still count.


def _cliente_local(id_cliente: uuid.UUID) -> ClienteLocal:
    cliente, _ = ClienteLocal.objects.select_for_update().get_or_create(id=id_cliente)
    return cliente


def cliente_registrado(event: integration.ClienteRegistrado) -> None:
    cliente = _cliente_local(event.id_cliente)
    # A suspension, or a new name, that arrived first stays.
    cliente.estado = cliente.estado or event.estado
    cliente.nombre = cliente.nombre or event.nombre
    cliente.save(update_fields=["estado", "nombre", "fecha_actualizacion"])


def cliente_actualizado(event: integration.ClienteActualizado) -> None:
    cliente = _cliente_local(event.id_cliente)
    cliente.nombre = event.nombre
    cliente.save(update_fields=["nombre", "fecha_actualizacion"])


def cliente_cambio_estado(id_cliente: uuid.UUID, estado: domain.EstadoCliente) -> None:
    cliente = _cliente_local(id_cliente)
    cliente.estado = estado.value
    cliente.save(update_fields=["estado", "fecha_actualizacion"])


def medio_pago_registrado(event: integration.MedioPagoRegistrado) -> None:
    cliente = _cliente_local(event.id_cliente)
    # cliente marks the first method as the default in the event itself, so only a default counts.
    if event.predeterminado:
        cliente.token_predeterminado, cliente.mascara = event.token, event.mascara
        cliente.save(update_fields=["token_predeterminado", "mascara", "fecha_actualizacion"])


# --- eventos.campanias → CampaniaLocal, SocioCampaniaLocal, EnlaceLocal -------------------
# A campaign's events share its key, so they arrive in order: CampaniaCreada first.


def campania_creada(event: integration.CampaniaCreada) -> None:
    CampaniaLocal.objects.get_or_create(id=event.id_campania, defaults={
        "id_marca": event.id_cliente, "nombre": event.nombre, "estado": domain.EstadoCampania.PENDIENTE.value,
        "fecha_inicio": event.fecha_inicio, "fecha_fin": event.fecha_fin, "moneda": event.presupuesto.moneda,
        "presupuesto": event.presupuesto.valor, "presupuesto_disponible": event.presupuesto.valor,
        "comisiones": event.comisiones, "dias_retencion": event.dias_retencion,
        "url_destino": event.url_destino,
        "ventana_atribucion_dias": event.ventana_atribucion_dias or integration.VENTANA_ATRIBUCION_DIAS,
    })


def campania_actualizada(event: integration.CampaniaActualizada) -> None:
    CampaniaLocal.objects.filter(id=event.id_campania).update(
        url_destino=event.url_destino, ventana_atribucion_dias=event.ventana_atribucion_dias)


def campania_cambio_estado(id_campania: uuid.UUID, estado: domain.EstadoCampania) -> None:
    CampaniaLocal.objects.filter(id=id_campania).update(estado=estado.value)


def socio_inscrito(id_campania: uuid.UUID, id_socio: uuid.UUID) -> None:
    SocioCampaniaLocal.objects.get_or_create(id_campania=id_campania, id_socio=id_socio)


def socio_retirado(id_campania: uuid.UUID, id_socio: uuid.UUID) -> None:
    SocioCampaniaLocal.objects.filter(id_campania=id_campania, id_socio=id_socio).delete()
    EnlaceLocal.objects.filter(id_campania=id_campania, id_socio=id_socio).update(activo=False)


def enlace_creado(event: integration.EnlaceCreado) -> None:
    # An upsert: a backfill may send a link pagos already has, and a re-enrolment may bring its code back.
    EnlaceLocal.objects.update_or_create(codigo=event.codigo, defaults={
        "id_campania": event.id_campania, "id_socio": event.id_socio, "activo": True})


# --- what the copies started keeping late (manage.py fill_local_copies) ----------------------


def rellenar(events_from_start: Callable[[str], Iterable[dict]]) -> dict[str, int]:
    """Fill the names and masks the copies lack (rows from before these columns) from the events,
    oldest first: a client's last name, the mask of its current default method, a campaign's name
    (an event without them, not of the contract, is passed over).
    Only blank fields are filled, one conditional UPDATE each, so what a consumer applies meanwhile
    stands. Answers how many rows each fill changed."""
    nombres, mascaras, campanias = {}, {}, {}
    for envelope in events_from_start("eventos.cliente"):
        data = envelope["data"]
        if envelope["type"] in ("ClienteRegistrado", "ClienteActualizado") and isinstance(data.get("nombre"), str):
            nombres[envelope["aggregate_id"]] = data["nombre"]
        elif envelope["type"] == "MedioPagoRegistrado" and isinstance(data.get("mascara"), str):
            mascaras[(envelope["aggregate_id"], data.get("token"))] = data["mascara"]
    for envelope in events_from_start("eventos.campanias"):
        if envelope["type"] == "CampaniaCreada" and isinstance(envelope["data"].get("nombre"), str):
            campanias[envelope["aggregate_id"]] = envelope["data"]["nombre"]
    rellenados = {"nombres de clientes": 0, "máscaras": 0, "nombres de campañas": 0}
    for id_cliente in ClienteLocal.objects.filter(nombre="", id__in=nombres).values_list("id", flat=True):
        rellenados["nombres de clientes"] += ClienteLocal.objects.filter(id=id_cliente, nombre="").update(
            nombre=nombres[str(id_cliente)])
    sin_mascara = ClienteLocal.objects.filter(mascara="").exclude(token_predeterminado="")
    for id_cliente, token in sin_mascara.values_list("id", "token_predeterminado"):
        if (str(id_cliente), token) in mascaras:
            rellenados["máscaras"] += ClienteLocal.objects.filter(
                id=id_cliente, mascara="", token_predeterminado=token).update(mascara=mascaras[(str(id_cliente), token)])
    for id_campania in CampaniaLocal.objects.filter(nombre="", id__in=campanias).values_list("id", flat=True):
        rellenados["nombres de campañas"] += CampaniaLocal.objects.filter(id=id_campania, nombre="").update(
            nombre=campanias[str(id_campania)])
    return rellenados
