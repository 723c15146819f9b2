from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the user if needed and print its API token."

    def add_arguments(self, parser):
        parser.add_argument("usuario")
        parser.add_argument("--staff", action="store_true", help="give back-office (staff and superuser) rights")

    def handle(self, *args, usuario, staff, **options):
        user, _ = get_user_model().objects.get_or_create(username=usuario)
        if staff and not user.is_staff:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
