"""One plain function per command or consumed event, each taking (message, uow): load, call the
domain, commit. bootstrap.py says which one takes what.

The gateway is called before `with uow:`: a slow provider never holds a database transaction
open, and its idempotency key (from the campaign, or the pago) makes a retried call harmless."""

import logging

from django.conf import settings
from django.utils import timezone

from alpespartners.messaging.together import Origin, Outcome
from alpespartners.messaging.unit_of_work import UnitOfWork
from alpespartners.seedwork.domain import Monto, NotFound

from . import commands, domain, integration, pasarela, projections
from .domain import (CobroDuplicado, ComisionRevertida, Decision, ErrorTransitorioPasarela, EstadoTransaccion, Pago,
                     PagoDeclinado, Resultado)

logger = logging.getLogger(__name__)


def cobrar_campania(command: commands.CobrarCampania, uow: UnitOfWork) -> None:
    monto = domain.validar_monto_a_cobrar(command.monto)
    existente = uow.repository.por_campania(command.id_campania)
    if existente is not None:
        # One charge per campaign: a repeated request answers with the charge already made.
        with uow:
            uow.commit(resource_id=existente.id)
        return
    marca = uow.repository.cliente(command.id_cliente)
    # The brand's registration and payment method, if sent before the charge, are already applied
    # here (DEPENDS_ON): what pagos knows now is the answer.
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
            uow.repository.save(pago)
        except CobroDuplicado:
            # A concurrent CobrarCampania committed first; the shared gateway key made it one charge,
            # and its event is the only one.
            logger.info("campaign %s was charged by a concurrent command", command.id_campania)
            uow.commit(resource_id=pago.id)
            return
        uow.collect(pago)
        uow.commit(resource_id=pago.id)


def revertir_pago(command: commands.RevertirPago, uow: UnitOfWork) -> None:
    pago = uow.repository.get(command.id_pago)
    pago.verificar_reversible()  # refused before any money moves
    confirmacion_reembolso = pasarela.configurada().reembolsar(
        domain.clave_reembolso(pago.id), pago.confirmacion, pago.monto
    )
    with uow:
        pago.revertir(command.motivo, confirmacion_reembolso)
        uow.repository.save(pago)  # a concurrent change is a version conflict: retried, then refused by the domain
        uow.collect(pago)
        uow.commit(resource_id=pago.id)


# --- conversions → commissions -------------------------------------------------------------


def registrar_conversiones(command: commands.RegistrarConversiones, uow: UnitOfWork) -> None:
    with uow:
        decisiones = _decidir(command.conversiones, uow)
        por_resultado = {resultado: 0 for resultado in Resultado}
        for decision in decisiones:
            por_resultado[decision.resultado] += 1
        uow.commit(resource_id=uow.command_id, result={  # a batch's resource is its own command
            **{resultado.value.lower() + "s": total for resultado, total in por_resultado.items()},
            "resultados": [decision.as_result() for decision in decisiones],
        })


def registrar_conversiones_pendientes(conversiones: list[tuple[commands.RegistrarConversion, Origin]],
                                      uow: UnitOfWork) -> list[Outcome]:
    """Single conversions waiting in the command log, decided together through the batch path (one
    transaction, a handful of queries), each with its own answer: the commission it earned (or had
    earned), or why it earns none. Their events carry each command's correlation and causation."""
    with uow:
        decisiones = _decidir([conversion for conversion, _ in conversiones], uow,
                              [origin for _, origin in conversiones])
        uow.commit()
    return [Outcome(resource_id=decision.id_transaccion, result=decision.as_result())
            if decision.resultado is not Resultado.RECHAZADA else
            Outcome(error={"code": decision.rechazo.codigo, "message": decision.rechazo.motivo, "field": "conversion"})
            for decision in decisiones]


def _decidir(conversiones: list[commands.RegistrarConversion], uow: UnitOfWork,
             origenes: list[Origin] | None = None) -> list[Decision]:
    """`origenes`: the command of each conversion, when they come from several."""
    return _decidir_lote([domain.Conversion(item.id_externo, item.id_campania, item.id_socio, item.tipo, item.monto,
                                            item.ocurrida_en, item.click_en) for item in conversiones], uow, origenes)


