"""One plain function per command or consumed event: load, call the domain, commit.

The gateway is called before `with uow:`: a slow provider never holds a database transaction
open, and its idempotency key (from the campaign, or the pago) makes a retried call harmless."""

import logging
import uuid

from alpespartners.seedwork.unit_of_work import UnitOfWork

from . import commands, domain, pasarela, projections, repository
from .domain import CobroDuplicado, Pago, PagoDeclinado

logger = logging.getLogger(__name__)


def cobrar_campania(command: commands.CobrarCampania, uow: UnitOfWork) -> None:
    monto = domain.validar_monto_a_cobrar(command.monto)
    existente = repository.por_campania(command.id_campania)
    if existente is not None:
        # One charge per campaign: a repeated request answers with the charge already made.
        with uow:
            uow.commit(resource_id=existente.id)
        return
    marca = repository.marca(command.id_cliente)
    motivo = domain.motivo_para_no_cobrar(command.id_cliente, marca)
    confirmacion = None
    if motivo is None:
        try:
            confirmacion = pasarela.configurada().cobrar(
                domain.clave_cobro(command.id_campania), marca.token_predeterminado, monto
            )
        except PagoDeclinado as declinado:
            motivo = declinado.motivo
        # ErrorTransitorioPasarela propagates: the task retries with backoff, same key.
    with uow:
        pago = Pago.iniciar(id_campania=command.id_campania, id_cliente=command.id_cliente, monto=monto)
        if motivo is None:
            pago.confirmar(confirmacion)
        else:
            pago.rechazar(motivo)
        try:
            repository.save(pago)
        except CobroDuplicado:
            # A concurrent CobrarCampania committed first; the shared gateway key made it one charge,
            # and its event is the only one.
            logger.info("campaign %s was charged by a concurrent command", command.id_campania)
            uow.commit(resource_id=pago.id)
            return
        uow.collect(pago)
        uow.commit(resource_id=pago.id)


def revertir_pago(command: commands.RevertirPago, uow: UnitOfWork) -> None:
    pago = repository.get(command.id_pago)
    pago.verificar_reversible()  # refused before any money moves
    confirmacion_reembolso = pasarela.configurada().reembolsar(
        domain.clave_reembolso(pago.id), pago.confirmacion, pago.monto
    )
    with uow:
        pago.revertir(command.motivo, confirmacion_reembolso)
        repository.save(pago)  # a concurrent change is a version conflict: retried, then refused by the domain
        uow.collect(pago)
        uow.commit(resource_id=pago.id)


COMMAND_HANDLERS = {
    commands.CobrarCampania: cobrar_campania,
    commands.RevertirPago: revertir_pago,
}


# --- eventos.cliente: the local copy of brands -------------------------------------


def cliente_registrado(envelope: dict, uow: UnitOfWork) -> None:
    with uow:
        projections.cliente_registrado(_id_cliente(envelope), envelope["data"]["estado"])
        uow.commit()


def cliente_suspendido(envelope: dict, uow: UnitOfWork) -> None:
    with uow:
        projections.cliente_cambio_estado(_id_cliente(envelope), domain.EstadoCliente.SUSPENDIDO)
        uow.commit()


def cliente_reactivado(envelope: dict, uow: UnitOfWork) -> None:
    with uow:
        projections.cliente_cambio_estado(_id_cliente(envelope), domain.EstadoCliente.ACTIVO)
        uow.commit()


def medio_pago_registrado(envelope: dict, uow: UnitOfWork) -> None:
    data = envelope["data"]
    with uow:
        projections.medio_pago_registrado(_id_cliente(envelope), data["token"], bool(data["predeterminado"]))
        uow.commit()


def _id_cliente(envelope: dict) -> uuid.UUID:
    return uuid.UUID(envelope["aggregate_id"])


# Events of other contexts this one reacts to: {topic: {type: handler(envelope, uow)}}.
EVENT_HANDLERS: dict[str, dict] = {
    "eventos.cliente": {
        "ClienteRegistrado": cliente_registrado,
        "ClienteSuspendido": cliente_suspendido,
        "ClienteReactivado": cliente_reactivado,
        "MedioPagoRegistrado": medio_pago_registrado,
    },
}
