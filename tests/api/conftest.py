import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alpespartners.access.models import Rol, UsuarioCliente
from tests import events


@pytest.fixture
def marca() -> uuid.UUID:
    """An ACTIVO brand campanias has heard of through eventos.cliente."""
    id_marca = uuid.uuid4()
    events.deliver("campanias", "eventos.cliente", events.cliente_registrado(id_marca))
    return id_marca


@pytest.fixture
def socio_api(django_user_model):
    """socio_api(id_socio): an API client of a user linked to that partner (rol SOCIO)."""

    def client_of(id_socio: uuid.UUID) -> APIClient:
        user = django_user_model.objects.create_user(f"socio-{id_socio}")
        UsuarioCliente.objects.create(user=user, id_cliente=id_socio, rol=Rol.SOCIO)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return client_of
