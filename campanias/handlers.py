"""One plain function per command and per consumed event: load, call the domain, commit."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from alpespartners.messaging import command_log
from alpespartners.messaging.unit_of_work import UnitOfWork
from alpespartners.seedwork.domain import ConcurrencyConflict, DomainError

from . import commands, projections, queries, repository
from .domain import Campania, EstadoCampania, SagaAprobacion

logger = logging.getLogger(__name__)

COMANDOS_PAGOS = "comandos.pagos"


def crear_campania(command: commands.CrearCampania, uow: UnitOfWork) -> None:
    with uow:
        if repository.exists(command.id):
            raise DomainError(f"Ya existe una campaña con el id {command.id}.", "id")
        campania = Campania.crear(
            command.id, id_cliente=command.id_cliente, estado_marca=repository.estado_cliente(command.id_cliente),
            nombre=command.nombre, presupuesto=command.presupuesto, fecha_inicio=command.fecha_inicio,
            fecha_fin=command.fecha_fin, hoy=timezone.localdate(), comisiones=command.comisiones,
            dias_retencion=command.dias_retencion,
        )
        # The approval saga starts with the campaign: its charge request leaves in the same commit.
        saga = SagaAprobacion.iniciar(campania.id, timezone.now(), timedelta(seconds=settings.CAMPANIAS_SAGA_TIMEOUT_SECONDS))
        repository.save_saga(saga)
        uow.send(COMANDOS_PAGOS, "CobrarCampania", key=campania.id, command_id=_command_id(campania.id, "cobro"), data={
            "id_campania": str(campania.id), "id_cliente": str(campania.id_cliente), "monto": campania.presupuesto.as_dict(),
        })
        _save(campania, uow)


def inscribir_socio(command: commands.InscribirSocio, uow: UnitOfWork) -> None:
    with uow:
        campania = repository.get(command.id_campania)
        campania.inscribir_socio(command.id_socio, repository.estado_cliente(command.id_socio))
        _save(campania, uow)


def retirar_socio(command: commands.RetirarSocio, uow: UnitOfWork) -> None:
    with uow:
        campania = repository.get(command.id_campania)
        campania.retirar_socio(command.id_socio)
        _save(campania, uow)


def pausar_campania(command: commands.PausarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = repository.get(command.id_campania)
        campania.pausar(command.motivo)
        _save(campania, uow)


def reanudar_campania(command: commands.ReanudarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = repository.get(command.id_campania)
        campania.reanudar(command.motivo)
        _save(campania, uow)


def finalizar_campania(command: commands.FinalizarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = repository.get(command.id_campania)
        campania.finalizar(command.motivo)
        _save(campania, uow)


def cancelar_campania(command: commands.CancelarCampania, uow: UnitOfWork) -> None:
    with uow:
        campania = repository.get(command.id_campania)
        campania.cancelar(command.motivo or "Cancelada por la marca.")
        if saga := repository.saga(campania.id):
            saga.on_cancelacion(timezone.now())
            repository.save_saga(saga)
        _save(campania, uow)


def _save(campania: Campania, uow: UnitOfWork) -> None:
    repository.save(campania, correlation_id=uow.correlation_id, causation_id=uow.causation_id)
    uow.collect(campania)
    uow.commit(resource_id=campania.id)


def _command_id(id_campania: uuid.UUID, purpose: str) -> uuid.UUID:
    """The same request for the same campaign always has the same command id, so a retried
    handler or a redelivered event never makes pagos run it twice."""
    return uuid.uuid5(id_campania, purpose)


# --- the approval saga: events of pagos -------------------------------------------


def pago_confirmado(envelope: dict, uow: UnitOfWork) -> None:
    id_pago = uuid.UUID(envelope["aggregate_id"])
    with uow:
        saga = repository.saga(uuid.UUID(envelope["data"]["id_campania"]))
        if saga is None:  # not a charge this context asked for
            uow.commit()
            return
        match saga.on_pago_confirmado(id_pago, timezone.now()):
            case "aprobar":
                campania = repository.get(saga.id_campania)
                campania.aprobar(id_pago)
                _save_for_saga(campania, saga, uow)
            case "reembolsar":
                uow.send(COMANDOS_PAGOS, "RevertirPago", key=id_pago, command_id=_command_id(saga.id_campania, "reembolso"),
                         data={"id_pago": str(id_pago), "motivo": "La campaña se canceló antes de confirmarse el cobro."})
                _save_for_saga(None, saga, uow)
            case _:
                _save_for_saga(None, saga, uow)


def pago_rechazado(envelope: dict, uow: UnitOfWork) -> None:
    motivo = envelope["data"].get("motivo") or "sin motivo"
    with uow:
        saga = repository.saga(uuid.UUID(envelope["data"]["id_campania"]))
        if saga is None:
            uow.commit()
            return
        campania = None
        if saga.on_pago_rechazado(motivo, timezone.now()) == "cancelar":
            campania = repository.get(saga.id_campania)
            campania.cancelar(f"Cobro rechazado: {motivo}")
        _save_for_saga(campania, saga, uow)


def pago_revertido(envelope: dict, uow: UnitOfWork) -> None:
    motivo = envelope["data"].get("motivo") or "sin motivo"
    with uow:
        saga = repository.saga(uuid.UUID(envelope["data"]["id_campania"]))
        if saga is None:
            uow.commit()
            return
        campania = None
        if saga.on_pago_revertido(motivo, timezone.now()) == "compensar":
            campania = repository.get(saga.id_campania)
            campania.cancelar(f"Cobro revertido: {motivo}", compensacion=True)
        _save_for_saga(campania, saga, uow)


def vencer_saga(id_campania: uuid.UUID, ahora, uow: UnitOfWork) -> bool:
    """Cancel a campaign whose charge had no answer in time. False if it was answered meanwhile."""
    with uow:
        saga = repository.saga(id_campania)
        if saga is None or saga.on_vencimiento(ahora) != "cancelar":
            return False
        campania = repository.get(id_campania)
        campania.cancelar(saga.motivo_vencimiento)
        _save_for_saga(campania, saga, uow)
        return True


def _save_for_saga(campania: Campania | None, saga: SagaAprobacion, uow: UnitOfWork) -> None:
    repository.save_saga(saga)
    if campania is not None:
        repository.save(campania, correlation_id=uow.correlation_id, causation_id=uow.causation_id)
        uow.collect(campania)
    uow.commit()


# --- the campaign's budget: commissions of pagos ----------------------------------


def consumir_presupuesto(envelopes: list[dict], uow: UnitOfWork) -> None:
    """ComisionRegistrada consumes a campaign's budget, ComisionRevertida gives it back: a sum,
    so a whole batch is applied as one total per campaign."""
    totales: dict[uuid.UUID, Decimal] = {}
    for envelope in envelopes:
        valor = Decimal(envelope["data"]["comision"]["valor"])
        id_campania = uuid.UUID(envelope["data"]["id_campania"])
        signo = -1 if envelope["type"] == "ComisionRevertida" else 1
        totales[id_campania] = totales.get(id_campania, Decimal(0)) + signo * valor
    with uow:
        projections.consumir_presupuestos(totales)
        uow.commit()


def presupuesto_agotado(envelope: dict, uow: UnitOfWork) -> None:
    id_campania = uuid.UUID(envelope["data"]["id_campania"])
    with uow:
        campania = repository.get(id_campania)
        if campania.estado is not EstadoCampania.APROBADA:
            # Paused, finished or cancelled meanwhile: nothing left to stop.
            logger.info("PresupuestoAgotado for campaña %s, already %s: not paused", id_campania, campania.estado)
            uow.commit()
            return
        campania.pausar("Presupuesto agotado.")
        _save(campania, uow)


# --- the local copy of clients: events of cliente ---------------------------------


def cliente_registrado(envelope: dict, uow: UnitOfWork) -> None:
    data = envelope["data"]
    with uow:
        repository.guardar_cliente(uuid.UUID(envelope["aggregate_id"]), tipo=data["tipo"], nombre=data["nombre"], estado=data["estado"])
        uow.commit()


def cliente_actualizado(envelope: dict, uow: UnitOfWork) -> None:
    with uow:
        repository.guardar_cliente(uuid.UUID(envelope["aggregate_id"]), nombre=envelope["data"]["nombre"])
        uow.commit()


def cliente_suspendido(envelope: dict, uow: UnitOfWork) -> None:
    _cambiar_estado_cliente(envelope, uow, "SUSPENDIDO")


def cliente_reactivado(envelope: dict, uow: UnitOfWork) -> None:
    _cambiar_estado_cliente(envelope, uow, "ACTIVO")


def _cambiar_estado_cliente(envelope: dict, uow: UnitOfWork, estado: str) -> None:
    id_cliente = uuid.UUID(envelope["aggregate_id"])
    with uow:
        repository.guardar_cliente(id_cliente, estado=estado)
        projections.socio_suspendido(id_cliente, estado == "SUSPENDIDO")
        uow.commit()


COMMAND_HANDLERS = {
    commands.CrearCampania: crear_campania,
    commands.InscribirSocio: inscribir_socio,
    commands.RetirarSocio: retirar_socio,
    commands.PausarCampania: pausar_campania,
    commands.ReanudarCampania: reanudar_campania,
    commands.FinalizarCampania: finalizar_campania,
    commands.CancelarCampania: cancelar_campania,
}

# Events of other contexts this one reacts to: {topic: {type: handler(envelope, uow)}}.
EVENT_HANDLERS = {
    "eventos.cliente": {
        "ClienteRegistrado": cliente_registrado,
        "ClienteActualizado": cliente_actualizado,
        "ClienteSuspendido": cliente_suspendido,
        "ClienteReactivado": cliente_reactivado,
    },
    "eventos.pagos": {
        "PagoConfirmado": pago_confirmado,
        "PagoRechazado": pago_rechazado,
        "PagoRevertido": pago_revertido,
        "PresupuestoAgotado": presupuesto_agotado,
    },
}


# Sums applied once per batch of a consumer: {topic: {type: handler(envelopes, uow)}}.
BATCH_EVENT_HANDLERS = {
    "eventos.pagos": {
        "ComisionRegistrada": consumir_presupuesto,
        "ComisionRevertida": consumir_presupuesto,
    },
}


def _estado_de_cliente(envelope: dict) -> str:
    return f"cliente:{envelope['aggregate_id']}:estado"


# Events that overwrite a piece of the local copy of clients: {topic: {type: slot}}. A redelivered
# older event of the same slot is skipped (messaging/inbox.py), so it never undoes a newer one.
ORDERED_EVENTS = {
    "eventos.cliente": {
        "ClienteActualizado": lambda envelope: f"cliente:{envelope['aggregate_id']}:nombre",
        "ClienteSuspendido": _estado_de_cliente,
        "ClienteReactivado": _estado_de_cliente,
    },
}


# --- scheduled work (django-celery-beat runs these through tasks.py) -----------------


def vencer_sagas(ahora) -> int:
    """Cancel every campaign whose charge is overdue; a conflicting writer leaves it for the next run."""
    from . import integration

    cancelled = 0
    for id_campania in repository.sagas_vencidas(ahora):
        try:
            cancelled += vencer_saga(id_campania, ahora, integration.unit_of_work())
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
