"""The config's JSON Schema: generated from the models, checked in twice, named by the shipped YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.cli.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]
COPIES = [ROOT / "policies" / "config.schema.json", ROOT / "mcp_guard" / "data" / "config.schema.json"]
SCHEMA_LINE = "# yaml-language-server: $schema=config.schema.json"
# The models whose fields the config module documents (redaction and audit settings document their own).
DOCUMENTED = ("GuardConfig", "UpstreamConfig", "Limits", "ToolRule", "ArgumentRules", "Profile")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(COPIES[0].read_text())
    return loaded


@pytest.mark.parametrize("copy", COPIES, ids=["policies", "packaged"])
def test_the_checked_in_schema_is_what_the_models_generate(cli: Cli, copy: Path) -> None:
    done = cli("schema")
    assert done.returncode == 0, done.stderr
    assert copy.read_text() == done.stdout, f"{copy.relative_to(ROOT)} is stale: run `make schema`"


@pytest.mark.parametrize("config", [ROOT / "policies" / "default.yaml", ROOT / "mcp_guard" / "data" / "default.yaml"], ids=["policies", "packaged"])
def test_the_shipped_config_names_the_schema_beside_it_and_satisfies_it(config: Path, schema: dict[str, Any]) -> None:
    assert config.read_text().splitlines()[0] == SCHEMA_LINE
    assert (config.parent / "config.schema.json").is_file()
    jsonschema.Draft7Validator.check_schema(schema)
    assert list(jsonschema.Draft7Validator(schema).iter_errors(yaml.safe_load(config.read_text()))) == []


def test_a_misspelled_key_is_flagged_by_the_schema(schema: dict[str, Any]) -> None:
    document = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
    document["profiles"]["live"]["arguments"]["max_limt"] = 10
    errors = [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(document)]
    assert errors == ["Additional properties are not allowed ('max_limt' was unexpected)"]


def test_every_config_field_has_a_description_for_editor_hover(schema: dict[str, Any]) -> None:
    models = {"GuardConfig": schema, **schema["$defs"]}
    missing = [f"{model}.{name}" for model in DOCUMENTED for name, field in models[model]["properties"].items() if not field.get("description")]
    assert missing == []
