"""The audit trail: one hash-chained JSON line per client request, per profile and UTC day.

Public surface (everything else is private to the package):

    open_audit_log(settings, profile, *, clock=utc_now) -> AuditLog     # .write(record), .write_batch(records),
                                                                         # .health(), .prune(), .add_listener(fn), .close()
    GroupCommitter(log).commit(record)                                   # async group commit on the serving loop
    AuditRecord, Outcome, new_decision_id                                # what a record holds (pure)
    verify_audit_dir(dir) -> VerifyReport                                # `audit verify`
    read_records(dir), RecordFilter, select, format_table, parse_since   # `audit show`
    Tail(dir)                                                            # `audit show --follow`

Names are imported on first use, so `mcp-guard run` (which writes) never loads what only the
`audit` subcommands need (verify, show, follow), nor asyncio before it is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_guard.audit.commit import GroupCommitter
    from mcp_guard.audit.follow import Tail
    from mcp_guard.audit.log import AuditLog, AuditRecordError, open_audit_log, utc_now
    from mcp_guard.audit.query import (
        RecordFilter,
        format_follow_header,
        format_follow_rows,
        format_jsonl,
        format_table,
        parse_policy_prefix,
        parse_since,
        read_records,
        select,
    )
    from mcp_guard.audit.record import AuditRecord, Outcome, new_decision_id
    from mcp_guard.audit.retention import PruneResult
    from mcp_guard.audit.settings import AuditFailureMode, AuditSettings
    from mcp_guard.audit.verify import Finding, VerifyReport, verify_audit_dir

_HOME = {  # public name -> the module that defines it
    "GroupCommitter": "commit",
    "Tail": "follow",
    "AuditLog": "log",
    "AuditRecordError": "log",
    "open_audit_log": "log",
    "utc_now": "log",
    "RecordFilter": "query",
    "format_follow_header": "query",
    "format_follow_rows": "query",
    "format_jsonl": "query",
    "format_table": "query",
    "parse_policy_prefix": "query",
    "parse_since": "query",
    "read_records": "query",
    "select": "query",
    "AuditRecord": "record",
    "Outcome": "record",
    "new_decision_id": "record",
    "PruneResult": "retention",
    "AuditFailureMode": "settings",
    "AuditSettings": "settings",
    "Finding": "verify",
    "VerifyReport": "verify",
    "verify_audit_dir": "verify",
}

__all__ = [
    "AuditFailureMode",
    "AuditLog",
    "AuditRecord",
    "AuditRecordError",
    "AuditSettings",
    "Finding",
    "GroupCommitter",
    "Outcome",
    "PruneResult",
    "RecordFilter",
    "Tail",
    "VerifyReport",
    "format_follow_header",
    "format_follow_rows",
    "format_jsonl",
    "format_table",
    "new_decision_id",
    "open_audit_log",
    "parse_policy_prefix",
    "parse_since",
    "read_records",
    "select",
    "utc_now",
    "verify_audit_dir",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
