"""The published OpenAPI document is valid and generated without warnings."""

import yaml
from django.conf import settings
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


def test_operations_are_grouped_by_area_and_every_estado_is_an_enum(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    areas = [tag["name"] for tag in settings.SPECTACULAR_SETTINGS["TAGS"]]
    tagged = {operation["tags"][0] for operations in schema["paths"].values() for operation in operations.values()}
    assert tagged == set(areas)
    assert schema["paths"]["/api/v1/pagos/payouts/{id_payout}/reintentar"]["post"]["tags"] == ["payouts"]
    assert "`Token`" in schema["components"]["securitySchemes"]["tokenAuth"]["description"]
    for name, component in schema["components"]["schemas"].items():
        for field in ("estado", "status"):
            definition = component.get("properties", {}).get(field)
            if definition and name != "IntentoOutput":  # an attempt's status is the HTTP status
                assert "$ref" in str(definition) and "Enum" in str(definition), (name, field, definition)
