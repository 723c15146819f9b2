"""The /clientes rows of the REST contract, on PostgreSQL, commands run on commit."""

import json
import threading
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from alpespartners.messaging.models import CommandLog, OutboxMessage
from cliente.models import ClienteModel, ClienteView
from tests.factories import ClienteEmpresaBody, ClienteNaturalBody

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_commands")]

ERROR_KEYS = {"code", "message", "details"}
MINOR = (date.today() - timedelta(days=365 * 17)).isoformat()
FUTURE = (date.today() + timedelta(days=3)).isoformat()


def assert_error(answer, status: int, code: str | None = None):
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    if code:
        assert body["error"]["code"] == code, body
    assert "Traceback" not in answer.content.decode()
    return body["error"]


def assert_nothing_written():
    assert CommandLog.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert ClienteModel.objects.count() == 0 and ClienteView.objects.count() == 0


def register(api, body, **headers):
    return api.post("/api/v1/clientes", body, format="json", **headers)


def test_registering_a_client_completes_and_shows_it(api):
    answer = register(api, ClienteNaturalBody())
    assert answer.status_code == 202
    assert set(answer.data) == {"command_id", "status", "resource_id", "links"}
    command = api.get(f"/api/v1/comandos/{answer.data['command_id']}").json()
    assert command["status"] == "COMPLETADO" and command["type"] == "RegistrarCliente"
    assert command["completed_at"] and command["error"] is None
    client = api.get(f"/api/v1/clientes/{answer.data['resource_id']}").json()
    assert client["estado"] == "ACTIVO" and client["total_pagos"] == [] and client["ultimo_pago"] is None
    assert OutboxMessage.objects.get().type == "ClienteRegistrado"


def test_prefer_wait_answers_201_with_the_resource(api):
    chosen_id = str(uuid.uuid4())
    answer = register(api, ClienteEmpresaBody(id=chosen_id), HTTP_PREFER="wait=5")
    assert answer.status_code == 201
    assert answer.json()["id"] == chosen_id and answer.json()["tipo_documento"] == "nit"
    assert answer["Location"].endswith(f"/api/v1/clientes/{chosen_id}")


def test_list_filters_by_type_state_and_search(api):
    register(api, ClienteNaturalBody(nombre="Lucía Gómez"))
    register(api, ClienteEmpresaBody(nombre="Café Andino S.A.S."))
    page = api.get("/api/v1/clientes", {"tipo": "EMPRESA"}).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert [item["nombre"] for item in page["results"]] == ["Café Andino S.A.S."]
    assert api.get("/api/v1/clientes", {"search": "lucía"}).json()["count"] == 1
    assert api.get("/api/v1/clientes", {"estado": "SUSPENDIDO"}).json()["count"] == 0


def test_suspend_reactivate_and_payment_methods(api):
    client_id = register(api, ClienteNaturalBody()).data["resource_id"]
    answer = api.post(f"/api/v1/clientes/{client_id}/suspender", {"motivo": "fraude"}, format="json", HTTP_PREFER="wait=5")
    assert answer.status_code == 200 and answer.json()["estado"] == "SUSPENDIDO"
    # suspending twice is a business refusal, explained
    error = assert_error(api.post(f"/api/v1/clientes/{client_id}/suspender", {}, format="json", HTTP_PREFER="wait=5"), 422)
    assert "ya está suspendido" in error["message"]
    api.post(f"/api/v1/clientes/{client_id}/reactivar", {}, format="json")
    for token, default in (("tok_ok", False), ("tok_inestable", True)):
        api.post(f"/api/v1/clientes/{client_id}/medios-pago",
                 {"tipo": "TARJETA", "token": token, "mascara": "**** 4242", "predeterminado": default}, format="json")
    client = api.get(f"/api/v1/clientes/{client_id}").json()
    assert client["estado"] == "ACTIVO"
    assert [(item["mascara"], item["predeterminado"]) for item in client["medios_pago"]] == [("**** 4242", False), ("**** 4242", True)]
    assert all("token" not in item for item in client["medios_pago"])
    assert list(OutboxMessage.objects.values_list("type", flat=True)) == [
        "ClienteRegistrado", "ClienteSuspendido", "ClienteReactivado", "MedioPagoRegistrado", "MedioPagoRegistrado"]


@pytest.mark.parametrize(("field", "value"), [("predeterminado", "yes"), ("predeterminado", 1), ("token", 42),
                                               ("id", True)])
def test_a_payment_method_field_of_another_json_type_is_a_400_that_writes_nothing(api, field, value):
    client_id = register(api, ClienteNaturalBody()).data["resource_id"]
    commands_before = CommandLog.objects.count()
    body = {"tipo": "TARJETA", "token": "tok_ok", "mascara": "**** 4242", "predeterminado": True, field: value}
    assert_error(api.post(f"/api/v1/clientes/{client_id}/medios-pago", body, format="json"), 400)
    assert CommandLog.objects.count() == commands_before
    assert not OutboxMessage.objects.filter(type="MedioPagoRegistrado").exists()


