"""Policy unit tests: YAML case files run against a config through `policy.decide`.

A case file (`*_test.yaml`, kept beside the config it tests):

    config: default.yaml          # relative to this file; default: this file's name without _test
    env: {STRIPE_TEST_KEY: ""}    # optional: the only variables ${VAR} sees (default: none)
    cases:
      - name: live refuses a refund through stripe_api_write    # unique in the file
        profile: live
        tool: stripe_api_write
        arguments: {stripe_api_operation_id: PostRefunds}        # optional
        expect: deny                                              # allow | deny
        rule: profiles.live.blocked_operations                    # optional: the deciding rule
        operation: create                                         # optional: the classification
        listed: false                                             # optional: expected tools/list visibility

The config is loaded with the file's `env` only, so a case's outcome never depends on the
caller's environment. A malformed file is a PolicyTestError naming the file and the case.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcp_guard.config import LoadedConfig, format_validation_error, load_config
from mcp_guard.errors import ConfigError, PolicyTestError
from mcp_guard.operations import Operation
from mcp_guard.policy import decide, is_listed

CASE_FILE_SUFFIX = "_test.yaml"


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    profile: str
    tool: str
    arguments: dict[str, Any] | None = None
    expect: Literal["allow", "deny"]
    rule: str | None = None
    operation: Operation | None = None
    listed: bool | None = None


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    config: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cases: list[Case]


@dataclass(frozen=True)
class CaseResult:
    file: Path
    name: str
    problems: tuple[str, ...] = field(default_factory=tuple)  # empty: passed

    @property
    def passed(self) -> bool:
        return not self.problems


def cases_beside(config: Path) -> list[Path]:
    """The case files kept beside a config: every `*_test.yaml` in its directory (not below it)."""
    return sorted(p for p in config.parent.glob(f"*{CASE_FILE_SUFFIX}") if p.is_file())


def discover(paths: Iterable[Path]) -> list[Path]:
    """Case files: each file given, and every `*_test.yaml` under each directory given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f"*{CASE_FILE_SUFFIX}") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise PolicyTestError(f"{path}: no such file or directory")
    return found


def run_case_file(path: Path) -> Iterator[CaseResult]:
    case_file = read_case_file(path)
    loaded = _load_config_for(path, case_file)
    for case in case_file.cases:
        yield run_case(path, loaded, case)


def run_case(path: Path, loaded: LoadedConfig, case: Case) -> CaseResult:
    try:
        profile = loaded.profile(case.profile)
    except ConfigError as exc:
        return CaseResult(path, case.name, (str(exc),))
    decision = decide(profile, case.tool, case.arguments)
    got = "allow" if decision.allowed else "deny"
    problems: list[str] = []
    if got != case.expect:
        problems.append(f"expected {case.expect}, got {got} by {decision.rule} ({decision.reason})")
    if case.rule is not None and decision.rule != case.rule:
        problems.append(f"expected rule {case.rule}, got {decision.rule}")
    if case.operation is not None and decision.operation is not case.operation:
        problems.append(f"expected operation {case.operation.value}, got {decision.operation.value} ({decision.basis})")
    if case.listed is not None and is_listed(profile, case.tool) != case.listed:
        problems.append(f"expected listed: {str(case.listed).lower()}, got {str(not case.listed).lower()}")
    return CaseResult(path, case.name, tuple(problems))


def read_case_file(path: Path) -> CaseFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyTestError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise PolicyTestError(f"{where}: YAML syntax error: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(raw, dict):
        raise PolicyTestError(f"{path}: a case file is a mapping with 'cases'")
    try:
        case_file = CaseFile.model_validate(raw)
    except ValidationError as exc:
        raise PolicyTestError(_name_cases(format_validation_error(exc, path), raw)) from None
    names = [case.name for case in case_file.cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PolicyTestError(f"{path}: case names must be unique: {', '.join(duplicates)}")
    return case_file


def _name_cases(message: str, raw: dict[str, Any]) -> str:
    """`cases[3].expect: ...` -> `cases[3] ('its name').expect: ...` so the case can be found."""
    cases = raw.get("cases")
    if not isinstance(cases, list):
        return message
    for index in range(len(cases) - 1, -1, -1):
        case = cases[index]
        if isinstance(case, dict) and isinstance(case.get("name"), str):
            message = message.replace(f"cases[{index}]", f"cases[{index}] ({case['name']!r})")
    return message


def _load_config_for(path: Path, case_file: CaseFile) -> LoadedConfig:
    if case_file.config is not None:
        # Beside the case file, wherever the run starts: `mcp-guard test` is run from any directory.
        config_path = path.parent / Path(case_file.config).expanduser()
    else:
        config_path = path.with_name(path.name.removesuffix(CASE_FILE_SUFFIX) + ".yaml")
    try:
        return load_config(config_path, case_file.env)
    except ConfigError as exc:
        raise PolicyTestError(f"{path}: config {config_path}: {exc}") from exc
