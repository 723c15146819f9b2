import uuid
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from alpespartners.demo import DemoCommand
from alpespartners.messaging import command_log
from alpespartners.seedwork.domain import Monto
from campanias.commands import CrearCampania, InscribirSocio
from campanias.models import CampaniaView, ClienteLocal


class Command(DemoCommand):
    help = ("Demo data for `make demo`, after cargar_demo: a campaign for each brand campanias has heard of, "
            "with every natural client enrolled. Runs through commands; pagos charges it and the saga approves it.")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username="demo").first()
        hoy = timezone.localdate()
        for marca in ClienteLocal.objects.filter(tipo="EMPRESA", estado="ACTIVO"):
            if CampaniaView.objects.filter(id_cliente=marca.id).exists():
                continue
            id_campania = uuid.uuid4()
            command_log.submit("campanias", CrearCampania(
                id=id_campania, id_cliente=marca.id, nombre=f"Temporada navideña — {marca.nombre}",
                presupuesto=Monto(Decimal("5000000.00"), "COP"), fecha_inicio=hoy, fecha_fin=hoy + timedelta(days=60),
                dias_retencion=0,
            ), user=user, source="admin", resource_id=id_campania)
            for socio in ClienteLocal.objects.filter(tipo="NATURAL", estado="ACTIVO"):
                command_log.submit("campanias", InscribirSocio(id_campania=id_campania, id_socio=socio.id),
                                   user=user, source="admin", resource_id=id_campania)
        for campania in CampaniaView.objects.all():
            self.stdout.write(f"  Campaign:   {campania.nombre} — {campania.estado}, {campania.socios.count()} partners")
