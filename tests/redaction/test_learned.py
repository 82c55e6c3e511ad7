"""Values learned in the session: what field rules redact is masked wherever it reappears."""

from __future__ import annotations

import json

from mcp_guard.redaction import Action, RedactionSettings, build_redactor
from mcp_guard.redaction._learned import MIN_LENGTH, LearnedValues
from tests.redaction.conftest import TEST_KEY, as_tool_result

KEEP_NOTES = RedactionSettings(metadata_keep=["note"])


def customer(name: str, note: str) -> dict[str, object]:
    return {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": name, "email": "ama@example.com", "metadata": {"note": note}}


def test_a_name_redacted_in_a_result_is_masked_in_kept_text_of_the_same_result_even_before_it():
    redactor = build_redactor(KEEP_NOTES, "live", TEST_KEY)
    page = {"object": "list", "data": [{"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "metadata": {"note": "refund Ama Mensah"}},
                                       customer("Ama Mensah", "VIP")]}
    out = json.loads(redactor.redact(as_tool_result(page)).value["content"][0]["text"])
    assert out["data"][0]["metadata"]["note"] == "refund [redacted:name]"  # learned later in the same message


def test_a_learned_value_is_masked_in_later_results_and_error_texts():
    redactor = build_redactor(KEEP_NOTES, "test", TEST_KEY)
    redactor.redact(as_tool_result(customer("Ama Mensah", "first call")))
    later = redactor.redact({"content": [{"type": "text", "text": "Failed to refund Ama Mensah"}], "isError": True})
    assert later.value["content"][0]["text"] == "Failed to refund [redacted:name]"
    assert later.counts == {"name": 1}
    assert redactor.redact_text("upstream: no card on file for AMA MENSAH").value == "upstream: no card on file for [redacted:name]"


def test_parts_of_a_name_are_learned_but_not_short_or_lower_case_words():
    redactor = build_redactor(KEEP_NOTES, "test", TEST_KEY)
    redactor.redact(customer("Ama Mensah-Okafor", "x"))
    assert redactor.redact_text("Mensah called about Okafor").value == "[redacted:name] called about [redacted:name]"
    assert redactor.redact_text("Ama called").value == "Ama called"  # three letters: too common to learn


def test_learned_values_follow_the_class_action():
    redactor = build_redactor(RedactionSettings(actions={"name": Action.PSEUDONYMIZE}), "test", TEST_KEY)
    field = redactor.redact(customer("Ama Mensah", "x")).value["name"]
    assert redactor.redact_text("for Ama Mensah").value == f"for {field}"


def test_learning_can_be_switched_off():
    redactor = build_redactor(RedactionSettings(learn_values=False, metadata_keep=["note"]), "test", TEST_KEY)
    redactor.redact(customer("Ama Mensah", "x"))
    assert redactor.redact_text("for Ama Mensah").value == "for Ama Mensah"


def test_each_session_learns_its_own_values():
    first = build_redactor(KEEP_NOTES, "test", TEST_KEY)
    second = build_redactor(KEEP_NOTES, "test", TEST_KEY)
    first.redact(customer("Ama Mensah", "x"))
    assert second.redact_text("for Ama Mensah").value == "for Ama Mensah"


def test_the_set_is_bounded_and_forgets_the_oldest_values_first():
    learned = LearnedValues(limit=3)
    for name in ("Alpha Person", "Bravo Person", "Charlie Person", "Delta Person"):
        learned.learn(name, "email")
    learned.flush()  # what the redactor does after each message
    hits: list[str] = []
    text = "Alpha Person and Delta Person"
    assert learned.mask(text, lambda cls, found: f"<{cls}>", hits) == "Alpha Person and <email>"
    assert len(learned) == 3


def test_short_values_are_never_learned():
    learned = LearnedValues()
    learned.learn("Li", "name")
    learned.learn("CA", "address")
    learned.learn("x" * MIN_LENGTH, "name")
    assert len(learned) == 1


def test_a_learned_value_matches_whole_words_only():
    learned = LearnedValues()
    learned.learn("Rosen", "name")
    learned.flush()
    hits: list[str] = []
    assert learned.mask("Rosenthal met Rosen.", lambda cls, found: "<x>", hits) == "Rosenthal met <x>."
