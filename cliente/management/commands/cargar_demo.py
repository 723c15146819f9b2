import uuid

from django.contrib.auth import get_user_model

from alpespartners.demo import DemoCommand
from alpespartners.access.models import Rol, UsuarioCliente
from alpespartners.messaging import command_log
from cliente.commands import RegistrarCliente, RegistrarMedioPago
from cliente.models import ClienteView

# A user of the brand and one of its first partner, to try the API as they see it.
DEMO_USUARIOS = [("cafe", "marca@cafealpes.co", Rol.MARCA), ("lucia", "lucia@socios.co", Rol.SOCIO)]

DEMO_CLIENTES = [
    dict(tipo="EMPRESA", nombre="Café de los Alpes S.A.S.", email="marca@cafealpes.co", nit="900123456-8",
         fecha_constitucion="2012-01-31", token="tok_ok"),
    dict(tipo="NATURAL", nombre="Lucía Gómez", email="lucia@socios.co", cedula="1032456789",
         fecha_nacimiento="1991-04-12", token="tok_ok"),
    dict(tipo="NATURAL", nombre="Andrés Pérez", email="andres@socios.co", cedula="79456123",
         fecha_nacimiento="1985-09-30", token="tok_rechazado"),
    dict(tipo="NATURAL", nombre="Marta Ríos", email="marta@socios.co", cedula="52789456",
         fecha_nacimiento="1979-12-03", token="tok_inestable"),
]


class Command(DemoCommand):
    help = "Demo data for `make demo`: a staff user and a brand with three partners, registered through commands."

    def handle(self, *args, **options):
        user, _ = get_user_model().objects.get_or_create(username="demo", defaults={"is_staff": True, "is_superuser": True})
        user.set_password("demo")
        user.save()
        for datos in DEMO_CLIENTES:
            if ClienteView.objects.filter(email=datos["email"]).exists():
                continue
            datos = dict(datos)
            medio_token = datos.pop("token")
            id_cliente = uuid.uuid4()
            command_log.submit("cliente", RegistrarCliente(id=id_cliente, **datos), user=user, source="admin")
            command_log.submit("cliente", RegistrarMedioPago(
                id_cliente=id_cliente, id_medio_pago=uuid.uuid4(), tipo="TARJETA", token=medio_token,
                mascara="**** 4242", predeterminado=True,
            ), user=user, source="admin")
        for usuario, email, rol in DEMO_USUARIOS:
            vinculado, _ = get_user_model().objects.get_or_create(username=usuario)
            UsuarioCliente.objects.update_or_create(
                user=vinculado, defaults={"id_cliente": ClienteView.objects.get(email=email).id, "rol": rol}
            )
        usuarios = ", ".join(usuario for usuario, _, _ in DEMO_USUARIOS)
        self.stdout.write(f"demo clients loaded; users demo (staff), {usuarios} (tokens printed by serve_demo)")