# --- Idempotency-Key ----------------------------------------------------------


def test_same_key_and_body_gives_the_same_answer_and_one_command(api):
    body = ClienteNaturalBody()
    first = register(api, body, HTTP_IDEMPOTENCY_KEY="alta-123")
    second = register(api, body, HTTP_IDEMPOTENCY_KEY="alta-123")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert CommandLog.objects.count() == 1 and ClienteView.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_same_key_other_body_is_a_conflict_and_changes_nothing(api):
    register(api, ClienteNaturalBody(), HTTP_IDEMPOTENCY_KEY="alta-123")
    answer = register(api, ClienteNaturalBody(), HTTP_IDEMPOTENCY_KEY="alta-123")
    assert_error(answer, 409, "conflicto")
    assert CommandLog.objects.count() == 1 and ClienteView.objects.count() == 1


def test_keys_belong_to_their_user(api, django_user_model):
    body = ClienteNaturalBody()
    register(api, body, HTTP_IDEMPOTENCY_KEY="alta-123")
    other = APIClient()
    other.force_authenticate(django_user_model.objects.create_user("otra", is_staff=True))
    answer = register(other, ClienteNaturalBody(), HTTP_IDEMPOTENCY_KEY="alta-123")
    assert answer.status_code == 202
    assert CommandLog.objects.count() == 2


# --- bad input ----------------------------------------------------------------

INVALID_FIELDS = [
    (ClienteNaturalBody, "tipo", "PERSONA"),
    (ClienteNaturalBody, "tipo", None),
    (ClienteNaturalBody, "nombre", ""),
    (ClienteNaturalBody, "nombre", 12),  # a number, not the string the schema asks for
    (ClienteNaturalBody, "id", 1),
    (ClienteNaturalBody, "fecha_nacimiento", "0001-01-01"),  # dates outside 1900–2100
    (ClienteEmpresaBody, "fecha_constitucion", "1899-12-31"),
    (ClienteNaturalBody, "email", 12),
    (ClienteNaturalBody, "cedula", 12345678),
    (ClienteEmpresaBody, "nit", 900123456),
    (ClienteNaturalBody, "nombre", "x" * 201),
    (ClienteNaturalBody, "email", "no-es-un-email"),
    (ClienteNaturalBody, "email", ""),
    (ClienteNaturalBody, "cedula", "12345"),
    (ClienteNaturalBody, "cedula", "12345678901"),
    (ClienteNaturalBody, "cedula", "12a4567"),
    (ClienteNaturalBody, "cedula", None),
    (ClienteNaturalBody, "fecha_nacimiento", MINOR),
    (ClienteNaturalBody, "fecha_nacimiento", FUTURE),
    (ClienteNaturalBody, "fecha_nacimiento", "1990-02-30"),
    (ClienteNaturalBody, "fecha_nacimiento", None),
    (ClienteNaturalBody, "nit", "900123456-8"),
    (ClienteNaturalBody, "id", "no-es-uuid"),
    (ClienteEmpresaBody, "nit", "900123456-7"),
    (ClienteEmpresaBody, "nit", "900123456"),
    (ClienteEmpresaBody, "nit", "90012345-6"),
    (ClienteEmpresaBody, "nit", None),
    (ClienteEmpresaBody, "fecha_constitucion", FUTURE),
    (ClienteEmpresaBody, "fecha_constitucion", "ayer"),
    (ClienteEmpresaBody, "fecha_constitucion", None),
    (ClienteEmpresaBody, "cedula", "1234567"),
]


@pytest.mark.parametrize(("factory", "field", "value"), INVALID_FIELDS)
def test_each_invalid_field_is_a_400_that_writes_nothing(api, factory, field, value):
    body = factory()
    if value is None:
        body.pop(field)
    else:
        body[field] = value
    error = assert_error(register(api, body), 400, "datos_invalidos")
    assert field in error["details"] or "tipo" == field, error
    assert_nothing_written()


def test_malformed_json_is_a_400_that_writes_nothing(api):
    answer = api.generic("POST", "/api/v1/clientes", '{"tipo": "NATURAL", ', content_type="application/json")
    assert_error(answer, 400, "json_invalido")
    assert_nothing_written()


def test_a_json_array_body_is_a_400(api):
    answer = api.generic("POST", "/api/v1/clientes", json.dumps([ClienteNaturalBody()]), content_type="application/json")
    assert_error(answer, 400, "datos_invalidos")
    assert_nothing_written()


