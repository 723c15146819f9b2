import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from alpespartners.messaging import command_log
from alpespartners.messaging.models import CommandStatus
from pagos import commands, domain, queries

ANSWERED = (domain.EstadoPayout.EXITOSO.value, domain.EstadoPayout.FALLIDO.value)


class Command(BaseCommand):
    help = ("Run a payout cycle now: issue EjecutarCiclo through the command log (workers do the work, as for "
            "the daily schedule) and follow it with a progress bar until every payout has its answer.")

    def add_arguments(self, parser):
        parser.add_argument("--fecha-corte", type=date.fromisoformat, default=None,
                            help="YYYY-MM-DD; commissions payable before the end of that day enter (default: today)")
        parser.add_argument("--timeout", type=float, default=600, help="seconds to follow the cycle (default 600)")

    def handle(self, *args, fecha_corte, timeout, **options):
        fecha_corte = fecha_corte or timezone.localdate()
        entry, _ = command_log.submit("pagos", commands.EjecutarCiclo(fecha_corte=fecha_corte, origen="consola"),
                                      source="consola", resource_id=domain.id_ciclo(fecha_corte))
        deadline = time.monotonic() + timeout
        entry = command_log.wait_for(entry, timeout)
        if entry.status == CommandStatus.FALLIDO:
            raise CommandError(f"the cycle failed: {entry.error}")
        if entry.status != CommandStatus.COMPLETADO:
            raise CommandError(f"the cycle's command {entry.id} is still {entry.status} after {timeout:.0f} s: "
                               "is a worker running?")
        ciclo = queries.ciclo(entry.resource_id)
        if not entry.result["ciclo_nuevo"]:
            self.stdout.write(f"cut-off {fecha_corte} already had its cycle {ciclo.id}; nothing new to pay")
        with tqdm(total=ciclo.payouts, desc=f"payouts {fecha_corte}", unit="payout", file=sys.stderr) as bar:
            while True:
                por_estado = queries.payouts_por_estado(ciclo.id)
                bar.update(sum(por_estado.get(estado, 0) for estado in ANSWERED) - bar.n)
                if bar.n >= ciclo.payouts or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        resumen = ", ".join(f"{estado} {total}" for estado, total in sorted(por_estado.items())) or "no payouts"
        totales = ", ".join(f"{total['valor']} {total['moneda']}" for total in ciclo.totales) or "0"
        self.stdout.write(f"cycle {ciclo.id} (cut-off {fecha_corte}): {ciclo.payouts} payouts, "
                          f"{ciclo.transacciones} transactions, {totales}: {resumen}")