def _decidir_lote(lote: list[domain.Conversion], uow: UnitOfWork, origenes: list[Origin] | None = None) -> list[Decision]:
    """Decide a batch as a set: a handful of queries and one INSERT whatever its size. The
    campaigns' rows stay locked until commit, so budgets are consumed in arrival order. Conversions
    reported by brands and billed clicks and impressions all go through here."""
    decididas = domain.decidir_conversiones(
        lote,
        presupuestos=uow.repository.presupuestos_bloqueados({conversion.id_campania for conversion in lote}),
        inscritos=uow.repository.inscritos({(conversion.id_campania, conversion.id_socio) for conversion in lote}),
        estados_socios=uow.repository.estados_clientes({conversion.id_socio for conversion in lote}),
        registradas=uow.repository.transacciones_existentes({conversion.id_transaccion for conversion in lote}),
        ahora=timezone.now(), zona=timezone.get_current_timezone(),
    )
    uow.repository.agregar_transacciones(decididas.comisiones)
    uow.record(decididas.comisiones)
    uow.record(decididas.agotados)
    for presupuesto in decididas.presupuestos:
        uow.repository.guardar_presupuesto(presupuesto)
    if origenes is not None:
        for decision, origen in zip(decididas.decisiones, origenes):
            if decision.registrada is not None:
                uow.origins[decision.registrada.event_id] = origen
    return decididas.decisiones


def facturar_interacciones(command: commands.FacturarInteracciones, uow: UnitOfWork) -> int:
    """Bill up to `limite` billable clicks and impressions, oldest first, in one transaction: each a
    CLICK or IMPRESION conversion decided like a brand's (budget, state, enrolment at billing time),
    each row marked with its commission or its refusal. Rows are claimed with SKIP LOCKED, so two
    runs at once bill disjoint rows; a row billed again after a lost mark finds its commission
    (its id is fixed by the click). Answers how many rows it billed."""
    with uow:
        interacciones = uow.repository.interacciones_por_facturar(command.limite)
        if interacciones:
            decisiones = _decidir_lote([interaccion.como_conversion() for interaccion in interacciones], uow)
            uow.repository.marcar_facturadas(decisiones, timezone.now())
        uow.commit()
    return len(interacciones)


def revertir_conversion(command: commands.RevertirConversion, uow: UnitOfWork) -> None:
    with uow:
        uow.repository.esperar_ciclo_en_curso()
        transaccion = uow.repository.transaccion_bloqueada(command.id_campania, command.id_externo)
        if transaccion is None:
            raise NotFound(f"La campaña {command.id_campania} no tiene una conversión {command.id_externo}.",
                           "id_externo")
        domain.verificar_reversible(transaccion, uow.repository.payout_que_cubre(transaccion.id))
        ajuste = None
        if transaccion.estado == EstadoTransaccion.PAGADA:
            ajuste = Monto(-transaccion.comision.valor, transaccion.comision.moneda)
            uow.repository.agregar_ajuste(transaccion, ajuste, command.motivo, timezone.now())
        else:
            uow.repository.marcar_revertida(transaccion.id, command.motivo)
        # The sale did not happen: what its commission consumed returns to the campaign's budget.
        uow.repository.devolver_presupuesto(transaccion.id_campania, transaccion.comision.valor)
        uow.record([ComisionRevertida(
            aggregate_id=transaccion.id, id_campania=transaccion.id_campania, id_socio=transaccion.id_socio,
            id_externo=transaccion.id_externo, comision=transaccion.comision, motivo=command.motivo, ajuste=ajuste,
        )])
        uow.commit(resource_id=transaccion.id)


# --- payout cycles -------------------------------------------------------------------------


