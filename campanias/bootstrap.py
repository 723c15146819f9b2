"""The wiring of `campanias`: its Unit of Work and which handler takes each command and event."""

from alpespartners.messaging import inbox
from alpespartners.messaging.unit_of_work import UnitOfWork

from . import commands, handlers, integration, projections, repository


def unit_of_work(**kwargs) -> UnitOfWork:
    return UnitOfWork(topic=integration.TOPIC, project=projections.project, repository=repository, **kwargs)


COMMAND_HANDLERS = {
    commands.CrearCampania: handlers.crear_campania,
    commands.InscribirSocio: handlers.inscribir_socio,
    commands.RetirarSocio: handlers.retirar_socio,
    commands.PausarCampania: handlers.pausar_campania,
    commands.ReanudarCampania: handlers.reanudar_campania,
    commands.FinalizarCampania: handlers.finalizar_campania,
    commands.CancelarCampania: handlers.cancelar_campania,
    commands.ActualizarCampania: handlers.actualizar_campania,
    commands.CrearEnlacesFaltantes: handlers.crear_enlaces_faltantes,
}

# Events of other contexts this one reacts to.
CONSUMES = inbox.typed({
    "eventos.cliente": {
        integration.ClienteRegistrado: handlers.cliente_registrado,
        integration.ClienteActualizado: handlers.cliente_actualizado,
        integration.ClienteSuspendido: handlers.cliente_suspendido,
        integration.ClienteReactivado: handlers.cliente_reactivado,
    },
    "eventos.pagos": {
        integration.PagoConfirmado: handlers.pago_confirmado,
        integration.PagoRechazado: handlers.pago_rechazado,
        integration.PagoRevertido: handlers.pago_revertido,
        integration.PresupuestoAgotado: handlers.presupuesto_agotado,
    },
})

# Sums applied once per batch of a consumer.
BATCH_CONSUMES = inbox.typed_batches({
    "eventos.pagos": {
        integration.ComisionRegistrada: handlers.consumir_presupuesto,
        integration.ComisionRevertida: handlers.consumir_presupuesto,
    },
})


def _estado_de_cliente(envelope: dict) -> str:
    return f"cliente:{envelope['aggregate_id']}:estado"


# Events that overwrite a piece of the local copy of clients: {topic: {type: slot}}. A redelivered
# older event of the same slot is skipped (messaging/inbox.py), so it never undoes a newer one.
ORDERED = {
    "eventos.cliente": {
        "ClienteActualizado": lambda envelope: f"cliente:{envelope['aggregate_id']}:nombre",
        "ClienteSuspendido": _estado_de_cliente,
        "ClienteReactivado": _estado_de_cliente,
    },
}

rebuild_projections = projections.rebuild
