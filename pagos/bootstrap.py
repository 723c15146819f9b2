"""The wiring of `pagos`: its Unit of Work, which handler takes each command and event, and which
Celery task starts the follow-up work its handlers ask for."""

from dataclasses import astuple

from celery import current_app

from alpespartners.messaging import inbox
from alpespartners.messaging.unit_of_work import UnitOfWork

from . import commands, handlers, integration, projections, repository

# Follow-up work (uow.after_commit) → the task doing it, by name: tasks.py imports this module.
FOLLOW_UPS = {
    commands.EnviarPayoutsDelCiclo: "pagos.procesar_ciclo",
    commands.EnviarPayout: "pagos.procesar_payout",
}


def start(message) -> None:
    current_app.tasks[FOLLOW_UPS[type(message)]].delay(*(str(value) for value in astuple(message)))


def unit_of_work(**kwargs) -> UnitOfWork:
    return UnitOfWork(topic=integration.TOPIC, project=projections.project, repository=repository, start=start,
                      **kwargs)


COMMAND_HANDLERS = {
    commands.CobrarCampania: handlers.cobrar_campania,
    commands.RevertirPago: handlers.revertir_pago,
    commands.RegistrarConversiones: handlers.registrar_conversiones,
    commands.RevertirConversion: handlers.revertir_conversion,
    commands.EjecutarCiclo: handlers.ejecutar_ciclo,
    commands.ReintentarPayout: handlers.reintentar_payout,
}

# Commands decided several at a time: whatever of the type waits in the command log when one runs.
DECIDED_TOGETHER = {
    commands.RegistrarConversion: handlers.registrar_conversiones_pendientes,
}

# Events of other contexts this one reacts to.
CONSUMES = inbox.typed({
    "eventos.cliente": {
        integration.ClienteRegistrado: handlers.cliente_registrado,
        integration.ClienteActualizado: handlers.cliente_actualizado,
        integration.ClienteSuspendido: handlers.cliente_suspendido,
        integration.ClienteReactivado: handlers.cliente_reactivado,
        integration.MedioPagoRegistrado: handlers.medio_pago_registrado,
    },
    "eventos.campanias": {
        integration.CampaniaCreada: handlers.campania_creada,
        integration.CampaniaActualizada: handlers.campania_actualizada,
        integration.CampaniaAprobada: handlers.campania_cambio_estado,
        integration.CampaniaPausada: handlers.campania_cambio_estado,
        integration.CampaniaReanudada: handlers.campania_cambio_estado,
        integration.CampaniaFinalizada: handlers.campania_cambio_estado,
        integration.CampaniaCancelada: handlers.campania_cambio_estado,
        integration.SocioInscrito: handlers.socio_inscrito,
        integration.SocioRetirado: handlers.socio_retirado,
        integration.EnlaceCreado: handlers.enlace_creado,
    },
})


# Names and masks for rows older than those columns (manage.py fill_local_copies).
fill_local_copies = projections.rellenar


def _estado_de_campania(envelope: dict) -> str:
    return f"campania:{envelope['aggregate_id']}:estado"


def _inscripcion(envelope: dict) -> str:
    return f"campania:{envelope['aggregate_id']}:socio:{envelope['data']['id_socio']}"


def _estado_de_cliente(envelope: dict) -> str:
    return f"cliente:{envelope['aggregate_id']}:estado"


# Events that overwrite a piece of the local copies: {topic: {type: slot}}. A redelivered older event
# of the same slot is skipped (messaging/inbox.py), so it never undoes a newer one.
ORDERED = {
    "eventos.cliente": {
        "ClienteSuspendido": _estado_de_cliente,
        "ClienteReactivado": _estado_de_cliente,
        "ClienteActualizado": lambda envelope: f"cliente:{envelope['aggregate_id']}:nombre",
        "MedioPagoRegistrado": lambda envelope: f"cliente:{envelope['aggregate_id']}:medio_predeterminado",
    },
    "eventos.campanias": {
        **{type: _estado_de_campania for type in (
            "CampaniaAprobada", "CampaniaPausada", "CampaniaReanudada", "CampaniaFinalizada", "CampaniaCancelada")},
        "CampaniaActualizada": lambda envelope: f"campania:{envelope['aggregate_id']}:ajustes",
        "SocioInscrito": _inscripcion,
        "SocioRetirado": _inscripcion,
        # The link lives and dies with its enrolment: an old EnlaceCreado never revives a retired link.
        "EnlaceCreado": _inscripcion,
    },
}
