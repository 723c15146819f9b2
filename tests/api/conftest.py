import uuid

import pytest

from tests import events


@pytest.fixture
def marca() -> uuid.UUID:
    """An ACTIVO brand campanias has heard of through eventos.cliente."""
    id_marca = uuid.uuid4()
    events.deliver("campanias", "eventos.cliente", events.cliente_registrado(id_marca))
    return id_marca
