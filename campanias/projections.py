"""Domain events → CampaniaView and SocioCampaniaView, in the handler's transaction.

Every value comes from the events (and the local copy of clients and the budget consumed by
pagos' commissions), never from the clock, so `rebuild` replaying the store yields exactly the
same rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery

from . import domain, repository
from .models import CampaniaView, ClienteLocal, EventoCampania, PresupuestoConsumido, SocioCampaniaView


def project(event) -> None:
    projector = PROJECTORS[type(event)]
    projector(event)


def campania_creada(event: domain.CampaniaCreada) -> None:
    CampaniaView.objects.create(
        id=event.aggregate_id, id_cliente=event.id_cliente, nombre=event.nombre,
        estado=domain.EstadoCampania.PENDIENTE.value, presupuesto=event.presupuesto.valor,
        presupuesto_disponible=event.presupuesto.valor - _consumido(event.aggregate_id), moneda=event.presupuesto.moneda,
        fecha_inicio=event.fecha_inicio, fecha_fin=event.fecha_fin, comisiones=event.comisiones,
        dias_retencion=event.dias_retencion, url_destino=event.url_destino,
        ventana_atribucion_dias=event.ventana_atribucion_dias, version=1,
        fecha_creacion=event.occurred_at, fecha_actualizacion=event.occurred_at,
    )


def _update(event, **values) -> None:
    CampaniaView.objects.filter(id=event.aggregate_id).update(
        version=F("version") + 1, fecha_actualizacion=event.occurred_at, **values
    )


def campania_aprobada(event: domain.CampaniaAprobada) -> None:
    _update(event, estado=domain.EstadoCampania.APROBADA.value)


def campania_cancelada(event: domain.CampaniaCancelada) -> None:
    _update(event, estado=domain.EstadoCampania.CANCELADA.value, motivo=event.motivo)


def campania_pausada(event: domain.CampaniaPausada) -> None:
    _update(event, estado=domain.EstadoCampania.PAUSADA.value, motivo=event.motivo)


def campania_reanudada(event: domain.CampaniaReanudada) -> None:
    _update(event, estado=domain.EstadoCampania.APROBADA.value, motivo=event.motivo)


def campania_finalizada(event: domain.CampaniaFinalizada) -> None:
    _update(event, estado=domain.EstadoCampania.FINALIZADA.value, motivo=event.motivo)


def socio_inscrito(event: domain.SocioInscrito) -> None:
    suspendido = ClienteLocal.objects.filter(id=event.id_socio, estado=domain.EstadoCliente.SUSPENDIDO.value).exists()
    SocioCampaniaView.objects.create(campania_id=event.aggregate_id, id_socio=event.id_socio,
                                     inscrito_en=event.occurred_at, suspendido=suspendido)
    _update(event)


def campania_actualizada(event: domain.CampaniaActualizada) -> None:
    _update(event, url_destino=event.url_destino, ventana_atribucion_dias=event.ventana_atribucion_dias)


def enlace_creado(event: domain.EnlaceCreado) -> None:
    SocioCampaniaView.objects.filter(campania_id=event.aggregate_id, id_socio=event.id_socio).update(
        codigo_enlace=event.codigo)
    _update(event)


def socio_retirado(event: domain.SocioRetirado) -> None:
    SocioCampaniaView.objects.filter(campania_id=event.aggregate_id, id_socio=event.id_socio).delete()
    _update(event)


PROJECTORS = {
    domain.CampaniaCreada: campania_creada,
    domain.CampaniaAprobada: campania_aprobada,
    domain.CampaniaCancelada: campania_cancelada,
    domain.CampaniaPausada: campania_pausada,
    domain.CampaniaReanudada: campania_reanudada,
    domain.CampaniaFinalizada: campania_finalizada,
    domain.SocioInscrito: socio_inscrito,
    domain.SocioRetirado: socio_retirado,
    domain.CampaniaActualizada: campania_actualizada,
    domain.EnlaceCreado: enlace_creado,
}


def socio_suspendido(id_socio, suspendido: bool) -> None:
    """A partner suspended (or reactivated) in `cliente` keeps its enrolments, flagged."""
    SocioCampaniaView.objects.filter(id_socio=id_socio).update(suspendido=suspendido)


def consumir_presupuestos(totales: dict) -> None:
    """What pagos' commissions consumed (positive) or gave back (negative), per campaign, added in
    two statements whatever the number of campaigns. Rows are written in id order, so two
    consumers adding to the same campaigns never deadlock; the upsert holds each row until commit,
    so the view is always written from the latest total."""
    if not totales:
        return
    ids = sorted(totales)
    consumido = PresupuestoConsumido._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {consumido} (id_campania, consumido) VALUES {', '.join(['(%s, %s)'] * len(ids))} "
            f"ON CONFLICT (id_campania) DO UPDATE SET consumido = {consumido}.consumido + EXCLUDED.consumido",
            [value for id_campania in ids for value in (_uuid_value(id_campania), totales[id_campania])],
        )
    consumidos = PresupuestoConsumido.objects.filter(id_campania=OuterRef("id")).values("consumido")
    CampaniaView.objects.filter(id__in=ids).update(presupuesto_disponible=F("presupuesto") - Subquery(consumidos))


def _uuid_value(value):
    return PresupuestoConsumido._meta.get_field("id_campania").get_db_prep_value(value, connection)


def _consumido(id_campania) -> Decimal:
    consumido = PresupuestoConsumido.objects.filter(id_campania=id_campania).values_list("consumido", flat=True).first()
    return consumido or Decimal(0)


def rebuild(progress: Callable[[int], object]) -> int:
    """Empty the read models and replay every stored event into them, in one transaction
    (readers see the old rows until it commits). `progress(total)` returns a bar with update().
    PresupuestoConsumido is kept: CampaniaCreada's projection subtracts it again."""
    total = EventoCampania.objects.count()
    bar = progress(total)
    with transaction.atomic():
        SocioCampaniaView.objects.all().delete()
        CampaniaView.objects.all().delete()
        for row in repository.stored_events():
            project(repository.to_event(row))
            bar.update(1)
    return total
