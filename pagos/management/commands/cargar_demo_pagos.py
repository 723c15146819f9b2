from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from alpespartners.demo import DemoCommand
from alpespartners.messaging import command_log
from alpespartners.seedwork.domain import Monto
from pagos import domain, queries
from pagos.commands import EjecutarCiclo, RegistrarConversion, RegistrarConversiones
from pagos.models import CampaniaLocal, SocioCampaniaLocal

# Per partner: (tipo, monto). 5 % of 900,000 + 3 % of 150,000 + clicks and views ≈ 49,500 COP,
# above the default COP minimum, so today's cycle pays every partner whose card works.
CONVERSIONES = [(domain.TipoConversion.VENTA.value, "900000.00"), (domain.TipoConversion.CONVERSION.value, "150000.00"),
                (domain.TipoConversion.CLICK.value, None), (domain.TipoConversion.CLICK.value, None),
                (domain.TipoConversion.IMPRESION.value, None)]


class Command(DemoCommand):
    help = ("Demo data for `make demo`, after cargar_demo_campanias: a batch of conversions for every enrolled "
            "partner of each approved campaign, then today's payout cycle. Runs through commands.")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username="demo").first()
        ahora = timezone.now() - timedelta(minutes=5)
        for campania in CampaniaLocal.objects.filter(estado=domain.EstadoCampania.APROBADA.value):
            socios = SocioCampaniaLocal.objects.filter(id_campania=campania.id).values_list("id_socio", flat=True)
            lote = [
                RegistrarConversion(id_externo=f"demo-{socio}-{numero}", id_campania=campania.id, id_socio=socio,
                                    tipo=tipo, monto=Monto(Decimal(monto), campania.moneda) if monto else None,
                                    ocurrida_en=ahora)
                for socio in socios for numero, (tipo, monto) in enumerate(CONVERSIONES)
            ]
            if lote:
                command_log.submit("pagos", RegistrarConversiones(conversiones=lote), user=user, source="admin")
        hoy = timezone.localdate()
        command_log.submit("pagos", EjecutarCiclo(fecha_corte=hoy, origen="consola"), user=user, source="admin",
                           resource_id=domain.id_ciclo(hoy))
        for payout in queries.con_nombres(queries.payouts(), "id_socio"):
            self.stdout.write(f"  Payout:     {payout.monto_total:.2f} {payout.moneda} to {payout.nombre_socio} — "
                              f"{payout.estado} {payout.motivo_fallo}".rstrip())
