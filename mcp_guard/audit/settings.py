"""The `audit:` section of a profile."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class AuditFailureMode(StrEnum):
    DENY = "deny"  # refuse the request when its record cannot be written (default: fail closed)
    ALLOW = "allow"  # serve it anyway and complain on stderr


class AuditSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Path = Field(description="Directory of this profile's audit files; created 0700.")
    retention_days: int = Field(90, ge=1, description="Records older than this many days are pruned.")
    max_bytes: int | None = Field(None, ge=1, description="Optional cap on the directory's total size.")
    on_failure: AuditFailureMode = AuditFailureMode.DENY
    fsync: bool = Field(False, description="fsync every record: survives power loss, costs a disk flush per request.")
