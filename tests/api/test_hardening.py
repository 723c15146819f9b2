"""What a client can never get: more than its rate, a body over the limit read, or a trace of an
internal error; and production settings that `check --deploy` passes."""

import os
import secrets
import subprocess
import sys
import uuid

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from rest_framework.test import APIClient

from alpespartners.messaging.models import CommandLog
from cliente.models import ClienteView
from tests.api.test_clientes_api import assert_error
from tests.conftest import ROOT
from tests.factories import ClienteNaturalBody

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "2/minute",
                                                          "failed_authentication": "2/minute"}}
    cache.clear()
    yield
    cache.clear()


def test_a_user_over_its_rate_gets_429_with_retry_after(api, low_rates, django_user_model):
    for _ in range(3):
        assert api.get("/api/v1/clientes").status_code == 200
    answer = api.get("/api/v1/clientes")
    assert_error(answer, 429, "demasiadas_peticiones")
    assert 0 < int(answer["Retry-After"]) <= 60
    refused = api.post("/api/v1/clientes", ClienteNaturalBody(), format="json")
    assert_error(refused, 429, "demasiadas_peticiones")
    assert CommandLog.objects.count() == 0  # a throttled command is not logged
    other = APIClient()
    other.force_authenticate(django_user_model.objects.create_user("otro-operador", is_staff=True))
    assert other.get("/api/v1/clientes").status_code == 200  # the limit is per user


def test_an_anonymous_ip_over_its_rate_gets_429(low_rates):
    anonymous = APIClient(REMOTE_ADDR="127.0.0.9")
    for _ in range(2):
        assert anonymous.get("/api/schema/?format=json").status_code == 200
    answer = anonymous.get("/api/schema/?format=json")
    assert_error(answer, 429, "demasiadas_peticiones")
    assert int(answer["Retry-After"]) > 0
    assert APIClient(REMOTE_ADDR="127.0.0.10").get("/api/schema/?format=json").status_code == 200


def test_an_ip_trying_wrong_tokens_gets_429(api, low_rates):
    guesser = APIClient(REMOTE_ADDR="127.0.0.11", HTTP_AUTHORIZATION="Token " + "0" * 40)
    for _ in range(2):
        assert_error(guesser.get("/api/v1/clientes"), 401, "no_autenticado")
    answer = guesser.get("/api/v1/clientes")
    assert_error(answer, 429, "demasiadas_peticiones")
    assert int(answer["Retry-After"]) > 0
    assert api.get("/api/v1/clientes").status_code == 200  # a valid token from elsewhere is not held back


def test_requests_pass_unthrottled_when_the_cache_is_down(api, settings):
    """Throttling fails open: a Redis that refuses connections must not take the API down."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens on port 1
    assert api.get("/api/v1/clientes").status_code == 200
    ready = api.get("/ready")
    assert ready.status_code == 200  # reported, not fatal
    assert ready.json()["checks"]["cache"] == {"ok": False, "reason": "ConnectionError"}


def test_a_body_over_the_limit_is_refused_unread(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = ClienteNaturalBody(nombre="x" * 3_000)
    answer = api.post("/api/v1/clientes", body, format="json")
    assert_error(answer, 413, "cuerpo_demasiado_grande")
    assert answer.json()["error"]["details"] == {"max_bytes": 2_000}
    assert CommandLog.objects.count() == 0 and ClienteView.objects.count() == 0


def test_an_internal_error_shows_its_correlation_id_and_no_trace(api, caplog):
    """Forced for real: the read model's table is dropped (in a savepoint rolled back afterwards)."""
    sent_id = str(uuid.uuid4())

    class Restore(Exception):
        pass

    with pytest.raises(Restore), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE cliente_clienteview")
        answer = api.get("/api/v1/clientes", HTTP_X_CORRELATION_ID=sent_id)
        raise Restore
    assert answer.status_code == 500
    assert answer.json() == {"error": {
        "code": "error_interno",
        "message": "Error interno del servidor. Si escribe a soporte, cite el correlation_id.",
        "details": {"correlation_id": sent_id},
    }}
    assert answer["X-Correlation-ID"] == sent_id
    for leak in ("Traceback", "cliente_clienteview", "SELECT", "ProgrammingError", ".py"):
        assert leak not in answer.content.decode()
    logged = [record for record in caplog.records if record.levelname == "ERROR" and record.exc_info]
    assert logged and logged[0].correlation_id == sent_id  # operators find the trace by the id
    assert api.get("/api/v1/clientes").status_code == 200  # the table is back


def test_every_answer_carries_a_correlation_id(api):
    generated = api.get("/api/v1/clientes")["X-Correlation-ID"]
    assert uuid.UUID(generated)
    assert api.get("/api/v1/clientes", HTTP_X_CORRELATION_ID="not-a-uuid")["X-Correlation-ID"] != "not-a-uuid"


def manage_check(env: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_check_deploy_with_no_warning():
    result = manage_check({"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
                           "DJANGO_ALLOWED_HOSTS": "api.alpespartners.co"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_from_the_environment():
    result = manage_check({"DJANGO_ENV": "production", "DJANGO_ALLOWED_HOSTS": "api.alpespartners.co"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("value", ["Production", "prod", "staging", ""])
def test_an_unknown_environment_refuses_to_start(value):
    result = manage_check({"DJANGO_ENV": value})
    assert result.returncode != 0
    assert "DJANGO_ENV must be development or production" in result.stderr


@pytest.mark.parametrize("loader", ["cargar_demo", "cargar_demo_campanias", "cargar_demo_pagos", "serve_demo"])
def test_demo_loaders_refuse_to_run_in_production(loader):
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", loader], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**clean, "DJANGO_ENV": "production", "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
             "DJANGO_ALLOWED_HOSTS": "api.alpespartners.co"},
    )
    assert result.returncode != 0
    assert "no se cargan con DJANGO_ENV=production" in result.stderr


def test_docker_compose_refuses_to_start_without_a_secret():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    secret = compose["x-app"]["environment"]["DJANGO_SECRET_KEY"]
    assert secret.startswith("${DJANGO_SECRET_KEY:?"), secret  # compose's "required" form: no default to fall back on


def test_docker_compose_runs_production_settings_that_pass_check_deploy():
    """Compose serves plain HTTP on localhost (no TLS proxy in the file): production settings with the
    HTTPS redirect off, which is the one check silenced; everything else of check --deploy holds."""
    import re

    import yaml

    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]
    assert environment["DJANGO_ENV"] == "production"

    def as_compose_resolves(value: str) -> str:  # ${NAME:-default} → default (NAME unset)
        return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))

    settings_of_compose = {name: as_compose_resolves(value) for name, value in environment.items()
                           if name.startswith("DJANGO_") or name == "TRUSTED_PROXY_COUNT"}
    settings_of_compose["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)  # compose requires one
    result = manage_check(settings_of_compose)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout
