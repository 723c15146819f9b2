"""`make demo`'s last words: once its server listens it prints the demo users' tokens and the URLs
to try (alpespartners/access/management/commands/serve_demo.py)."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from alpespartners.access.management.commands.serve_demo import summary
from alpespartners.access.models import Rol, UsuarioCliente
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]


def test_the_summary_gives_each_demo_user_a_working_token_and_the_urls():
    users = get_user_model().objects
    users.create_user("demo", password="demo", is_staff=True)
    marca = factories.ClienteViewFactory(nombre="Café de los Alpes S.A.S.")
    UsuarioCliente.objects.create(user=users.create_user("cafe"), id_cliente=marca.id, rol=Rol.MARCA)
    UsuarioCliente.objects.create(user=users.create_user("lucia"), id_cliente=uuid.uuid4(), rol=Rol.SOCIO)

    text = summary("http://127.0.0.1:8000")

    for username in ("demo", "cafe", "lucia"):
        assert Token.objects.get(user__username=username).key in text
    assert "user cafe; Café de los Alpes S.A.S.: its campaigns" in text
    assert "user lucia; its transactions" in text  # a client no context knows: no name, no error
    for url in ("http://127.0.0.1:8000/api/docs/", "http://127.0.0.1:8000/admin/", "http://127.0.0.1:8000/ready"):
        assert url in text
