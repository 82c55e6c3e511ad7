"""Property tests: the shipped read-only profiles never allow a write, however it is spelled."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_guard.classify import CREATE_VERBS, DELETE_VERBS, LIST_VERBS, NOUN_VERBS, READ_VERBS, SEARCH_VERBS, UPDATE_VERBS
from mcp_guard.config import load_config
from mcp_guard.operations import WRITE_OPERATIONS
from mcp_guard.policy import decide, is_listed
from tests.factories import examples

ROOT = Path(__file__).resolve().parents[2]
PROFILES = [load_config(ROOT / "policies" / "default.yaml", {}).profile(name) for name in ("test", "live")]

WRITE_VERBS = sorted(CREATE_VERBS | UPDATE_VERBS | DELETE_VERBS)
READ_WORDS = sorted(READ_VERBS | LIST_VERBS | SEARCH_VERBS)
NOUNS = ["customer", "customers", "refund", "payment_intent", "invoice", "subscription", "balance", "price", "product", "coupon", "dispute", "payout", "account", "details"]
SEPARATORS = ["_", "-", ".", " ", "__", "/", ":", ""]
LOOKALIKES = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і", "s": "ѕ", "d": "ԁ"}  # Cyrillic
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


def _case(word: str, style: str) -> str:
    return {"lower": word.lower(), "upper": word.upper(), "title": word.title(), "same": word}[style]


@st.composite
def write_tokens(draw: st.DrawFn) -> tuple[list[str], str]:
    """Words of a name whose action is a write (a write verb anywhere, or a noun-verb up front), and that verb."""
    nouns = draw(st.lists(st.sampled_from(NOUNS), max_size=3))
    if draw(st.booleans()):
        verb = draw(st.sampled_from(sorted(NOUN_VERBS)))
        return [verb, *nouns], verb
    verb = draw(st.sampled_from(WRITE_VERBS))
    position = draw(st.integers(0, len(nouns)))
    words = [*nouns[:position], verb, *nouns[position:]]
    if draw(st.booleans()):  # a read verb in front does not make it a read: get_and_delete_customer
        words = [draw(st.sampled_from(READ_WORDS)), *draw(st.sampled_from([[], ["and"], ["then"]])), *words]
    return words, verb


@st.composite
def spell(draw: st.DrawFn, words: list[str], glue: bool = True) -> str:
    """Join words with a separator (none at all if `glue`) or camel/Pascal case, in any letter case."""
    style = draw(st.sampled_from(["joined", "camel", "pascal"]))
    if style == "joined":
        sep = draw(st.sampled_from(SEPARATORS if glue else [s for s in SEPARATORS if s]))
        name = sep.join(_case(w, draw(st.sampled_from(["lower", "upper", "title", "same"]))) for w in words)
    else:
        parts = [w.replace("_", " ").title().replace(" ", "") for w in words]
        name = "".join(parts)
        if style == "camel":
            name = name[:1].lower() + name[1:]
    name = draw(st.sampled_from(["", " ", "\t", "\n"])) + name + draw(st.sampled_from(["", " ", "\t"]))
    return name


def _unicode_twist(draw: st.DrawFn, name: str) -> str:
    twist = draw(st.sampled_from(["lookalike", "zero_width", "fullwidth", "none"]))
    if twist == "lookalike":
        spots = [i for i, ch in enumerate(name) if ch.lower() in LOOKALIKES]
        if spots:
            i = draw(st.sampled_from(spots))
            name = name[:i] + LOOKALIKES[name[i].lower()] + name[i + 1:]
    elif twist == "zero_width":
        i = draw(st.integers(0, len(name)))
        name = name[:i] + draw(st.sampled_from(ZERO_WIDTH)) + name[i:]
    elif twist == "fullwidth":
        name = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" and draw(st.booleans()) else ch for ch in name)
    return name


@st.composite
def write_names(draw: st.DrawFn) -> str:
    words, verb = draw(write_tokens())
    # Words run together with no boundary at all ("checkANDrm") are searched for write verbs of
    # 4+ letters only: looking for rm, pay or set inside words would refuse list_payment_intents.
    name = draw(spell(words, glue=len(verb) >= 4 and verb not in NOUN_VERBS))
    return _unicode_twist(draw, name)


@settings(max_examples=examples(1500))
@given(name=write_names(), arguments=st.one_of(st.none(), st.just({}), st.just({"limit": 1})))
def test_read_only_profiles_never_allow_or_list_a_write_however_spelled(name: str, arguments: dict | None) -> None:
    for profile in PROFILES:
        decision = decide(profile, name, arguments)
        assert not decision.allowed, (profile.name, name, decision)
        assert not is_listed(profile, name), (profile.name, name)


@st.composite
def unknown_verb_names(draw: st.DrawFn) -> str:
    known = set(WRITE_VERBS) | set(READ_WORDS) | set(NOUN_VERBS)
    verb = draw(st.from_regex(r"[a-z]{2,10}", fullmatch=True).filter(lambda w: w not in known))
    words = [verb, *draw(st.lists(st.sampled_from(NOUNS), max_size=2))]
    if draw(st.booleans()):  # riding along behind a read: list_customers_and_<verb>
        words = [draw(st.sampled_from(READ_WORDS)), draw(st.sampled_from(NOUNS)), "and", *words]
    # Not glued: an unknown word run into its neighbours ("customerandzap") has no boundary to find.
    return draw(spell(words, glue=False))


@settings(max_examples=examples(400))
@given(name=unknown_verb_names())
def test_an_unknown_verb_is_never_allowed(name: str) -> None:
    for profile in PROFILES:
        assert not decide(profile, name, {}).allowed, (profile.name, name)


OP_ID_WORDS = ["Customers", "Customer", "Refunds", "Charges", "Charge", "Invoices", "Invoice", "Finalize", "Cancel", "Search", "Id", "Balance", "Items", "Lines"]


@st.composite
def operation_ids(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=40))
    method = draw(st.sampled_from(["Get", "Post", "Delete", "get", "GET", "Put", "Patch", " Post", "Head"]))
    words = draw(st.lists(st.sampled_from(OP_ID_WORDS), min_size=0, max_size=4))
    return method + "".join(words) + draw(st.sampled_from(["", " ", ";", "\n", "/..", "ﬀ"]))


@settings(max_examples=examples(800))
@given(op_id=operation_ids(), dispatcher=st.sampled_from(["stripe_api_read", "stripe_api_write", "Stripe_Api_Read", "stripeApiWrite"]))
def test_read_only_profiles_only_ever_run_get_operation_ids(op_id: str, dispatcher: str) -> None:
    for profile in PROFILES:
        decision = decide(profile, dispatcher, {"stripe_api_operation_id": op_id, "parameters": {}})
        if decision.allowed:
            assert re.fullmatch(r"Get[A-Z][A-Za-z0-9]*", op_id), (profile.name, op_id)
            assert dispatcher.lower().replace("_", "").endswith("read")
            assert decision.operation not in WRITE_OPERATIONS


@settings(max_examples=examples(600))
@given(name=st.text(max_size=30), arguments=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3))
def test_whatever_is_allowed_is_a_read(name: str, arguments: dict) -> None:
    for profile in PROFILES:
        decision = decide(profile, name, arguments)
        if decision.allowed:
            assert decision.operation not in WRITE_OPERATIONS, (profile.name, name)
