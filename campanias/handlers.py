"""One plain function per command and per consumed event, each taking (message, uow): load through
`uow.repository`, call the domain, commit. bootstrap.py says which one takes what."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from alpespartners.messaging import command_log
from alpespartners.messaging.unit_of_work import UnitOfWork
from alpespartners.seedwork.domain import ConcurrencyConflict, DomainError

from . import commands, integration, projections, queries
from .domain import Campania, EstadoCampania, EstadoCliente, SagaAprobacion

logger = logging.getLogger(__name__)

COMANDOS_PAGOS = "comandos.pagos"


def crear_campania(command: commands.CrearCampania, uow: UnitOfWork) -> None:
    with uow:
        if uow.repository.exists(command.id):
            raise DomainError(f"Ya existe una campaña con el id {command.id}.", "id")
        campania = Campania.crear(
            command.id, id_cliente=command.id_cliente, estado_marca=uow.repository.estado_cliente(command.id_cliente),
            nombre=command.nombre, presupuesto=command.presupuesto, fecha_inicio=command.fecha_inicio,
            fecha_fin=command.fecha_fin, hoy=timezone.localdate(), comisiones=command.comisiones,
            dias_retencion=command.dias_retencion, url_destino=command.url_destino,
            ventana_atribucion_dias=command.ventana_atribucion_dias,
        )
        # The approval saga starts with the campaign: its charge request leaves in the same commit.
        saga = SagaAprobacion.iniciar(campania.id, timezone.now(), timedelta(seconds=settings.CAMPANIAS_SAGA_TIMEOUT_SECONDS))
        uow.repository.save_saga(saga)
        uow.send(COMANDOS_PAGOS, "CobrarCampania", key=campania.id, command_id=_command_id(campania.id, "cobro"), data={
            "id_campania": str(campania.id), "id_cliente": str(campania.id_cliente), "monto": campania.presupuesto.as_dict(),
        })
        _save(campania, uow)


def inscribir_socio(command: commands.InscribirSocio, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        campania.inscribir_socio(command.id_socio, uow.repository.estado_cliente(command.id_socio))
        _save(campania, uow)


def actualizar_campania(command: commands.ActualizarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        campania.actualizar(url_destino=command.url_destino, ventana_atribucion_dias=command.ventana_atribucion_dias)
        _save(campania, uow)


def crear_enlaces_faltantes(command: commands.CrearEnlacesFaltantes, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        creados = campania.crear_enlaces_faltantes()
        _save(campania, uow, result={"enlaces_creados": creados})


def retirar_socio(command: commands.RetirarSocio, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        campania.retirar_socio(command.id_socio)
        _save(campania, uow)


def pausar_campania(command: commands.PausarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        campania.pausar(command.motivo)
        _save(campania, uow)


def reanudar_campania(command: commands.ReanudarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        campania.reanudar(command.motivo)
        _save(campania, uow)


def finalizar_campania(command: commands.FinalizarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        campania.finalizar(command.motivo)
        _save(campania, uow)


def cancelar_campania(command: commands.CancelarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = uow.repository.get(command.id_campania)
        campania.cancelar(command.motivo or "Cancelada por la marca.")
        if saga := uow.repository.saga(campania.id):
            saga.on_cancelacion(timezone.now())
            uow.repository.save_saga(saga)
        _save(campania, uow)


def _save(campania: Campania, uow: UnitOfWork, result: dict | None = None) -> None:
    uow.repository.save(campania, correlation_id=uow.correlation_id, causation_id=uow.causation_id)
    uow.collect(campania)
    uow.commit(resource_id=campania.id, result=result)


def _command_id(id_campania: uuid.UUID, purpose: str) -> uuid.UUID:
    """The same request for the same campaign always has the same command id, so a retried
    handler or a redelivered event never makes pagos run it twice."""
    return uuid.uuid5(id_campania, purpose)


# --- the approval saga: events of pagos -------------------------------------------


def pago_confirmado(event: integration.PagoConfirmado, uow: UnitOfWork) -> None:
    id_pago = event.id_pago
    with uow:
        saga = uow.repository.saga(event.id_campania)
        if saga is None:  # not a charge this context asked for
            uow.commit()
            return
        match saga.on_pago_confirmado(id_pago, timezone.now()):
            case "aprobar":
                campania = uow.repository.get(saga.id_campania)
                campania.aprobar(id_pago)
                _save_for_saga(campania, saga, uow)
            case "reembolsar":
                uow.send(COMANDOS_PAGOS, "RevertirPago", key=id_pago, command_id=_command_id(saga.id_campania, "reembolso"),
                         data={"id_pago": str(id_pago), "motivo": "La campaña se canceló antes de confirmarse el cobro."})
                _save_for_saga(None, saga, uow)
            case _:
                _save_for_saga(None, saga, uow)


def pago_rechazado(event: integration.PagoRechazado, uow: UnitOfWork) -> None:
    motivo = event.motivo or "sin motivo"
    with uow:
        saga = uow.repository.saga(event.id_campania)
        if saga is None:
            uow.commit()
            return
        campania = None
        if saga.on_pago_rechazado(motivo, timezone.now()) == "cancelar":
            campania = uow.repository.get(saga.id_campania)
            campania.cancelar(f"Cobro rechazado: {motivo}")
        _save_for_saga(campania, saga, uow)


def pago_revertido(event: integration.PagoRevertido, uow: UnitOfWork) -> None:
    motivo = event.motivo or "sin motivo"
    with uow:
        saga = uow.repository.saga(event.id_campania)
        if saga is None:
            uow.commit()
            return
        campania = None
        if saga.on_pago_revertido(motivo, timezone.now()) == "compensar":
            campania = uow.repository.get(saga.id_campania)
            campania.cancelar(f"Cobro revertido: {motivo}", compensacion=True)
        _save_for_saga(campania, saga, uow)


def vencer_saga(command: commands.VencerSaga, uow: UnitOfWork) -> bool:
    """Cancel a campaign whose charge had no answer in time. False if it was answered meanwhile."""
    with uow:
        saga = uow.repository.saga(command.id_campania)
        if saga is None or saga.on_vencimiento(command.ahora) != "cancelar":
            return False
        campania = uow.repository.get(command.id_campania)
        campania.cancelar(saga.motivo_vencimiento)
        _save_for_saga(campania, saga, uow)
        return True


def _save_for_saga(campania: Campania | None, saga: SagaAprobacion, uow: UnitOfWork) -> None:
    uow.repository.save_saga(saga)
    if campania is not None:
        uow.repository.save(campania, correlation_id=uow.correlation_id, causation_id=uow.causation_id)
        uow.collect(campania)
    uow.commit()


# --- the campaign's budget: commissions of pagos ----------------------------------


def consumir_presupuesto(events: list[integration.MovimientoDeComision], uow: UnitOfWork) -> None:
    """ComisionRegistrada consumes a campaign's budget, ComisionRevertida gives it back: a sum,
    so a whole batch is applied as one total per campaign."""
    totales: dict[uuid.UUID, Decimal] = {}
    for event in events:
        signo = -1 if isinstance(event, integration.ComisionRevertida) else 1
        totales[event.id_campania] = totales.get(event.id_campania, Decimal(0)) + signo * event.comision.valor
    with uow:
        projections.consumir_presupuestos(totales)
        uow.commit()


def presupuesto_agotado(event: integration.PresupuestoAgotado, uow: UnitOfWork) -> None:
    id_campania = event.id_campania
    with uow:
        campania = uow.repository.get(id_campania)
        if campania.estado is not EstadoCampania.APROBADA:
            # Paused, finished or cancelled meanwhile: nothing left to stop.
            logger.info("PresupuestoAgotado for campaña %s, already %s: not paused", id_campania, campania.estado)
            uow.commit()
            return
        campania.pausar("Presupuesto agotado.")
        _save(campania, uow)


# --- the local copy of clients: events of cliente ---------------------------------


def cliente_registrado(event: integration.ClienteRegistrado, uow: UnitOfWork) -> None:
    with uow:
        uow.repository.guardar_cliente(event.id_cliente, tipo=event.tipo, nombre=event.nombre, estado=event.estado)
        uow.commit()


def cliente_actualizado(event: integration.ClienteActualizado, uow: UnitOfWork) -> None:
    with uow:
        uow.repository.guardar_cliente(event.id_cliente, nombre=event.nombre)
        uow.commit()


def cliente_suspendido(event: integration.ClienteSuspendido, uow: UnitOfWork) -> None:
    _cambiar_estado_cliente(event.id_cliente, uow, EstadoCliente.SUSPENDIDO)


def cliente_reactivado(event: integration.ClienteReactivado, uow: UnitOfWork) -> None:
    _cambiar_estado_cliente(event.id_cliente, uow, EstadoCliente.ACTIVO)


def _cambiar_estado_cliente(id_cliente: uuid.UUID, uow: UnitOfWork, estado: EstadoCliente) -> None:
    with uow:
        uow.repository.guardar_cliente(id_cliente, estado=estado.value)
        projections.socio_suspendido(id_cliente, estado is EstadoCliente.SUSPENDIDO)
        uow.commit()


# --- scheduled work (django-celery-beat runs these through tasks.py) -----------------


def vencer_sagas(ahora, unit_of_work: Callable[[], UnitOfWork]) -> int:
    """Cancel every campaign whose charge is overdue, each in its own transaction; a conflicting
    writer leaves it for the next run."""
    cancelled = 0
    for id_campania in queries.sagas_vencidas(ahora):
        try:
            cancelled += vencer_saga(commands.VencerSaga(id_campania=id_campania, ahora=ahora), unit_of_work())
        except ConcurrencyConflict:
            continue
    return cancelled


def finalizar_vencidas(hoy) -> int:
    """Issue FinalizarCampania for every running campaign past its end date, through the command
    log like any other command. The command id is fixed per campaign, so reruns add nothing."""
    issued = 0
    for id_campania in queries.por_finalizar(hoy):
        command = commands.FinalizarCampania(id_campania=id_campania, motivo="La campaña llegó a su fecha de fin.")
        _, created = command_log.submit("campanias", command, source="programador", resource_id=id_campania,
                                        command_id=_command_id(id_campania, "finalizar"))
        issued += created
    return issued
