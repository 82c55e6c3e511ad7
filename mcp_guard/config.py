"""The config file's schema (pydantic) and its validation.

Shape (user-facing names are fixed):

    upstream: {command: npx, args: [...], env: {...}}      # or {url: ..., headers: {...}}
    limits: {max_message_bytes: 4194304}
    profiles:
      test:
        mode: test
        api_key: ${STRIPE_TEST_KEY}
        allowed_operations: [read, list, search]
        blocked_operations: [create, update, delete]
        audit: {dir: ..., retention_days: 90}
        pinning: enforce                          # off | warn | enforce (mcp-guard.lock beside this file)
        budgets: {calls_per_minute: 30}           # also objects_per_hour, bytes_per_hour

Finding, reading and interpolating the file is `mcp_guard.config_file` (no pydantic, so `run` can
start its upstream before the models are built); `load_config` validates what it read. Every
failure is a ConfigError naming the file, the key path and what is wrong, never a secret value.
The loaded config carries the sha256 of the file's bytes (the policy version every audit record
names) and, per key path, the environment variables its value was read from (so a key's
messages can name its variable).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from mcp_guard.audit.settings import AuditSettings
from mcp_guard.classify import DISPATCHERS, name_key
from mcp_guard.config_file import ENV_CONFIG_VAR as ENV_CONFIG_VAR
from mcp_guard.config_file import ConfigFile, read_config_file
from mcp_guard.config_file import default_config_path as default_config_path
from mcp_guard.config_file import find_config as find_config
from mcp_guard.errors import ConfigError
from mcp_guard.mode import Mode as Mode
from mcp_guard.operations import Operation
from mcp_guard.redaction.settings import RedactionSettings

# MCP methods a client may send through the guard by default. Anything else is answered with
# -32601 and never reaches the upstream: an unknown method is denied like an unknown tool.
DEFAULT_ALLOWED_METHODS: tuple[str, ...] = (
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
)

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpstreamConfig(_Strict):
    """How to reach Stripe's MCP server: a stdio command or a streamable-HTTP URL."""

    command: str | None = Field(None, description="Stdio upstream: the program to start, e.g. npx (found on PATH unless a path is given).")
    args: list[str] = Field(default_factory=list, description="Its arguments. Never a key: keys go in profiles.NAME.api_key.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables for the upstream process (the key is added as STRIPE_SECRET_KEY).")
    cwd: str | None = Field(None, description="Working directory of the upstream process; relative to this file.")
    url: str | None = Field(None, description="Streamable-HTTP upstream, e.g. https://mcp.stripe.com (instead of command).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers for a url upstream (the key is sent as a bearer token).")
    auth: Literal["api_key", "oauth"] = Field(
        "api_key",
        description="Credential of a url upstream: api_key sends the profile's key as a bearer token; oauth uses the grant `mcp-guard login --profile NAME` stored.",
    )
    initialize_timeout: float = Field(30.0, gt=0, description="Seconds to wait for the upstream's initialize answer.")
    request_timeout: float = Field(120.0, gt=0, description="Seconds to wait for any other answer.")

    @model_validator(mode="after")
    def _one_transport(self) -> UpstreamConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (stdio) or 'url' (streamable HTTP)")
        if self.auth == "oauth" and self.url is None:
            raise ValueError("'auth: oauth' needs a 'url': OAuth is for an HTTP upstream")
        if self.auth == "oauth" and any(name.casefold() == "authorization" for name in self.headers):
            raise ValueError("'auth: oauth' sends the grant's token itself: remove the Authorization header")
        return self


class Limits(_Strict):
    max_message_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Largest JSON-RPC message accepted from the client.")
    max_upstream_message_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest message accepted from a stdio upstream; a larger answer is withheld with an error naming this limit."
    )
    max_depth: int = Field(64, ge=8, le=256, description="Deepest nesting of objects and arrays accepted in a message, both ways; deeper ones are refused.")
    eof_grace_seconds: float = Field(
        2.0, ge=0, le=60, description="After the client closes its input, how long pending requests may still be answered before mcp-guard stops."
    )
    max_client_backlog_bytes: int = Field(
        16 * 1024 * 1024,
        ge=64 * 1024,
        description=(
            "Bytes of answers waiting for a client that does not read them; past this, mcp-guard reads no more requests "
            "from the client until half of it has been read."
        ),
    )


class ToolRule(_Strict):
    """An explicit entry for one tool: its operation class, or a fixed decision."""

    operation: Operation | None = Field(None, description="The operation class this tool performs, overriding its classification (not for stripe_api_read/write).")
    decision: Literal["allow", "deny"] | None = Field(None, description="A fixed decision for this tool; deny wins over everything, allow loses to blocked_operations.")

    @model_validator(mode="after")
    def _says_something(self) -> ToolRule:
        if self.operation is None and self.decision is None:
            raise ValueError("give 'operation' or 'decision' (or both)")
        return self


