"""Per-node walk functions, generated from the compiled table the first time a node is walked.

A loop over a node's entries spends most of its time dispatching on entry tags and keeping books;
for a 1 MB page of objects that is most of the redaction. So each node becomes two straight-line
functions (for dicts the walk owns, changed in place, and for the caller's, copied on write) that
look up only the node's visited keys and do each key's job inline. A value under a `mask` or
`remove` field is replaced right there, and the books are kept in a local bit mask: one bit per
changed field, turned into counts at the end of the dict and into JSON pointers only if someone
asks (_engine.py). Everything else goes to the generic `Walk` methods (`slot`, `apply`).

The source is built from the table's own field names (quoted with `repr`) and compiled once per
node per process, on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp_guard.errors import RedactionError
from mcp_guard.redaction._compile import CHECK, LEAF, LIKE, NODE, REF, Leaf, Node
from mcp_guard.redaction.settings import Action

if TYPE_CHECKING:
    from mcp_guard.redaction._walk import Walk

NodeWalk = Callable[["Walk", dict[Any, Any], Any, int], Any]


def node_walks(node: Node, helpers: dict[str, Any]) -> tuple[NodeWalk, NodeWalk]:
    """The two functions walking dicts of this node, fn(walk, d, path, depth) -> d or a changed copy.

    The first walks dicts the walk owns (parsed out of JSON text): it changes them in place. The
    second walks the caller's dicts: it copies one before its first change. A changed field that a
    function handles inline is recorded as one `(path, node, bits)` entry in `walk.changes` per
    dict (bit i: `node.visit[i]`), and counted from the bits; the generic methods record `(path, key)`.
    """
    namespace: dict[str, Any] = {**helpers, "KNOWN": node.known, "NODE": node, "RedactionError": RedactionError}
    namespace.update({f"E{i}": entry for i, (_, entry) in enumerate(node.visit)})
    source = "\n".join([*_function("walk_owned", node, True, namespace), *_function("walk_shared", node, False, namespace)])
    exec(compile(source, f"<mcp-guard walk of {node!r}>", "exec"), namespace)  # our source, field names quoted by repr()
    return namespace["walk_owned"], namespace["walk_shared"]


def _function(name: str, node: Node, owned: bool, namespace: dict[str, Any]) -> list[str]:
    sparse = _sparse(node)
    inline = [] if sparse else [(i, entry[1]) for i, (_, entry) in enumerate(node.visit) if entry[0] == LEAF and _inline(entry[1])]
    learned = sorted({leaf.cls for _, leaf in inline if leaf.learn})
    masks: dict[str, int] = {}
    for i, leaf in inline:
        masks[leaf.cls] = masks.get(leaf.cls, 0) | 1 << i
    lines = [
        f"def {name}(w, d, path, depth):",
        "    if depth > MAX_DEPTH:",
        "        raise RedactionError(f'message nests deeper than {MAX_DEPTH} levels')",
        "    out = d" if owned else "    out = None",
        "    if not KNOWN.issuperset(d):",
        f"        {'' if owned else 'out = '}w.unknown_keys(d, NODE, path, depth, {owned})",
        "    depth += 1",
        "    get = d.get",
        "    bits = 0",
        *[f"    learn_{cls} = w.inboxes[{cls!r}].append" for cls in learned],
    ]
    if sparse:
        # A union of sub-objects (payment_method_details: one of sixty), so look at the keys present.
        namespace["VISIT"] = node.visit_map
        namespace["IN_VISIT"] = frozenset(node.visit_map).__contains__
        lines += [
            "    for key in list(filter(IN_VISIT, d)):",  # a removal must not change what is being iterated
            "        v = d[key]",
            "        if v:",
            f"            nv = w.slot(v, VISIT[key], path, key, depth, {owned})",
            *[f"            {line}" for line in _store("key", owned)],
        ]
    for i, (key, entry) in enumerate(() if sparse else node.visit):
        lines.append(f"    v = get({key!r})")
        lines += [f"    {line}" for line in _field(i, repr(key), entry, owned)]
    lines += [
        "    if bits:",
        "        w.changes.append((path, NODE, bits))",
        "        counts = w.counts",
        *[line for cls, mask in masks.items() for line in (
            f"        if bits & {mask}:",
            f"            counts[{cls!r}] = counts.get({cls!r}, 0) + (bits & {mask}).bit_count()",
        )],
        "    return d" if owned else "    return d if out is None else out",
    ]
    return lines


def _store(k: str, owned: bool) -> list[str]:
    """Lines putting `nv` under key `k` when the generic method changed something."""
    if owned:
        return ["if nv is not v or w.pend:", f"    w.store(d, d, True, {k}, nv, path)"]
    return ["if nv is not v or w.pend:", f"    out = w.store(d, out, False, {k}, nv, path)"]


def _field(i: int, k: str, entry: tuple[Any, ...], owned: bool) -> list[str]:
    """The lines handling one visited key, whose value is in `v`."""
    tag = entry[0]
    store = _store(k, owned)
    if tag == LEAF and _inline(entry[1]):
        leaf: Leaf = entry[1]
        change = f"del out[{k}]" if leaf.action is Action.REMOVE else f"out[{k}] = {leaf.marker!r}"
        # Any value but null, false, 0, "" and this field's own marker (a result redacted twice) is
        # replaced: a number masked like text, an object where text was expected hidden whole.
        return [
            f"if v and v != {leaf.marker!r}:",
            *([] if owned else ["    if out is None:", "        out = d.copy()"]),
            f"    {change}",
            f"    bits |= {1 << i}",
            *([f"    learn_{leaf.cls}(v)"] if leaf.learn else []),
        ]
    if tag == LEAF:
        return ["if v:", f"    nv = w.apply(E{i}[1], v, path, {k}, depth)", *[f"    {line}" for line in store]]
    attribute = "walk_owned" if owned else "walk_shared"
    walk_child = f"(E{i}[1].{attribute} or w.walker(E{i}[1], {owned}))(w, v, ({k}, path), depth)"
    if tag == NODE:
        return [
            "if v:",
            "    if type(v) is dict:",
            f"        nv = {walk_child}",
            "    else:",
            f"        nv = w.slot(v, E{i}, path, {k}, depth, {owned})",
            *[f"    {line}" for line in store],
        ]
    if tag == CHECK:
        return [
            "if v:",
            "    if type(v) is dict:",
            f"        if not v.keys() <= E{i}[1].known:",  # only unknown keys can need work in here
            f"            nv = {walk_child}",
            *[f"            {line}" for line in store],
            "    else:",
            f"        nv = w.slot(v, E{i}, path, {k}, depth, {owned})",
            *[f"        {line}" for line in store],
        ]
    if tag == REF:
        return [
            # Walk.is_reference, inline: the strings kept without a call.
            "if v and not (type(v) is str and ' ' not in v and '@' not in v and '_secret_' not in v"
            " and not v.startswith(SECRET_PREFIXES)):",
            f"    nv = w.slot(v, E{i}, path, {k}, depth, {owned})",
            *[f"    {line}" for line in store],
        ]
    if tag == LIKE:
        return ["if v:", f"    nv = w.like(v, get({entry[1]!r}), ({k}, path), depth, {owned})", *[f"    {line}" for line in store]]
    return ["if v:", f"    nv = w.slot(v, E{i}, path, {k}, depth, {owned})", *[f"    {line}" for line in store]]


def _sparse(node: Node) -> bool:
    """Many sub-object fields of which a dict holds one or two: cheaper to go by the keys present."""
    subs = sum(1 for _, entry in node.visit if entry[0] in (NODE, CHECK))
    return node.nvisit > 16 and subs * 4 >= node.nvisit * 3 and all(entry[0] != LIKE for _, entry in node.visit)


def _inline(leaf: Leaf) -> bool:
    """Masking or removing a string needs no call; other actions and kept text go through Walk.apply."""
    return not leaf.scan and leaf.action in (Action.MASK, Action.REMOVE)
