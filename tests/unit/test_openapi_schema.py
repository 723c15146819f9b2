"""The published OpenAPI document is valid and generated without warnings."""

import yaml
from django.core.management import call_command


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    assert {"/api/v1/clientes", "/api/v1/clientes/{id_cliente}", "/api/v1/comandos/{command_id}"} <= set(paths)
