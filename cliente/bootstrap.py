"""The wiring of `cliente`: its Unit of Work and which handler takes each command and event."""

from alpespartners.messaging import inbox
from alpespartners.messaging.unit_of_work import UnitOfWork

from . import commands, handlers, integration, projections, repository


def unit_of_work(**kwargs) -> UnitOfWork:
    return UnitOfWork(topic=integration.TOPIC, project=projections.project, repository=repository, **kwargs)


COMMAND_HANDLERS = {
    commands.RegistrarCliente: handlers.registrar_cliente,
    commands.ActualizarCliente: handlers.actualizar_cliente,
    commands.SuspenderCliente: handlers.suspender_cliente,
    commands.ReactivarCliente: handlers.reactivar_cliente,
    commands.RegistrarMedioPago: handlers.registrar_medio_pago,
}

# Events of other contexts this one reacts to.
CONSUMES = inbox.typed({
    "eventos.pagos": {
        integration.PayoutExitoso: handlers.payout_exitoso,
    },
})