def test_duplicate_email_fails_the_command_with_a_clear_error(api):
    register(api, ClienteNaturalBody(email="repetido@correo.co"))
    answer = register(api, ClienteEmpresaBody(email="repetido@correo.co"))
    assert answer.status_code == 202
    command = api.get(f"/api/v1/comandos/{answer.data['command_id']}").json()
    assert command["status"] == "FALLIDO"
    assert command["error"]["message"] == "El email ya está registrado." and command["error"]["field"] == "email"
    assert ClienteView.objects.count() == 1
    assert OutboxMessage.objects.count() == 1  # only the first client's event


def test_duplicate_document_fails_the_command(api):
    register(api, ClienteNaturalBody(cedula="55555555"))
    answer = register(api, ClienteNaturalBody(cedula="55555555"), HTTP_PREFER="wait=5")
    assert assert_error(answer, 422)["message"] == "La cédula ya está registrada."


def test_unknown_ids_are_404(api):
    unknown = uuid.uuid4()
    assert_error(api.get(f"/api/v1/clientes/{unknown}"), 404, "no_encontrado")
    assert_error(api.get(f"/api/v1/comandos/{unknown}"), 404, "no_encontrado")
    assert_error(api.post(f"/api/v1/clientes/{unknown}/suspender", {}, format="json"), 404, "no_encontrado")
    assert_error(api.get("/api/v1/no-existe"), 404, "no_encontrado")
    assert CommandLog.objects.count() == 0


def test_no_token_is_401(db):
    anonymous = APIClient()
    assert_error(anonymous.get("/api/v1/clientes"), 401, "no_autenticado")
    assert_error(anonymous.post("/api/v1/clientes", ClienteNaturalBody(), format="json"), 401, "no_autenticado")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error(bad.get("/api/v1/clientes"), 401, "no_autenticado")
    assert CommandLog.objects.count() == 0


def test_a_command_is_visible_only_to_whoever_issued_it(api, django_user_model):
    command_id = register(api, ClienteNaturalBody()).data["command_id"]
    other = APIClient()
    other.force_authenticate(django_user_model.objects.create_user("otra"))
    assert_error(other.get(f"/api/v1/comandos/{command_id}"), 404)


def test_health_ready_and_schema(api):
    assert api.get("/health").json() == {"status": "ok"}
    ready = api.get("/ready")
    assert ready.status_code == 200 and all(check["ok"] for check in ready.json()["checks"].values())
    assert set(ready.json()["checks"]) == {"database", "broker", "pulsar", "cache"}
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/clientes" in schema.json()["paths"]
    assert api.get("/api/docs/").status_code == 200


def test_an_overlong_idempotency_key_is_a_400_that_writes_nothing(api):
    error = assert_error(register(api, ClienteNaturalBody(), HTTP_IDEMPOTENCY_KEY="k" * 256), 400, "datos_invalidos")
    assert "Idempotency-Key" in error["details"]
    assert_nothing_written()


def _conversion_body() -> dict:
    return {"id_externo": "x", "id_campania": str(uuid.uuid4()), "id_socio": str(uuid.uuid4()), "tipo": "CLICK",
            "ocurrida_en": "2026-11-30T10:00:00Z"}


@pytest.mark.parametrize("key", ["nul\x00", "esc\x1b[31m", "tab\tkey", "con espacio", "eñe", "\x7f"])
@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/clientes", ClienteNaturalBody), ("/api/v1/pagos/ciclos", dict), ("/api/v1/pagos/conversiones", _conversion_body),
])
def test_an_idempotency_key_that_is_not_visible_ascii_is_a_400_that_writes_nothing(api, key, path, body):
    error = assert_error(api.post(path, body(), format="json", HTTP_IDEMPOTENCY_KEY=key), 400, "datos_invalidos")
    assert "Idempotency-Key" in error["details"]
    assert CommandLog.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_concurrent_requests_with_one_key_log_one_command(api, real_services):
    # PostgreSQL: SQLite's in-memory test database locks whole tables across threads.
    body = ClienteNaturalBody()
    answers = []

    def post():
        try:
            answers.append(register(api, body, HTTP_IDEMPOTENCY_KEY="carrera"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [answer.status_code for answer in answers] == [202] * 4
    assert len({answer.json()["command_id"] for answer in answers}) == 1
    assert CommandLog.objects.count() == 1 and ClienteView.objects.count() == 1


def test_an_unknown_filter_value_is_a_400(api):
    error = assert_error(api.get("/api/v1/clientes", {"tipo": "PERSONA", "estado": "BORRADO"}), 400, "datos_invalidos")
    assert set(error["details"]) == {"tipo", "estado"}
    assert_error(api.get("/api/v1/clientes", {"page": "99"}), 404, "no_encontrado")
