"""A structuredContent changed by redaction must still fit the tool's outputSchema.

Clients validate structuredContent against the schema the tool listed (the Python SDK raises on
a mismatch), so a redacted value that no longer fits is turned into an `isError` result that
carries the redacted content and says why, instead of a result the client would reject.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_guard.checks._pipeline import Call, ResponseFilter

VALIDATOR_CACHE_LIMIT = 256


class OutputSchemaFilter(ResponseFilter):
    def __init__(self) -> None:
        self._schemas: dict[str, dict[str, Any]] = {}  # tool name -> outputSchema, from tools/list
        self._validators: dict[str, Any] = {}  # schema as JSON -> checked validator

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        if call.method == "tools/list":
            self._learn(result)
            return result
        schema = self._schemas.get(call.tool or "") if call.method == "tools/call" else None
        if (
            schema is None
            or "structuredContent" not in result
            or result.get("isError") is True
            or call.redaction is None
            or not any(p.startswith("/structuredContent") for p in call.redaction.pointers)
        ):
            return result
        problem = self.problem(result.get("structuredContent"), schema)
        if problem is None:
            return result
        note = (
            "mcp-guard redacted this result and its structuredContent no longer matches the "
            f"tool's outputSchema ({problem}); the redacted content follows"
        )
        content = [{"type": "text", "text": note}, *result.get("content", [])]
        kept = {k: v for k, v in result.items() if k != "structuredContent"}
        return {**kept, "content": content, "isError": True}

    def _learn(self, result: dict[str, Any]) -> None:
        for tool in result.get("tools") or []:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str) and isinstance(tool.get("outputSchema"), dict):
                self._schemas[tool["name"]] = tool["outputSchema"]

    def problem(self, structured: Any, schema: dict[str, Any]) -> str | None:
        """None if `structured` fits `schema`, else a short reason naming no values."""
        import jsonschema  # comes with mcp; only needed once a tool declares an outputSchema

        try:
            error = jsonschema.exceptions.best_match(self._validator(schema).iter_errors(structured))
        except jsonschema.exceptions.SchemaError:
            return "the tool's outputSchema is not a valid JSON Schema"
        except Exception as exc:  # noqa: BLE001 - an unresolvable $ref...: the result cannot be vouched for, so it fails the check
            return f"the tool's outputSchema could not be checked ({type(exc).__name__})"
        if error is None:
            return None
        where = error.json_path if error.path else "$"
        return f"redacted structuredContent no longer matches the tool's outputSchema at {where} ({error.validator})"

    def _validator(self, schema: dict[str, Any]) -> Any:
        import jsonschema

        cache_key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(cache_key)
        if validator is None:
            validator_cls = jsonschema.validators.validator_for(schema)
            validator_cls.check_schema(schema)
            validator = validator_cls(schema)
            if len(self._validators) >= VALIDATOR_CACHE_LIMIT:
                self._validators.clear()
            self._validators[cache_key] = validator
        return validator