def ejecutar_ciclo(command: commands.EjecutarCiclo, uow: UnitOfWork) -> None:
    """Calculate a cycle set-based in one transaction: one GROUP BY and one INSERT of payouts. It
    writes no commission and no event: each payout claims the rows it covers, and announces
    itself, when it is first sent, after commit (see domain.Payout)."""
    id_ciclo = domain.id_ciclo(command.fecha_corte)
    with uow:
        uow.repository.bloquear_para_ciclo()
        # Running a cut-off again sends whatever of it is still CALCULADO (its fan-out was lost after
        # commit, say); answered payouts are left as they are.
        uow.after_commit(commands.EnviarPayoutsDelCiclo(id_ciclo=id_ciclo))
        if not uow.repository.iniciar_ciclo(id_ciclo, command.fecha_corte, command.origen):
            uow.commit(resource_id=id_ciclo, result={"ciclo_nuevo": False, "payouts": 0})
            return
        limite = domain.limite_de_pago(command.fecha_corte, timezone.get_current_timezone(), timezone.now())
        en_curso = uow.repository.payouts_en_curso()
        grupos = [grupo for grupo in uow.repository.por_pagar(limite)
                  if (grupo.id_socio, grupo.moneda) not in en_curso
                  and domain.supera_minimo(grupo.total, grupo.moneda, settings.PAGOS_MONTOS_MINIMOS)]
        uow.repository.crear_payouts(id_ciclo, command.fecha_corte, limite, grupos)
        uow.repository.cerrar_calculo(id_ciclo, grupos, timezone.now())
        uow.commit(resource_id=id_ciclo, result={"ciclo_nuevo": True, "payouts": len(grupos),
                                                 "transacciones": sum(grupo.transacciones for grupo in grupos)})


def procesar_payout(command: commands.EnviarPayout, uow: UnitOfWork) -> None:
    """Send one CALCULADO payout (or finish one left EN_PROCESO by a crash or a transient error)
    through the gateway. Its first sending claims the commissions it covers, in the transaction that
    moves it to EN_PROCESO. The gateway is called between two transactions, with the payout's key.
    Every answer, and every silence, goes on the payout's timeline."""
    with uow:
        payout = uow.repository.payout(command.id_payout)
        if payout.estado is domain.EstadoPayout.CALCULADO:
            payout.procesar()
            if payout.primer_envio:
                payout.verificar_reclamo(*uow.repository.reclamar(payout), ahora=timezone.now())
        elif payout.estado is not domain.EstadoPayout.EN_PROCESO:
            return  # already answered: a redelivered task does nothing
        uow.repository.guardar_payout(payout)
        uow.collect(payout)
        uow.commit()
    if payout.estado is not domain.EstadoPayout.EN_PROCESO:
        return  # failed before sending: what it covers changed
    socio = uow.repository.cliente(payout.id_socio)
    if socio is None or not socio.token_predeterminado:
        terminar_payout(commands.TerminarPayout(
            id_payout=payout.id, motivo="El socio no tiene un medio de pago predeterminado.",
            codigo=domain.SIN_MEDIO_DE_PAGO), uow)
        return
    envio = domain.Envio(enviado_en=timezone.now(), mascara=socio.mascara)
    try:
        confirmacion = pasarela.configurada().pagar(payout.clave, socio.token_predeterminado, payout.monto_total)
    except PagoDeclinado as declinado:
        terminar_payout(commands.TerminarPayout(id_payout=payout.id, motivo=declinado.motivo,
                                                codigo=declinado.codigo_pasarela, envio=envio), uow)
    except ErrorTransitorioPasarela as error:
        # The task retries with backoff, same key; the silence is part of the payout's story.
        anotar_sin_respuesta(payout.id, str(error), envio, uow)
        raise
    else:
        terminar_payout(commands.TerminarPayout(id_payout=payout.id, confirmacion=confirmacion, envio=envio), uow)


def anotar_sin_respuesta(id_payout, mensaje: str, envio: domain.Envio, uow: UnitOfWork) -> None:
    with uow:
        payout = uow.repository.payout(id_payout)
        if payout.estado is not domain.EstadoPayout.EN_PROCESO:
            return
        payout.anotar_sin_respuesta(mensaje, envio, timezone.now())
        uow.repository.guardar_payout(payout)
        uow.commit()


