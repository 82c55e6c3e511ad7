"""The operation classes every tool call is sorted into."""

from __future__ import annotations

from enum import Enum


class Operation(str, Enum):
    READ = "read"
    LIST = "list"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    OTHER = "other"


WRITE_OPERATIONS = frozenset({Operation.CREATE, Operation.UPDATE, Operation.DELETE})
