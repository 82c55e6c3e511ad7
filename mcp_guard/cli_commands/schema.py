"""`mcp-guard schema`: print the JSON Schema of the config file, generated from its pydantic models.

Editors that speak the YAML language server (VS Code's YAML extension, JetBrains, Neovim) use it
for completion, hover help and validation of `mcp-guard.yaml`. The shipped config files name a
copy beside themselves in their first line (`# yaml-language-server: $schema=config.schema.json`):
`policies/config.schema.json` and the packaged `mcp_guard/data/config.schema.json`, both written by
`make schema` and kept equal to this command's output by a test.

The schema describes the file as written, before `${VAR}` interpolation: a `${VAR}` in a field
that takes a number is accepted by mcp-guard but flagged by the schema.

Exit codes: 0 printed; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

# Draft 7: the YAML language server (VS Code's YAML extension) validates with it and warns on newer
# dialects. Pydantic's output uses nothing draft 7 lacks; its `$defs` are reached by JSON pointer.
SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "schema",
        help="print the config file's JSON Schema (for editor completion and validation)",
        description="Print the JSON Schema of mcp-guard's config file, generated from its models.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(render_schema())
    return 0


def config_schema() -> dict[str, Any]:
    """The config's JSON Schema: GuardConfig's, with a dialect, a title and a description."""
    from mcp_guard.config import GuardConfig  # pydantic models: only this command needs them built

    generated = GuardConfig.model_json_schema()
    generated.pop("title", None)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "mcp-guard config",
        "description": (
            "mcp-guard's config file: how to reach Stripe's MCP server and the profiles that guard it. "
            "Strings may use ${VAR} and ${VAR:-default}. Validate with `mcp-guard check --config FILE`."
        ),
        **generated,
    }


def render_schema() -> str:
    """The schema as the checked-in files hold it: the models' field order, two-space indent, final newline."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
