import uuid

from django.core.management.base import BaseCommand

from alpespartners.messaging import command_log
from campanias import commands, queries


class Command(BaseCommand):
    help = ("Give every enrolment that predates tracking links its link: one CrearEnlacesFaltantes per campaign "
            "through the command log, so each link is an EnlaceCreado of the campaign's history like any other. "
            "Safe to run again: the command id is fixed per campaign and enrolments with a link are skipped.")

    def handle(self, *args, **options):
        campanias = queries.campanias_con_enrolamientos_sin_enlace()
        for id_campania in campanias:
            command_log.submit("campanias", commands.CrearEnlacesFaltantes(id_campania=id_campania), source="consola",
                               resource_id=id_campania, command_id=uuid.uuid5(id_campania, "enlaces-faltantes"))
        self.stdout.write(f"{len(campanias)} campaigns with enrolments without a link: commands issued")
