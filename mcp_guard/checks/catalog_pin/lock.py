"""The catalog lock: the upstream's tools as an operator reviewed them, and drift from that.

The lock file is `mcp-guard.lock` beside the config file (for the packaged default,
`mcp_guard/data/mcp-guard.lock`). It is sorted, indented JSON, one entry per profile, written by
`mcp-guard lock` and meant to be reviewed like code:

    {"_comment": "...", "version": 1, "profiles": {"live": {"tools": {
        "stripe_api_read": {"class": "dispatches read, list, search",
                            "description": "sha256:...", "inputSchema": "sha256:...",
                            "outputSchema": null, "annotations": "sha256:...", "other": null}}}}}

Each tool is keyed by its exact name (the upstream matches names byte for byte) and holds its
operation class, from the same classification the policy uses (`policy.classify_for`), and one
sha256 per part of its definition: `description`, `inputSchema`, `outputSchema`, `annotations`,
and `other` for every remaining field (`title`, `icons`, `_meta`, ...: anything the assistant is
shown can steer it). A part the tool does not have is null. Hashes are over canonical JSON
(sorted keys, no whitespace), so the upstream's formatting does not matter.

Drift is a tool that is `new` (not in the lock), `missing` (in the lock, not offered), or changed
in some parts or in its class (`drift_report`). Pure, except reading and writing the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mcp_guard.classify import DISPATCHERS, READ_DISPATCHER, name_key
from mcp_guard.config import PinningMode, Profile
from mcp_guard.errors import ConfigError, UpstreamError
from mcp_guard.policy import classify_for

logger = logging.getLogger("mcp_guard")

LOCK_NAME = "mcp-guard.lock"
LOCK_VERSION: Literal[1] = 1
PARTS = ("description", "inputSchema", "outputSchema", "annotations", "other")
COMMENT = (
    "Written by `mcp-guard lock`: the upstream's tools per profile, each with its class and a sha256 per part of its "
    "definition. Review changes with `mcp-guard lock --update`; do not edit by hand."
)
DISPATCHER_CLASSES = {READ_DISPATCHER: "dispatches read, list, search"}
WRITE_DISPATCHER_CLASS = "dispatches create, update, delete"

Hash = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class LockedTool(BaseModel):
    """One tool as locked: its class and the hash of each part of its definition (None: absent)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    operation_class: str = Field(alias="class")
    description: Hash | None
    inputSchema: Hash | None  # the wire names, so the file reads like the tool
    outputSchema: Hash | None
    annotations: Hash | None
    other: Hash | None

    def part(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value


class _ProfileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tools: dict[str, LockedTool]


class _LockDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    comment: str = Field(COMMENT, alias="_comment")
    version: Literal[1]
    profiles: dict[str, _ProfileEntry]


@dataclass(frozen=True)
class ProfileLock:
    """One profile's entry of a lock file. `path` None: there is no lock (every tool is new)."""

    profile: str
    path: Path | None
    tools: Mapping[str, LockedTool] = field(default_factory=dict)

    def where(self) -> str:
        return str(self.path) if self.path is not None else f"(no {LOCK_NAME} for profile {self.profile!r})"


@dataclass(frozen=True)
class Drift:
    """How one tool differs from the lock.

    `changes` is ("new",), ("missing",), or the parts that changed, then "class" if it did.
    """

    tool: str
    changes: tuple[str, ...]
    locked_class: str | None
    current_class: str | None

    @property
    def state(self) -> str:
        """new, missing or changed: what `mcp-guard tools` shows in its pin column."""
        return self.changes[0] if self.changes[0] in ("new", "missing") else "changed"

    @property
    def class_changed(self) -> bool:
        return "class" in self.changes

    def describe(self) -> str:
        """What happened, after the tool's name: `is new (not in the lock; class read)`,
        `is missing (...)`, `has changed (description; class read -> create)`."""
        if self.state == "new":
            return f"is new (not in the lock; class {self.current_class})"
        if self.state == "missing":
            return f"is missing (locked as class {self.locked_class}; the upstream no longer offers it)"
        what = [part for part in self.changes if part != "class"]
        what_text = ", ".join(what)
        if self.class_changed:
            what_text += f"{'; ' if what else ''}class {self.locked_class} -> {self.current_class}"
        return f"has changed ({what_text})"


# --------------------------------------------------------------------------------------------
# Fingerprints


def lock_path(config_path: Path) -> Path:
    """Where a config's lock lives: beside it."""
    return Path(config_path).parent / LOCK_NAME


def tool_class(profile: Profile, name: str) -> str:
    """The class the policy gives a tool by its name; the dispatchers carry the class of each call."""
    key = name_key(name) if name.isascii() else ""
    if key in DISPATCHERS:
        return DISPATCHER_CLASSES.get(key, WRITE_DISPATCHER_CLASS)
    return classify_for(profile, name, None).operation.value


def _digest(value: Any) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def lock_entry(profile: Profile, tool: Mapping[str, Any]) -> LockedTool:
    """The lock entry for one tool definition (a tools/list item with a string `name`)."""
    other = {key: value for key, value in tool.items() if key != "name" and key not in PARTS}
    return LockedTool(
        operation_class=tool_class(profile, tool["name"]),
        description=_digest(tool.get("description")),
        inputSchema=_digest(tool.get("inputSchema")),
        outputSchema=_digest(tool.get("outputSchema")),
        annotations=_digest(tool.get("annotations")),
        other=_digest(other or None),
    )


def lock_catalog(profile: Profile, tools: Sequence[Mapping[str, Any]]) -> dict[str, LockedTool]:
    """The lock entries of a whole catalog; UpstreamError if a tool is nameless or named twice."""
    entries: dict[str, LockedTool] = {}
    for tool in tools:
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            raise UpstreamError("the upstream lists a tool without a name; it cannot be locked")
        if name in entries:
            raise UpstreamError(f"the upstream lists two tools named {name!r}; it cannot be locked")
        entries[name] = lock_entry(profile, tool)
    return entries


def changes(locked: LockedTool | None, current: LockedTool | None) -> tuple[str, ...]:
    """What differs between a locked and a current entry; () when nothing does."""
    if locked is None:
        return ("new",)
    if current is None:
        return ("missing",)
    found = [part for part in PARTS if locked.part(part) != current.part(part)]
    if locked.operation_class != current.operation_class:
        found.append("class")
    return tuple(found)


def _class_of(entry: LockedTool | None) -> str | None:
    return entry.operation_class if entry is not None else None


def diff_entries(old: Mapping[str, LockedTool], new: Mapping[str, LockedTool]) -> list[Drift]:
    """Every tool whose entry differs between two locks, by name."""
    drifts = []
    for name in sorted(set(old) | set(new)):
        found = changes(old.get(name), new.get(name))
        if found:
            drifts.append(Drift(name, found, _class_of(old.get(name)), _class_of(new.get(name))))
    return drifts


def drift_report(lock: ProfileLock, tools: Sequence[Mapping[str, Any]], profile: Profile, *, complete: bool = True) -> list[Drift]:
    """How `tools` (a tools/list, raw from the upstream) differ from `lock`, in the upstream's order.

    `profile` gives the current classes. With `complete` False (one page of a paged list) a
    locked tool that is not among `tools` is not reported missing. Tools without a string name
    are skipped (the guard never lists them).
    """
    drifts: list[Drift] = []
    seen: set[str] = set()
    for tool in tools:
        name = tool.get("name")
        if not isinstance(name, str):
            continue
        seen.add(name)
        locked, current = lock.tools.get(name), lock_entry(profile, tool)
        found = changes(locked, current)
        if found:
            drifts.append(Drift(name, found, _class_of(locked), current.operation_class))
    if complete:
        drifts += [Drift(name, ("missing",), entry.operation_class, None) for name, entry in sorted(lock.tools.items()) if name not in seen]
    return drifts


def pin_states(lock: ProfileLock, tools: Sequence[Mapping[str, Any]], profile: Profile) -> dict[str, str]:
    """Each tool's pin state for `mcp-guard tools`: ok, new, changed or missing."""
    states = {tool["name"]: "ok" for tool in tools if isinstance(tool.get("name"), str)}
    states.update({drift.tool: drift.state for drift in drift_report(lock, tools, profile)})
    return states


# --------------------------------------------------------------------------------------------
# The file


@dataclass(frozen=True)
class LockFile:
    """A whole lock file: every profile's tools. `exists` False: the file is not there yet."""

    path: Path
    profiles: Mapping[str, Mapping[str, LockedTool]]
    exists: bool = True

    def profile(self, name: str) -> ProfileLock | None:
        tools = self.profiles.get(name)
        return ProfileLock(name, self.path, tools) if tools is not None else None

    def with_profile(self, name: str, tools: Mapping[str, LockedTool]) -> LockFile:
        return LockFile(self.path, {**self.profiles, name: dict(tools)})

    def render(self) -> str:
        document = _LockDocument(
            version=LOCK_VERSION, profiles={name: _ProfileEntry(tools=dict(tools)) for name, tools in self.profiles.items()}
        )
        return json.dumps(document.model_dump(by_alias=True), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_lock(path: Path) -> LockFile:
    """The lock at `path` (an empty LockFile with `exists` False if there is none); ConfigError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LockFile(path, {}, exists=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the catalog lock: {exc}") from exc
    try:
        document = _LockDocument.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "<top>"
        raise ConfigError(f"{path}: not a valid catalog lock: {where}: {first['msg']} (rewrite it with `mcp-guard lock --update`)") from None
    return LockFile(path, {name: entry.tools for name, entry in document.profiles.items()})


def write_lock(lock: LockFile) -> None:
    """Replace the file atomically (a reader sees the old lock or the new one, never half)."""
    path = lock.path
    text = lock.render()
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{LOCK_NAME}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.chmod(temporary, 0o644)  # reviewed like the config; holds no secret
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the catalog lock: {exc.strerror or exc}") from exc


# --------------------------------------------------------------------------------------------
# What `run` and `check` make of it


def lock_hint(config_path: Path, profile_name: str) -> str:
    return f"run `mcp-guard lock --config {config_path} --profile {profile_name}`"


def pinning_problems(config_path: Path, profile_name: str, profile: Profile) -> list[str]:
    """Why `run` would refuse to start for pinning: a lock that cannot be read, or none under enforce."""
    if profile.pinning is PinningMode.OFF:
        return []
    path = lock_path(config_path)
    try:
        lock = read_lock(path)
    except ConfigError as exc:
        return [str(exc)]
    if profile.pinning is PinningMode.ENFORCE and lock.profile(profile_name) is None:
        what = f"no lock file {path}" if not lock.exists else f"no entry for it in {path}"
        return [f"profiles.{profile_name}.pinning is enforce but there is {what}: {lock_hint(config_path, profile_name)}"]
    return []


def open_catalog_lock(config_path: Path, profile_name: str, profile: Profile) -> ProfileLock | None:
    """The lock `run` pins the profile to (None with pinning off); ConfigError if it cannot be read.

    Under `warn` a missing lock is an empty one (every tool is reported new), said once here;
    under `enforce` preflight has refused to start already, and an empty lock would hide all.
    """
    if profile.pinning is PinningMode.OFF:
        return None
    path = lock_path(config_path)
    found = read_lock(path).profile(profile_name)
    if found is None:
        logger.warning("pinning: %s but %s has no lock for profile %r: %s", profile.pinning.value, path, profile_name, lock_hint(config_path, profile_name))
        return ProfileLock(profile_name, None)
    return found


def describe_pinning(config_path: Path, profile_name: str, profile: Profile) -> str:
    """`check`'s line: the mode, the lock and what it pins, and class drift (knowable without the upstream)."""
    mode = profile.pinning.value
    if profile.pinning is PinningMode.OFF:
        return "off (the upstream's tools are taken as they come)"
    path = lock_path(config_path)
    try:
        lock = read_lock(path).profile(profile_name)
    except ConfigError as exc:
        return f"{mode}: {exc}"
    if lock is None:
        return f"{mode}: NO LOCK for this profile in {path}: {lock_hint(config_path, profile_name)}"
    text = f"{mode}: {len(lock.tools)} tools locked in {path}"
    moved = [f"{name} ({entry.operation_class} -> {now})" for name, entry in sorted(lock.tools.items()) if (now := tool_class(profile, name)) != entry.operation_class]
    if moved:
        action = "hidden and denied" if profile.pinning is PinningMode.ENFORCE else "reported"
        text += f"; CLASS DRIFT ({action} until re-locked): {', '.join(moved)}"
    return text + "; definition drift shows in `mcp-guard tools` and `mcp-guard lock --dry-run`"
