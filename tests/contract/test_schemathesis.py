"""Contract fuzzing: schemathesis generates requests from /api/schema/ for every operation, valid
and invalid, and every answer must be documented there (status, content type, body schema,
headers) and never a 5xx. Runs through the WSGI app on the real services, as staff."""

import uuid

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from alpespartners.access.models import Rol, UsuarioCliente

# Bounded so `make test` stays a few minutes: examples per operation (about 30 operations).
EXAMPLES_PER_OPERATION = 50

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]


# Read from the running app's /api/schema/ when the module is collected (schemathesis' lazy
# loading from a fixture does not work with pytest 9); anonymous, so no database is needed yet.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI app as a server runs it, except that a request does not close the test's database
    connection (Django's own test client disconnects the same handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(django_user_model) -> str:
    user, _ = django_user_model.objects.get_or_create(username="fuzzing", defaults={"is_staff": True})
    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def marca_token(django_user_model) -> str:
    user, _ = django_user_model.objects.get_or_create(username="fuzzing-marca")
    UsuarioCliente.objects.get_or_create(user=user, defaults={"id_cliente": uuid.uuid4(), "rol": Rol.MARCA})
    return Token.objects.get_or_create(user=user)[0].key


FUZZING = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])


def call_and_validate(case, token: str) -> None:
    # Not checked: that every schema-valid body is accepted. Domain rules (a NIT's check digit, a
    # NATURAL client's cédula, fecha_fin after fecha_inicio) are not expressible in the schema, and
    # refusing such a body with 400 is the contract. Everything else is: no 5xx, documented status,
    # content type, headers and body, and schema-violating requests refused.
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=[positive_data_acceptance])


@schema.parametrize()
@FUZZING
def test_every_answer_is_documented_and_none_is_a_server_error(case, staff_token):
    call_and_validate(case, staff_token)


@schema.parametrize()
@settings(FUZZING, max_examples=EXAMPLES_PER_OPERATION // 2)
def test_a_brand_user_gets_documented_answers_too(case, marca_token):
    """The same as a marca user: its refusals (403 for an operation its role may not do, 404 for
    what it may not see) are documented and never a 5xx."""
    call_and_validate(case, marca_token)
