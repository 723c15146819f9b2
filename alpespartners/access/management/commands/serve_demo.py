"""`make demo`'s server: Django's runserver, then, once it listens, the demo's tokens and URLs — last
on the screen, where a newcomer looks; beside it, in threads, the loops the contexts run as processes
on the real stack (the webhooks dispatcher)."""

import threading

from django.contrib.auth import get_user_model
from django.core.management.commands.runserver import Command as RunserverCommand
from rest_framework.authtoken.models import Token

from alpespartners import registry
from alpespartners.access.models import Rol, UsuarioCliente
from alpespartners.demo import DemoCommand

STAFF_USER = "demo"  # the superuser the demo loaders create (password demo)


class Command(DemoCommand, RunserverCommand):
    help = "runserver for `make demo`, printing the demo users' tokens and the URLs to try once it listens."

    def on_bind(self, server_port):
        super().on_bind(server_port)
        for name, run in registry.embedded_loops().items():
            threading.Thread(target=run, args=(threading.Event(),), name=name, daemon=True).start()
        self.stdout.write(summary(f"{self.protocol}://{self.addr}:{server_port}"))


def summary(base: str) -> str:
    staff = Token.objects.get_or_create(user=get_user_model().objects.get(username=STAFF_USER))[0].key
    lines = ["", "Alpes Partners demo (SQLite, Celery eager, in-process transport)",
             f"  API token:  {staff}  (staff: everything)"]
    for rol, label, sees in ((Rol.MARCA, "Brand", "its campaigns, charges and conversions"),
                             (Rol.SOCIO, "Partner", "its transactions, payouts and campaigns")):
        link = UsuarioCliente.objects.filter(rol=rol).select_related("user").order_by("user__username").first()
        if link is not None:
            client = registry.find_client(link.id_cliente)
            name = f"{client.nombre}: " if client is not None else ""
            lines.append(f"  {label + ':':<11} {Token.objects.get_or_create(user=link.user)[0].key}  "
                         f"({rol.lower()}, user {link.user.username}; {name}{sees})")
    lines += [
        f"  Try:        curl -H 'Authorization: Token {staff}' {base}/api/v1/clientes",
        f"  API docs:   {base}/api/docs/",
        f"  Admin:      {base}/admin/  (user {STAFF_USER}, password demo)",
        f"  Health:     {base}/health   Ready: {base}/ready",
        f"  Webhooks:   POST {base}/api/v1/webhooks  (here loopback receivers are allowed: http://127.0.0.1:PORT/…)",
        "",
    ]
    return "\n".join(lines)
