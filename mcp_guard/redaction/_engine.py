"""The redactor: a profile's compiled field table, detectors and markers, plus the session's learned values.

`build_redactor` runs once per `mcp-guard run` process, which serves one client session. Each
`redact*` call is a pure walk (no I/O); the state carried between calls is the bounded, in-memory
set of learned values and caches of compiled nodes. A Redactor is used from one thread (the
relay's event loop). Anything it cannot process raises RedactionError.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from mcp_guard.errors import RedactionError
from mcp_guard.redaction._arguments import redact_arguments
from mcp_guard.redaction._compile import LEARNED_CLASSES, Compiled, Node
from mcp_guard.redaction._detect import Detector
from mcp_guard.redaction._learned import LearnedValues, Nowhere
from mcp_guard.redaction._markers import Markers
from mcp_guard.redaction._table import load_table
from mcp_guard.redaction._walk import ROOT, Embedded, Walk
from mcp_guard.redaction.settings import Action, RedactionSettings, UnknownFields

if TYPE_CHECKING:
    from mcp_guard.config import Mode



class Redacted:
    """A redacted JSON value, the redactions by class, and the JSON pointers that changed.

    A pointer into a string that held JSON reads `<pointer to the string>#<pointer inside it>`.
    Pointers are built on first use: a large result has tens of thousands of changed places, and
    most callers only need the value and the counts.
    """

    __slots__ = ("_changes", "_pointers", "counts", "value")

    def __init__(self, value: Any, counts: dict[str, int], pointers: tuple[str, ...] = (), *, changes: list[tuple[Any, ...]] | None = None) -> None:
        self.value = value
        self.counts = counts
        self._pointers: tuple[str, ...] | None = None if changes is not None else tuple(pointers)
        self._changes = changes

    @property
    def pointers(self) -> tuple[str, ...]:
        if self._pointers is None:
            self._pointers = _pointers(self._changes or [])
            self._changes = None
        return self._pointers

    @property
    def changed(self) -> bool:
        return bool(self._changes) if self._pointers is None else bool(self._pointers)

    def __repr__(self) -> str:
        return f"Redacted(counts={self.counts!r}, pointers={len(self.pointers)})"


class Redactor:
    """One profile's redaction for one session: the compiled table, detectors, markers, learned values."""

    def __init__(self, compiled: Compiled, detector: Detector, markers: Markers, settings: RedactionSettings, mode: str) -> None:
        self.compiled = compiled
        self.detector = detector
        self.markers = markers
        self.settings = settings
        self.mode = mode
        self.unknown_mask = settings.unknown_action(mode) is UnknownFields.MASK
        self.actions = {cls: settings.action_for(cls) for cls in (*settings.actions, "secret")}
        self.learning = settings.learn_values
        self.learned = LearnedValues()
        # Per class, where a redacted value goes to be learned: the learned set's inbox, or nowhere.
        self.inboxes: dict[str, Any] = {cls: self.learned.inbox(cls) if self.learning else Nowhere() for cls in LEARNED_CLASSES}
        self.clean_keys: set[str] = set()  # dict keys the detectors passed (no learned values apply to keys)

    def __repr__(self) -> str:
        return f"Redactor(mode={self.mode}, pseudonym_key=<hidden>, learned=<hidden>)"

    def redact(self, value: Any, *, operation_id: str | None = None, tool: str | None = None) -> Redacted:
        """Redact any JSON value (a JSON-RPC result, params or error); raises RedactionError.

        `operation_id` (`GetCharges`, from `stripe_api_read`) or `tool` (`list_customers`) types a
        result whose objects lack `object`.
        """
        hint = self.compiled.table.operations.get(operation_id) if operation_id else None
        if hint is None:
            hint = self.compiled.table.type_for_tool(tool)
        return self._run(lambda walk: walk.top(value), hint)

    def redact_text(self, text: str) -> Redacted:
        """Detectors and learned values on free text: the upstream's stderr lines, error messages."""
        if not isinstance(text, str):
            raise RedactionError(f"redact_text needs a str, not {type(text).__name__}")
        return self._run(lambda walk: walk.settle_root_string(walk.text(text, None, ROOT, 0)), None)

    def redact_free_form(self, value: Any) -> Redacted:
        """JSON no schema describes (a log notification's `data`, a sampling request's `metadata`):
        every field the unknown-field rule, so strings are masked in live and scanned in test."""
        return self._run(lambda walk: walk.free_form(value), None)

    def redact_arguments(self, arguments: Any) -> Redacted:
        """A tool call's arguments as the audit trail keeps them: PII masked, Stripe search queries included."""
        return self._run(lambda walk: redact_arguments(walk, arguments), None)

    def _run(self, step: Any, hint: str | None) -> Redacted:
        # The walk and the JSON it parses form no reference cycles: the cyclic collector would only
        # traverse the parsed document again and again (a tenth of the time on a 1 MB result).
        collecting = gc.isenabled()
        gc.disable()
        try:
            walk = Walk(self, hint)
            new = step(walk)
            self.learned.flush()
            return Redacted(new, walk.counts, changes=walk.changes)
        except RedactionError:
            raise
        except RecursionError as exc:
            raise RedactionError("message nests too deeply to redact") from exc
        except Exception as exc:  # fail closed: a bug here must not let a raw message through
            raise RedactionError(f"redactor failed ({type(exc).__name__})") from exc
        finally:
            if collecting:
                gc.enable()


def _pointers(changes: list[tuple[Any, ...]]) -> tuple[str, ...]:
    """JSON pointers of the changed places; a path's prefix is built once for all its children.

    A change is `(path, key)`, or `(path, node, bits)` for the fields a generated walk function
    changed in one dict (bit i: the node's i-th visited key).
    """
    memo: dict[int, str] = {}  # id of a path cell (alive in `changes`) -> its pointer

    def of_path(path: Any) -> str:
        if path is None:
            return ""
        built = memo.get(id(path))
        if built is None:
            segment, parent = path
            embedded = type(segment) is Embedded
            built = of_place(segment.path, segment.key) + "#" if embedded else of_path(parent) + "/" + _escape(segment)
            memo[id(path)] = built
        return built

    def of_place(path: Any, key: Any) -> str:
        return of_path(path) if key is ROOT else of_path(path) + "/" + _escape(key)

    pointers: list[str] = []
    for change in changes:
        if len(change) == 2:
            pointers.append(of_place(*change))
            continue
        path, node, bits = change
        keys = [key for i, (key, _) in enumerate(node.visit) if bits >> i & 1] if isinstance(node, Node) else []
        pointers += [of_place(path, key) for key in keys]
    return tuple(pointers)


def _escape(segment: Any) -> str:
    text = str(segment)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def build_redactor(settings: RedactionSettings, mode: Mode | str, pseudonym_key: bytes) -> Redactor:
    """A profile's redactor (once per process). The field table itself is read on first use, not here."""
    if not isinstance(settings, RedactionSettings):  # `redaction: off` is the relay's to skip
        raise RedactionError(f"redaction settings expected, got {settings!r}")
    mode_name = str(getattr(mode, "value", mode))
    if mode_name not in ("test", "live"):
        raise RedactionError(f"unknown mode {mode_name!r} for redaction")
    try:
        markers = Markers(pseudonym_key)
    except ValueError as exc:
        raise RedactionError(str(exc)) from exc
    return Redactor(Compiled(load_table, settings), Detector(settings.detectors), markers, settings, mode_name)



__all__ = ["Action", "Redacted", "Redactor", "build_redactor"]
