"""Values learned in this session: what field rules redacted, masked again wherever it reappears.

When a field rule hides a customer's name, email or street line, the same value can still sit in
free text the profile keeps (a `booking_id` note), an upstream error message or a later result.
Each such value joins this set and is masked there too.

The set lives in memory for one process (one client session) only: it is never written, logged or
shown in a repr. It is bounded (the oldest values go first) and ignores short values, which would
mask common words. Learning is cheap (the walk appends to a per-class list; `flush` files each new
value under its lower-cased words); matching looks up every run of up to MAX_WORDS words of a text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MAX_VALUES = 4096
MIN_LENGTH = 5  # shorter values (`CA`, `4242`, `Jane`) are too common to mask in free text
MAX_WORDS = 8  # longer values (a whole street address) are matched only if written the same way
_WORD = re.compile(r"\w+")
_NAME_WORD = re.compile(r"[^\W\d_]{4,}")  # parts of a name worth learning on their own: Rosen, Hiroshi
_EDGES = "".join(chr(c) for c in range(128) if not chr(c).isalnum() and chr(c) != "_")  # `+1 415...` matches `1 415...`

# Called with (class, matched text); returns the replacement.
Replace = Callable[[str, str], str]


class Nowhere:
    """An inbox that forgets: where values go when a profile does not learn them."""

    def append(self, value: Any) -> None:
        return None

    def extend(self, values: Any) -> None:
        return None


class LearnedValues:
    """A bounded set of values (case-insensitive, punctuation at the ends ignored) with the class each was learned as."""

    __slots__ = ("_incoming", "_seen", "_values", "limit", "version")

    def __init__(self, limit: int = MAX_VALUES) -> None:
        self.limit = limit
        self.version = 0  # grows whenever a value is added: callers rescan text scanned earlier
        self._values: dict[str, str] = {}  # normalized value -> class, oldest first
        self._seen: dict[str, str] = {}  # raw value -> its normalized form: most of a session's values repeat
        # Learned but not filed yet, per class: the walk's hot path only appends (see `inbox`).
        self._incoming: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return f"LearnedValues({len(self._values)} values, hidden)"

    def __len__(self) -> int:
        self.flush()
        return len(self._values)

    def inbox(self, cls: str) -> list[str]:
        """The list collecting values of one class until the next flush: the walk appends to it directly."""
        return self._incoming.setdefault(cls, [])

    def learn(self, value: str, cls: str) -> None:
        """Remember a redacted value (filed on the next flush)."""
        self._incoming.setdefault(cls, []).append(value)

    def flush(self) -> None:
        """File what was learned since the last flush (and, for names, each longer word of them)."""
        values = self._values
        seen = self._seen
        added = 0
        for cls, pending in self._incoming.items():
            if not pending:
                continue
            # Only the newest `limit` values can stay: a 1 MB page learns more than the set holds.
            for value in dict.fromkeys(value for value in pending[-self.limit:] if type(value) is str):
                if seen.get(value) in values:
                    continue  # filed already (and not forgotten since)
                if len(seen) >= 4 * self.limit:
                    seen.clear()
                key = seen[value] = value.strip(_EDGES).lower()
                if len(key) >= MIN_LENGTH and values.get(key) != cls:
                    values.pop(key, None)  # re-learned: now the newest
                    values[key] = cls
                    added += 1
                if cls == "name":
                    for word in _NAME_WORD.findall(value):
                        lower = word.lower()
                        if word[:1].isupper() and lower not in values:
                            values[lower] = cls
                            added += 1
            pending.clear()  # the same list: inboxes stay bound to it
        if added:
            self.version += 1
            for key in list(values)[: max(0, len(values) - self.limit)]:
                del values[key]

    def mask(self, text: str, replace: Replace, hits: list[str]) -> str:
        """`text` itself if it holds no learned value, else a copy with each one replaced.

        Values learned since the last flush are not seen here: the walk rescans (Walk.settle).
        """
        values = self._values
        if len(text) < MIN_LENGTH or not values:
            return text
        if text.isalnum():  # one word (an enum, a code): one look-up
            cls = values.get(text.lower())
            if cls is None:
                return text
            hits.append(cls)
            return replace(cls, text)
        spans = [match.span() for match in _WORD.finditer(text)]
        pieces: list[str] = []
        done = 0  # text before this is copied or replaced
        i = 0
        while i < len(spans):
            start = spans[i][0]
            found = 0
            for n in range(min(MAX_WORDS, len(spans) - i), 0, -1):  # the longest value first
                end = spans[i + n - 1][1]
                cls = values.get(text[start:end].lower()) if end - start >= MIN_LENGTH else None
                if cls is not None:
                    pieces += [text[done:start], replace(cls, text[start:end])]
                    hits.append(cls)
                    done, found = end, n
                    break
            i += found or 1
        if not pieces:
            return text
        pieces.append(text[done:])
        return "".join(pieces)
