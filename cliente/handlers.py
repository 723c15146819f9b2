"""One plain function per command and per consumed event: load, call the domain, commit."""

import logging

from django.utils import timezone

from alpespartners.messaging.unit_of_work import UnitOfWork
from alpespartners.seedwork.domain import DomainError

from . import commands, integration, projections
from .domain import Cliente

logger = logging.getLogger(__name__)


def registrar_cliente(command: commands.RegistrarCliente, uow: UnitOfWork) -> None:
    with uow:
        if uow.repository.exists(command.id):
            raise DomainError(f"Ya existe un cliente con el id {command.id}.", "id")
        cliente = Cliente.registrar(
            command.id, tipo=command.tipo, nombre=command.nombre, email=command.email, hoy=timezone.localdate(),
            cedula=command.cedula, nit=command.nit, fecha_nacimiento=command.fecha_nacimiento,
            fecha_constitucion=command.fecha_constitucion,
        )
        uow.repository.check_unique(cliente)
        _save(cliente, uow)


def actualizar_cliente(command: commands.ActualizarCliente, uow: UnitOfWork) -> None:
    with uow:
        cliente = uow.repository.get(command.id_cliente)
        cliente.actualizar(nombre=command.nombre, email=command.email)
        uow.repository.check_unique(cliente)
        _save(cliente, uow)


def suspender_cliente(command: commands.SuspenderCliente, uow: UnitOfWork) -> None:
    with uow:
        cliente = uow.repository.get(command.id_cliente)
        cliente.suspender(command.motivo)
        _save(cliente, uow)


def reactivar_cliente(command: commands.ReactivarCliente, uow: UnitOfWork) -> None:
    with uow:
        cliente = uow.repository.get(command.id_cliente)
        cliente.reactivar(command.motivo)
        _save(cliente, uow)


def registrar_medio_pago(command: commands.RegistrarMedioPago, uow: UnitOfWork) -> None:
    with uow:
        cliente = uow.repository.get(command.id_cliente)
        cliente.registrar_medio_pago(
            id=command.id_medio_pago, tipo=command.tipo, token=command.token, mascara=command.mascara,
            predeterminado=command.predeterminado,
        )
        _save(cliente, uow)


def _save(cliente: Cliente, uow: UnitOfWork) -> None:
    uow.repository.save(cliente)
    uow.collect(cliente)
    uow.commit(resource_id=cliente.id)


# --- payouts of pagos: the partner's totals -----------------------------------------


def payout_exitoso(event: integration.PayoutExitoso, uow: UnitOfWork) -> None:
    with uow:
        if not projections.pago_recibido(event.id_socio, event.monto_total, event.occurred_at):
            # Not this context's inconsistency to fix: dead-lettering would not make the client appear.
            logger.warning("PayoutExitoso %s for unknown cliente %s ignored", event.id_payout, event.id_socio)
        uow.commit()
