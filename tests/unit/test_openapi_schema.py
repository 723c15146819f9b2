"""The published OpenAPI document is valid and generated without warnings."""

import yaml
from django.core.management import call_command


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    assert {"/api/v1/clientes", "/api/v1/clientes/{id_cliente}", "/api/v1/comandos/{command_id}"} <= set(paths)


def test_every_operation_documents_the_error_shape_and_commands_their_headers(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "429", "503"} | ({"409", "413", "415", "422"} if method != "get" else set())
            assert expected <= set(operation["responses"]), (method, path)
            for code in expected:
                assert operation["responses"][code]["content"]["application/json"]["schema"] == error_ref
            headers = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"}
            assert headers == ({"Idempotency-Key", "Prefer", "X-Correlation-ID"} if method != "get" else set())
