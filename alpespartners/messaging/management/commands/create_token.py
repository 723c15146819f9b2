import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from alpespartners import registry
from alpespartners.access.models import Rol, UsuarioCliente


class Command(BaseCommand):
    help = "Create the user if needed, give it its rights and print its API token."

    def add_arguments(self, parser):
        parser.add_argument("usuario")
        parser.add_argument("--staff", action="store_true", help="back office: sees and does everything")
        parser.add_argument("--cliente", type=uuid.UUID, help="id of the client this user acts for (with --rol)")
        parser.add_argument("--rol", choices=Rol.values, help="marca: the client's campaigns and charges; "
                                                              "socio: its transactions, payouts and campaigns")

    def handle(self, *args, usuario, staff, cliente, rol, **options):
        if staff and (cliente or rol):
            raise CommandError("--staff ya lo ve todo: no se combina con --cliente ni --rol.")
        if bool(cliente) != bool(rol):
            raise CommandError("--cliente y --rol van juntos.")
        if cliente and registry.find_client(cliente) is None:
            raise CommandError(f"No existe el cliente {cliente}.")
        with transaction.atomic():
            user, _ = get_user_model().objects.get_or_create(username=usuario)
            if staff and not user.is_staff:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            if cliente:
                UsuarioCliente.objects.update_or_create(user=user, defaults={"id_cliente": cliente, "rol": rol})
            token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
