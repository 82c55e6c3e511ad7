"""Sort a tool call into an operation class: read, list, search, create, update, delete, other.

Evidence, strongest first:
1. for `stripe_api_read` / `stripe_api_write`: the `stripe_api_operation_id` argument (the HTTP
   method prefix and the path shape, see `classify_operation_id`);
2. a built-in table of Stripe's hosted tools whose names do not say what they do;
3. the verbs in the tool name.

Anything else is `other`, which no shipped profile allows. This module judges names and operation
ids only: a profile's `tools:` entries are policy, applied by `mcp_guard.policy`. Upstream annotations (`readOnlyHint`)
are never consulted: they come from an untrusted peer.

Names are compared spelling-insensitively (case, `_ - . space`, camelCase all fold to the same
tokens), so `Create-Refund` cannot slip past a rule written for `create_refund`. A name with any
non-ASCII character is `other`: the upstream matches names byte for byte, so a look-alike
(`сreate` with a Cyrillic `с`, fullwidth letters, zero-width joiners) is at best a different tool
and at worst an attempt to dodge the verb table. This is stricter than NFKC folding on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mcp_guard._stripe_operations import OPERATION_CLASSES
from mcp_guard.operations import Operation

READ_VERBS = frozenset({
    "get", "retrieve", "fetch", "read", "show", "describe", "details", "info", "summary", "view",
    "lookup", "inspect", "check",
})
LIST_VERBS = frozenset({"list", "enumerate"})
SEARCH_VERBS = frozenset({"search", "query", "find"})

# Write verbs. A name holding one of these anywhere is that write, never a read:
# `get_and_delete_customer` is a delete.
CREATE_VERBS = frozenset({
    "create", "add", "post", "put", "insert", "make", "send", "generate", "register", "upload",
    "import", "duplicate", "clone", "copy", "invite", "grant", "subscribe", "refund", "emit",
})
UPDATE_VERBS = frozenset({
    "update", "edit", "modify", "set", "patch", "change", "finalize", "pay", "void", "mark",
    "attach", "detach", "capture", "confirm", "submit", "approve", "close", "reopen", "resume",
    "pause", "apply", "accept", "decline", "verify", "unlink", "enable", "disable", "activate",
    "deactivate", "toggle", "rename", "replace", "upsert", "save", "write", "migrate", "reset",
    "rotate", "retry", "restore", "sync", "adjust", "increment", "decrement",
    "extend", "renew", "upgrade", "downgrade", "expire", "settle", "reverse", "respond", "escalate",
    "assign", "move", "merge", "split", "release", "hold", "lock", "unlock", "freeze", "unfreeze",
    "archive", "unarchive", "publish", "unpublish", "authorize", "advance", "reconcile",
})
DELETE_VERBS = frozenset({
    "delete", "remove", "cancel", "destroy", "drop", "purge", "wipe", "erase", "clear", "revoke",
    "terminate", "del", "rm", "discard", "unsubscribe", "deauthorize", "reject",
})
# Stripe nouns that are also write verbs: in object position after a read verb they name the
# object (`get_transfer`, `list_payout_items`), anywhere else the action (`transfer_funds`).
# `refund` is not one of them: it moves money, so `get_refund` is refused as a create
# (a refund is still readable through stripe_api_read GetRefundsRefund).
NOUN_VERBS: dict[str, Operation] = {
    "charge": Operation.CREATE,
    "transfer": Operation.CREATE,
    "payout": Operation.CREATE,
    "issue": Operation.CREATE,
    "new": Operation.CREATE,
    "credit": Operation.CREATE,
    "debit": Operation.CREATE,
    "order": Operation.CREATE,
    "schedule": Operation.CREATE,
    "topup": Operation.CREATE,
    "dispute": Operation.UPDATE,
    "report": Operation.CREATE,
    "link": Operation.UPDATE,
}
# Verbs that say "does something arbitrary": no read can be read into them.
OPAQUE_VERBS = frozenset({
    "run", "execute", "exec", "eval", "invoke", "call", "trigger", "perform", "do", "manage",
    "process", "handle", "start", "stop", "launch", "deploy", "act",
})
CONJUNCTIONS = frozenset({"and", "then", "or", "plus", "also", "with", "after", "before"})

_VERB_CLASSES: tuple[tuple[frozenset[str], Operation], ...] = (
    (DELETE_VERBS, Operation.DELETE),
    (UPDATE_VERBS, Operation.UPDATE),
    (CREATE_VERBS, Operation.CREATE),
)
_GLUED_VERBS = tuple((tuple(sorted(v for v in verbs if len(v) >= 4)), op) for verbs, op in _VERB_CLASSES)
_READ_CLASSES: tuple[tuple[frozenset[str], Operation], ...] = (
    (LIST_VERBS, Operation.LIST),
    (SEARCH_VERBS, Operation.SEARCH),
    (READ_VERBS, Operation.READ),
)

# Stripe's hosted tools whose names do not say what they do (Stripe's hosted catalog).
# Keyed by normalized name; a policy `tools:` entry overrides these.
BUILTIN_TOOLS: dict[str, Operation] = {
    "stripe_api_search": Operation.SEARCH,  # searches API metadata, not account data
    "stripe_api_details": Operation.READ,  # describes one operation id
    "search_stripe_documentation": Operation.SEARCH,  # docs, not account data
    "get_stripe_account_info": Operation.READ,
    "get_balance_summary": Operation.READ,
    "list_available_accounts_or_orgs": Operation.READ,
    "stripe_analytics": Operation.OTHER,  # starts query runs
    "stripe_implementation_planner": Operation.OTHER,
    "send_stripe_mcp_feedback": Operation.OTHER,  # sends data to Stripe
    "manage_stripe_accounts": Operation.OTHER,
    "atlas_company_formation": Operation.OTHER,
    "create_refund": Operation.CREATE,  # moves money
}
READ_DISPATCHER = "stripe_api_read"
WRITE_DISPATCHER = "stripe_api_write"
DISPATCHERS = frozenset({READ_DISPATCHER, WRITE_DISPATCHER})

OPERATION_ID = re.compile(r"^(Get|Post|Delete)[A-Z][A-Za-z0-9]*$")
_CAMEL_WORD = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")
_NAME_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NAME_SPLIT = re.compile(r"[^a-z0-9]+")
# Singular resources whose last word looks plural (a heuristic's known exceptions).
SINGULAR_PLURALS = frozenset({"settings", "features", "details", "status", "analytics", "preferences"})


@dataclass(frozen=True)
class Classification:
    operation: Operation
    basis: str  # why, for humans: "policy tools.x", "operation id PostRefunds", "verb 'create'", ...
    operation_id: str | None = None  # the dispatcher's stripe_api_operation_id, when there is one
    dispatcher_mismatch: bool = False  # a Post*/Delete* through stripe_api_read or a Get* through stripe_api_write


def normalize_name(name: str) -> list[str]:
    """Lower-case word tokens of an ASCII name: `listCustomers`, `LIST-customers ` -> [list, customers]."""
    spaced = _NAME_CAMEL.sub("_", name.strip())
    return [token for token in _NAME_SPLIT.split(spaced.casefold()) if token]


@lru_cache(maxsize=4096)  # tool names repeat; the cache is bounded against hostile variety
def name_key(name: str) -> str:
    return "_".join(normalize_name(name))


def classify(tool: str, arguments: Mapping[str, Any] | None) -> Classification:
    """Classify one call by its tool name and, for the dispatchers, its operation id."""
    if not isinstance(tool, str) or not tool.isascii():
        return Classification(Operation.OTHER, "non-ASCII tool name")
    key = name_key(tool)
    if not key:
        return Classification(Operation.OTHER, "empty tool name")
    if key in DISPATCHERS:
        return classify_dispatcher(key, arguments)
    if key in BUILTIN_TOOLS:
        return Classification(BUILTIN_TOOLS[key], f"built-in entry {key}")
    return _classify_key(key)


@lru_cache(maxsize=4096)
def _classify_key(key: str) -> Classification:
    return classify_name(key.split("_"))


def classify_name(tokens: list[str]) -> Classification:
    """By the verbs in the name.

    Any write verb anywhere wins (`get_and_delete_customer` is a delete); then an opaque verb
    (`run`, `execute`, ...) makes it `other`; a read needs its verb first (`list_customers`,
    not `customer_list_wipe`) and nothing after a conjunction but another read verb, so an unknown
    verb can never ride along (`get_customer_and_zap` is `other`).
    """
    for token in tokens:
        for verbs, operation in _VERB_CLASSES:
            if token in verbs:
                return Classification(operation, f"verb {token!r}")
    starts_with_read = _read_class(tokens[0]) is not None
    for index, token in enumerate(tokens):
        after_conjunction = index > 0 and tokens[index - 1] in CONJUNCTIONS
        if token in NOUN_VERBS and (index == 0 or after_conjunction or not starts_with_read):
            return Classification(NOUN_VERBS[token], f"verb {token!r}")
    for index, token in enumerate(tokens):
        if token in OPAQUE_VERBS:
            return Classification(Operation.OTHER, f"opaque verb {token!r}")
        if index > 0 and tokens[index - 1] in CONJUNCTIONS and _read_class(token) is None:
            return Classification(Operation.OTHER, f"unknown verb {token!r} after {tokens[index - 1]!r}")
    read = _read_class(tokens[0])
    if read is None:
        return Classification(Operation.OTHER, "unclassified")
    # A write verb glued into other words (`detailsACCEPTcustomer`, `list_deleted`) still counts,
    # across the split points too; short verbs (pay, set, add) are skipped: they start common nouns.
    rest = "".join(tokens[1:])
    for glued_verbs, write in _GLUED_VERBS:
        glued = next((verb for verb in glued_verbs if verb in rest), None)
        if glued is not None:
            return Classification(write, f"verb {glued!r} inside the name")
    return Classification(read, f"verb {tokens[0]!r}")


def _read_class(token: str) -> Operation | None:
    for verbs, operation in _READ_CLASSES:
        if token in verbs:
            return operation
    return None


def classify_dispatcher(dispatcher: str, arguments: Mapping[str, Any] | None) -> Classification:
    op_id = arguments.get("stripe_api_operation_id") if isinstance(arguments, Mapping) else None
    if not isinstance(op_id, str):
        return Classification(Operation.OTHER, f"{dispatcher} without a stripe_api_operation_id")
    operation = classify_operation_id(op_id)
    if operation is None:
        return Classification(Operation.OTHER, f"unrecognised operation id {op_id[:80]!r}", operation_id=op_id)
    is_get = op_id.startswith("Get")
    mismatch = is_get != (dispatcher == READ_DISPATCHER)
    return Classification(operation, f"operation id {op_id}", operation_id=op_id, dispatcher_mismatch=mismatch)


@lru_cache(maxsize=4096)
def classify_operation_id(op_id: str) -> Operation | None:
    """Stripe OpenAPI operation id -> class, or None when it is not shaped like one.

    An id the pinned Stripe SDK's services know takes their class (`_stripe_operations.py`,
    generated). Otherwise the rules below decide, so ids of newer API versions are classified too.
    Ids are the HTTP method plus the CamelCased path, path parameters included:
    `GET /v1/customers/{customer}` is `GetCustomersCustomer`. So:
    - `Delete*` -> delete.
    - `Get*Search` -> search. Otherwise a `Get*` whose last word is plural (`GetCustomers`,
      `GetInvoicesInvoiceLines`) lists a collection; a singular last word is a path parameter
      (`GetCustomersCustomer`, `GetEventsId`) or a singleton (`GetBalance`, `GetAccount`,
      `GetInvoicesUpcoming`) -> read. Known singular words ending in "s" (`GetTaxSettings`)
      are in SINGULAR_PLURALS. The list/read boundary is a heuristic; both are reads.
    - `Post*`: a write verb among the words decides (`...Cancel` delete, `...Refund(s)`
      create, `...Finalize` update); else a plural last word creates in a collection
      (`PostCustomers`, `PostCustomersCustomerSources`); else it updates or acts on one object
      (`PostCustomersCustomer`, `PostSubscriptionItemsItem`).
    """
    if not OPERATION_ID.fullmatch(op_id):
        return None
    known = OPERATION_CLASSES.get(op_id)
    if known is not None:
        return Operation(known)
    method, words = _split_operation_id(op_id)
    last = words[-1]
    if method == "Delete":
        return Operation.DELETE
    if method == "Get":
        if last == "search":
            return Operation.SEARCH
        return Operation.LIST if _is_plural(last) else Operation.READ
    for word in reversed(words):
        singular = word.removesuffix("s")
        for candidate in (word, singular):
            if candidate in DELETE_VERBS:
                return Operation.DELETE
            if candidate in CREATE_VERBS or candidate == "refund":
                return Operation.CREATE
            if candidate in UPDATE_VERBS:
                return Operation.UPDATE
    return Operation.CREATE if _is_plural(last) else Operation.UPDATE


def _split_operation_id(op_id: str) -> tuple[str, list[str]]:
    for method in ("Delete", "Post", "Get"):
        if op_id.startswith(method):
            rest = op_id[len(method):]
            return method, [w.lower() for w in _CAMEL_WORD.findall(rest)]
    raise ValueError(op_id)  # unreachable: OPERATION_ID matched


def _is_plural(word: str) -> bool:
    if word in SINGULAR_PLURALS:
        return False
    return word.endswith("s") and not word.endswith(("ss", "us", "is"))