def terminar_payout(command: commands.TerminarPayout, uow: UnitOfWork) -> None:
    with uow:
        payout = uow.repository.payout(command.id_payout)
        if payout.estado is not domain.EstadoPayout.EN_PROCESO:
            return
        if command.confirmacion:
            payout.registrar_exito(command.confirmacion, command.envio, timezone.now())
        else:
            payout.registrar_fallo(command.motivo, command.codigo, timezone.now(), command.envio)
        uow.repository.guardar_payout(payout)
        uow.collect(payout)
        uow.commit()


def reintentar_payout(command: commands.ReintentarPayout, uow: UnitOfWork) -> None:
    with uow:
        payout = uow.repository.payout(command.id_payout)
        recuperadas = 0
        if payout.estado is domain.EstadoPayout.FALLIDO:
            recuperadas = uow.repository.recuperar_transacciones(payout)
        payout.reintentar(recuperadas)
        uow.repository.guardar_payout(payout)
        # COMPLETADO means sent again, not paid: the gateway answers later, on the payout itself
        # (links.resource; `Prefer: wait` answers with it). The result says so in its own words.
        uow.after_commit(commands.EnviarPayout(id_payout=payout.id))
        uow.commit(resource_id=payout.id, result={"id_payout": str(payout.id), "estado": payout.estado.value})


# --- eventos.cliente: the local copy of brands -------------------------------------


def cliente_registrado(event: integration.ClienteRegistrado, uow: UnitOfWork) -> None:
    with uow:
        projections.cliente_registrado(event)
        uow.commit()


def cliente_actualizado(event: integration.ClienteActualizado, uow: UnitOfWork) -> None:
    with uow:
        projections.cliente_actualizado(event)
        uow.commit()


def cliente_suspendido(event: integration.ClienteSuspendido, uow: UnitOfWork) -> None:
    with uow:
        projections.cliente_cambio_estado(event.id_cliente, domain.EstadoCliente.SUSPENDIDO)
        uow.commit()


def cliente_reactivado(event: integration.ClienteReactivado, uow: UnitOfWork) -> None:
    with uow:
        projections.cliente_cambio_estado(event.id_cliente, domain.EstadoCliente.ACTIVO)
        uow.commit()


def medio_pago_registrado(event: integration.MedioPagoRegistrado, uow: UnitOfWork) -> None:
    with uow:
        projections.medio_pago_registrado(event)
        uow.commit()


# --- eventos.campanias: the local copy of campaigns and enrolments ----------------------


def campania_creada(event: integration.CampaniaCreada, uow: UnitOfWork) -> None:
    with uow:
        projections.campania_creada(event)
        uow.commit()


def campania_actualizada(event: integration.CampaniaActualizada, uow: UnitOfWork) -> None:
    with uow:
        projections.campania_actualizada(event)
        uow.commit()


ESTADO_TRAS = {
    integration.CampaniaAprobada: domain.EstadoCampania.APROBADA,
    integration.CampaniaPausada: domain.EstadoCampania.PAUSADA,
    integration.CampaniaReanudada: domain.EstadoCampania.APROBADA,
    integration.CampaniaFinalizada: domain.EstadoCampania.FINALIZADA,
    integration.CampaniaCancelada: domain.EstadoCampania.CANCELADA,
}


def campania_cambio_estado(event: integration.CampaniaCambioEstado, uow: UnitOfWork) -> None:
    with uow:
        projections.campania_cambio_estado(event.id_campania, ESTADO_TRAS[type(event)])
        uow.commit()


def socio_inscrito(event: integration.SocioInscrito, uow: UnitOfWork) -> None:
    with uow:
        projections.socio_inscrito(event.id_campania, event.id_socio)
        uow.commit()


def socio_retirado(event: integration.SocioRetirado, uow: UnitOfWork) -> None:
    with uow:
        projections.socio_retirado(event.id_campania, event.id_socio)
        uow.commit()


def enlace_creado(event: integration.EnlaceCreado, uow: UnitOfWork) -> None:
    with uow:
        projections.enlace_creado(event)
        uow.commit()
