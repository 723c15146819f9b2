import logging
import time
import uuid
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from alpespartners.messaging import command_log
from alpespartners.messaging.retries import retrying_transient_errors
from alpespartners.messaging.tasks import run_command

from . import bootstrap, commands, domain, handlers, repository

logger = logging.getLogger(__name__)


@shared_task(name="pagos.ejecutar_comando", bind=True, acks_late=True, max_retries=8)
def ejecutar_comando(self, command_id: str) -> None:
    run_command(self, command_id)


@shared_task(name="pagos.ejecutar_ciclo_programado")
def ejecutar_ciclo_programado() -> str:
    """The daily schedule (django-celery-beat): today's cycle through the command log, with a command
    id fixed by the date, so a second scheduler or a rerun adds nothing."""
    fecha_corte = timezone.localdate()
    id_ciclo = domain.id_ciclo(fecha_corte)
    command = commands.EjecutarCiclo(fecha_corte=fecha_corte, origen="programador")
    entry, _ = command_log.submit("pagos", command, source="programador", resource_id=id_ciclo,
                                  command_id=uuid.uuid5(id_ciclo, "programador"))
    return str(entry.id)


@shared_task(name="pagos.procesar_ciclo")
def procesar_ciclo(id_ciclo: str) -> int:
    """Fan a calculated cycle out: one task per payout, so a slow or flaky send holds up no other."""
    pendientes = repository.payouts_por_procesar(id_ciclo)
    for id_payout in pendientes:
        procesar_payout.delay(str(id_payout))
    logger.info("cycle %s: %s payouts sent to be paid", id_ciclo, len(pendientes))
    return len(pendientes)


@shared_task(name="pagos.reenviar_payouts_sin_enviar")
def reenviar_payouts_sin_enviar() -> int:
    """Every few minutes (django-celery-beat): payouts CALCULADO for a while lost their fan-out (a
    publish after commit can be lost) and, unsent, keep their partners out of later cycles. Sending
    one twice is harmless: the second task finds it answered, or asks the gateway with the same key."""
    pendientes = repository.payouts_sin_enviar(timezone.now() - PAYOUT_SIN_ENVIAR_TRAS)
    for id_payout in pendientes:
        procesar_payout.delay(str(id_payout))
    return len(pendientes)


PAYOUT_SIN_ENVIAR_TRAS = timedelta(minutes=5)


@shared_task(name="pagos.procesar_payout", bind=True, acks_late=True, max_retries=8)
def procesar_payout(self, id_payout: str) -> None:
    def give_up() -> None:
        handlers.terminar_payout(commands.TerminarPayout(
            id_payout=id_payout, motivo="La pasarela no respondió tras varios intentos.", codigo=domain.SIN_RESPUESTA),
            bootstrap.unit_of_work())

    retrying_transient_errors(
        self, lambda: handlers.procesar_payout(commands.EnviarPayout(id_payout=id_payout), bootstrap.unit_of_work()),
        give_up, f"payout {id_payout}")


LOTE_FACTURACION = 500  # clicks and impressions billed per transaction
SEGUNDOS_FACTURACION = 4.0  # a run stops starting batches after this (the schedule runs every 5 s)


@shared_task(name="pagos.facturar_interacciones")
def facturar_interacciones(limite: int = LOTE_FACTURACION, segundos: float = SEGUNDOS_FACTURACION) -> int:
    """Every few seconds (django-celery-beat): bill billable clicks and impressions in batches, one
    transaction each, until fewer than a batch wait or the time is up. Runs that overlap bill disjoint
    rows (SKIP LOCKED); answers how many rows this run billed."""
    fin, facturadas = time.monotonic() + segundos, 0
    while True:
        lote = handlers.facturar_interacciones(commands.FacturarInteracciones(limite=limite), bootstrap.unit_of_work())
        facturadas += lote
        if lote < limite or time.monotonic() >= fin:
            return facturadas