class ArgumentRules(_Strict):
    """Constraints on tool arguments (named tools and `stripe_api_read` parameters)."""

    max_limit: int | None = Field(None, ge=1, description="Largest page a call may ask for (its limit argument); null: no cap.")
    expand_allow: list[str] | None = Field(None, description="The only expand paths allowed (* matches one segment); null: any path not denied.")  # None: any expand path not denied
    expand_deny: list[str] = Field(default_factory=list, description="Expand paths refused wherever they occur in a path (* matches one segment).")
    connected_accounts: list[str] | None = Field(None, description="Connected account ids a call may act as (stripe_account); null: the platform account only.")  # None: the platform account only
    search_fields: list[str] | None = Field(
        None,
        description=(
            "Fields an account-data search query (Stripe's search language, e.g. GetCustomersSearch) may filter on, "
            "plus metadata[key] for keys on redaction.metadata_keep; null: any field."
        ),
    )


class PinningMode(str, Enum):
    """`pinning:` what the guard does about a tool that is not in mcp-guard.lock or changed since."""

    OFF = "off"  # nothing: the upstream's catalog is taken as it comes
    WARN = "warn"  # log and record the drift; list and allow per policy
    ENFORCE = "enforce"  # log and record the drift; hide the tool and deny calls to it


# Each budget's window in seconds (the unit is in the budget's name).
BUDGET_WINDOWS: dict[str, int] = {"calls_per_minute": 60, "objects_per_hour": 3600, "bytes_per_hour": 3600}


class BudgetSettings(_Strict):
    """`budgets:` limits per window, counted across every mcp-guard process of the profile (mcp_guard.checks.budgets)."""

    calls_per_minute: int | None = Field(None, ge=1, description="tools/call requests forwarded per minute; null: no limit.")
    objects_per_hour: int | None = Field(
        None, ge=1, description="Stripe objects returned per hour (a list counts its data items, a retrieved object 1); null: no limit."
    )
    bytes_per_hour: int | None = Field(None, ge=1, description="Bytes of tools/call results returned per hour, after redaction; null: no limit.")

    def limits(self) -> dict[str, int]:
        """The budgets that are set, by name, in BUDGET_WINDOWS order."""
        return {name: limit for name in BUDGET_WINDOWS if (limit := getattr(self, name)) is not None}


class Profile(_Strict):
    mode: Mode = Field(description="test or live: which keys and which objects (livemode) the profile accepts.")
    api_key: SecretStr | None = Field(None, description="The Stripe key the upstream gets, usually ${STRIPE_TEST_KEY} or ${STRIPE_LIVE_KEY}; never written here.")
    allow_unrestricted_live_key: bool = Field(False, description="Accept an unrestricted sk_live_ key in a live profile (default: only restricted rk_live_ keys).")
    allowed_operations: list[Operation] = Field(
        default_factory=lambda: [Operation.READ, Operation.LIST, Operation.SEARCH],
        description="Operation classes this profile lets through; anything else is denied.",
    )
    blocked_operations: list[Operation] = Field(
        default_factory=lambda: [Operation.CREATE, Operation.UPDATE, Operation.DELETE],
        description="Operation classes always denied, even when allowed or allowed by a tools: entry (blocked wins).",
    )
    allowed_methods: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ALLOWED_METHODS), description="MCP methods a client may send; any other is answered -32601."
    )
    tools: dict[str, ToolRule] = Field(
        default_factory=dict, description="Per-tool entries by name (matched whatever their case or separators): an operation or a decision."
    )
    arguments: ArgumentRules = Field(default_factory=ArgumentRules, description="Constraints on tool arguments: page size, expand paths, connected accounts.")
    redaction: RedactionSettings | Literal["off"] = Field(
        default_factory=RedactionSettings, description="What is redacted from everything the upstream sends; off only for diagnostics."
    )
    audit: AuditSettings = Field(description="Where and how long the audit trail of every request is kept.")
    upstream: UpstreamConfig | None = Field(None, description="This profile's own upstream, instead of the top-level one.")  # overrides the top-level upstream for this profile
    pinning: PinningMode = Field(
        PinningMode.OFF,
        description="Catalog pinning against mcp-guard.lock beside this file: off, warn (log and record drift) or enforce (also hide and deny).",
    )
    budgets: BudgetSettings = Field(
        default_factory=BudgetSettings, description="Calls, objects and bytes per window, counted across every mcp-guard of this profile."
    )

    # The key under `profiles:`; set by GuardConfig so decisions can name their rule's path.
    _name: str | None = PrivateAttr(None)

    @property
    def name(self) -> str:
        return self._name or "profile"

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: Any) -> Any:
        # `${STRIPE_TEST_KEY:-}` with the variable unset: no key, which `check` reports.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _coherent_tools(self) -> Profile:
        seen: dict[str, str] = {}
        for name, rule in self.tools.items():
            key = name_key(name) if name.isascii() else ""
            if not key:
                raise ValueError(f"tools.{name}: tool names are plain ASCII names")
            if key in seen:
                raise ValueError(f"tools.{name}: same tool as tools.{seen[key]} (names match whatever their case or separators)")
            seen[key] = name
            # The dispatchers are classified by stripe_api_operation_id, never by a policy
            # `operation:` (that would let a config label every write a read).
            if key in DISPATCHERS and (rule.operation is not None or rule.decision == "allow"):
                raise ValueError(
                    f"tools.{name}: {key} is classified by its stripe_api_operation_id; only 'decision: deny' is accepted here"
                )
            if rule.decision == "allow" and rule.operation in self.blocked_operations:
                raise ValueError(
                    f"tools.{name}: 'decision: allow' for a {rule.operation.value} tool, but {rule.operation.value} is in blocked_operations"
                )
        return self


