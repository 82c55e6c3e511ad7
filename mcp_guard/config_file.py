"""The config file before validation: where it is, its bytes, its YAML, `${VAR}` and paths.

No pydantic here: `mcp-guard run` reads the file through this module and starts a stdio upstream
(mcp_guard.early_start) while the models are still being imported and built; `config.load_config`
then validates the very `ConfigFile` this module returned, so both see the same bytes.

Where (`find_config`), first match wins: `--config`, `$MCP_GUARD_CONFIG`, the user's config dir
(`$XDG_CONFIG_HOME/mcp-guard/config.yaml`, else `~/.config/mcp-guard/config.yaml`), then the
packaged default. Never the working directory: clients start servers in the workspace, and a
cloned repository must not be able to replace the user's policy.

Reading (`read_config_file`): YAML `safe_load`, then `${VAR}` / `${VAR:-default}` interpolation in
string values (`$${` is a literal `${`), then `~` expansion and config-relative resolution of the
path keys (`audit.dir`, `upstream.cwd`). Every failure is a ConfigError naming the file and the
key path, never a secret value.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mcp_guard.errors import ConfigError

ENV_CONFIG_VAR = "MCP_GUARD_CONFIG"
PACKAGE_DATA = Path(__file__).parent / "data"  # the packaged default config, its cases, lock and schema


@dataclass(frozen=True)
class ConfigFile:
    """A config file read, interpolated and with its paths resolved; not validated yet."""

    path: Path
    sha256: str  # of the file's bytes: the policy version every audit record names
    data: dict[str, Any]
    variables: dict[str, tuple[str, ...]]  # key path -> the environment variables its value was read from


def read_config_file(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> ConfigFile:
    """Read and interpolate a config file; `path=None` searches the usual places."""
    if path is None:
        path = find_config(environ)
    path = Path(path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    raw = load_yaml(text, path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with 'profiles'")
    variables: dict[str, tuple[str, ...]] = {}
    interpolated = interpolate(raw, environ, path, variables=variables)
    resolve_paths(interpolated, path.parent)
    return ConfigFile(path, hashlib.sha256(data).hexdigest(), interpolated, variables)


def default_config_path() -> Path:
    """The packaged default config (an exact copy of policies/default.yaml)."""
    return PACKAGE_DATA / "default.yaml"


def config_search_path(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Where a config is looked for without --config, first match wins (never the working directory)."""
    candidates: list[Path] = []
    if environ.get(ENV_CONFIG_VAR):
        candidates.append(Path(environ[ENV_CONFIG_VAR]).expanduser())
    home = environ.get("HOME")
    config_home = environ.get("XDG_CONFIG_HOME") or (str(Path(home) / ".config") if home else None)
    if config_home:
        candidates.append(Path(config_home) / "mcp-guard" / "config.yaml")
    candidates.append(default_config_path())
    return candidates


def find_config(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get(ENV_CONFIG_VAR):
        # An explicit variable must point at a file: silently falling back would hide a typo.
        path = Path(environ[ENV_CONFIG_VAR]).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file (from ${ENV_CONFIG_VAR})")
        return path
    for path in config_search_path(environ):
        if path.is_file():
            return path
    raise ConfigError("no config file found and the packaged default is missing")  # broken install


def load_yaml(text: str, path: Path) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML syntax error: {exc}") from None


_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?")


def interpolate(
    value: Any, environ: Mapping[str, str], path: Path, keypath: str = "", *, variables: dict[str, tuple[str, ...]] | None = None
) -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in every string value (keys are left alone).

    `variables`, when given, collects the variables each key path's value was read from.
    """
    if isinstance(value, dict):
        return {k: interpolate(v, environ, path, _join(keypath, k), variables=variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environ, path, f"{keypath}[{i}]", variables=variables) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    if variables is not None:
        names = tuple(m.group(1) for m in _VAR.finditer(value) if m.group(1))
        if names:
            variables[keypath] = names

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name is None:
            raise ConfigError(f"{path}: {keypath or '<top>'}: malformed variable reference {text!r} (use ${{NAME}} or ${{NAME:-default}})")
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{path}: {keypath}: environment variable {name} is not set (write ${{{name}:-}} to make it optional)"
        )

    return _VAR.sub(replace, value)


def _join(keypath: str, key: Any) -> str:
    return f"{keypath}.{key}" if keypath else str(key)


def resolve_paths(data: dict[str, Any], base: Path) -> None:
    """`~` expansion, and relative paths resolved against the config file's directory.

    Clients start MCP servers with an arbitrary working directory (often `/`), so a relative
    audit dir must not depend on it.
    """

    def fix(section: Any, key: str) -> None:
        if isinstance(section, dict) and isinstance(section.get(key), str) and section[key]:
            p = Path(section[key]).expanduser()
            section[key] = str(p if p.is_absolute() else (base / p).resolve())

    fix(data.get("upstream"), "cwd")
    profiles = data.get("profiles")
    if isinstance(profiles, dict):
        for profile in profiles.values():
            if isinstance(profile, dict):
                fix(profile.get("audit"), "dir")
                fix(profile.get("upstream"), "cwd")