class GuardConfig(_Strict):
    upstream: UpstreamConfig | None = Field(None, description="How mcp-guard reaches Stripe's MCP server: a stdio command or a streamable-HTTP url.")
    limits: Limits = Field(default_factory=Limits, description="Protocol limits for every profile.")
    profiles: dict[str, Profile] = Field(description="Named policies; pick one with mcp-guard run --profile NAME.")

    @model_validator(mode="after")
    def _name_profiles(self) -> GuardConfig:
        if not self.profiles:
            raise ValueError("'profiles' is empty: define at least one profile")
        for name, profile in self.profiles.items():
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
                raise ValueError(f"profiles.{name}: profile names use letters, digits, '_' and '-'")
            profile._name = name
        return self


# --------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config, the file it came from, and that file's sha256."""

    config: GuardConfig
    path: Path
    sha256: str = ""
    variables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # key path -> variables read

    def variables_of(self, keypath: str) -> tuple[str, ...]:
        """The environment variables the value at `keypath` (e.g. `profiles.live.api_key`) came from."""
        return self.variables.get(keypath, ())

    def profile(self, name: str) -> Profile:
        try:
            return self.config.profiles[name]
        except KeyError:
            known = ", ".join(self.config.profiles) or "none"
            raise ConfigError(f"{self.path}: no profile {name!r} (known profiles: {known})") from None

    def upstream_for(self, name: str) -> UpstreamConfig:
        upstream = self.profile(name).upstream or self.config.upstream
        if upstream is None:
            raise ConfigError(f"{self.path}: profile {name!r} has no upstream: set 'upstream' or 'profiles.{name}.upstream'")
        return upstream


def load_config(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> LoadedConfig:
    """Read, interpolate and validate a config file; `path=None` searches the usual places."""
    return validate_config_file(read_config_file(path, environ))


def validate_config_file(file: ConfigFile) -> LoadedConfig:
    """Validate a config file that `config_file.read_config_file` read."""
    try:
        config = GuardConfig.model_validate(file.data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, file.path, file.data)) from None
    return LoadedConfig(config=config, path=file.path, sha256=file.sha256, variables=file.variables)


# Union members pydantic inserts into error locations; the user never wrote them.
_UNION_TAGS = re.compile(r"^(RedactionSettings|UpstreamConfig|literal\[.*\]|function-.*)$")


def format_validation_error(exc: ValidationError, path: Path, data: Any = None) -> str:
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        loc = [part for part in error["loc"] if not (isinstance(part, str) and _UNION_TAGS.match(part))]
        tagged = any(isinstance(part, str) and part.startswith("literal[") for part in error["loc"])
        if tagged and len(exc.errors()) > 1:
            continue  # the "or 'off'" half of a union: the other half says what is wrong
        message = _message(error)
        if error["type"] == "extra_forbidden":
            message += _did_you_mean(loc)
        line = f"{path}: {_loc(loc) or '<top>'}: {message}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _did_you_mean(loc: list[Any]) -> str:
    """`; did you mean 'retention_days'?` for a misspelled key, from the model at that place."""
    *parents, key = loc
    known = _known_keys(parents)
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6) if known else []
    return f"; did you mean {close[0]!r}?" if close else (f" (known keys: {', '.join(known)})" if known else "")


def _known_keys(parents: list[Any]) -> list[str]:
    """The keys the config accepts under `parents` (a location in GuardConfig), or [] if unknown."""
    model: Any = GuardConfig
    free_key = False  # the next part is a key of a mapping (a profile or tool name), not a field
    for part in parents:
        if free_key or isinstance(part, int):
            free_key = False
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return []
        annotation = fields[part].annotation
        model = _model_of(annotation)
        free_key = _is_mapping(annotation)
    fields = getattr(model, "model_fields", None)
    return sorted(fields) if fields and not free_key else []


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation (`Profile`, `dict[str, Profile]`, `X | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _is_mapping(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    if origin is dict:
        return True
    return any(_is_mapping(arg) for arg in getattr(annotation, "__args__", ()) if arg is not type(None))


def _loc(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "")
        shown = error["input"] if isinstance(error["input"], str) else type(error["input"]).__name__
        return f"{shown!r} is not one of {expected}"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])
