"""Name and operation-id classification rules, one behaviour per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_guard import policy
from mcp_guard.audit import AuditSettings
from mcp_guard.classify import classify, classify_operation_id, normalize_name
from mcp_guard.config import GuardConfig, Mode, Profile, ToolRule
from mcp_guard.operations import Operation
from mcp_guard.policy import classify_for

R, L, S, C, U, D, O = (Operation.READ, Operation.LIST, Operation.SEARCH, Operation.CREATE, Operation.UPDATE, Operation.DELETE, Operation.OTHER)


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("listCustomers", ["list", "customers"]),
        ("ListCustomers", ["list", "customers"]),
        ("  LIST-customers.all ", ["list", "customers", "all"]),
        ("getHTTPStatus", ["get", "http", "status"]),
        ("list customers", ["list", "customers"]),
    ],
)
def test_names_are_split_into_lower_case_words(name: str, tokens: list[str]) -> None:
    assert normalize_name(name) == tokens


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("get_and_delete_customer", D),  # a write verb anywhere wins
        ("list_customers_then_remove", D),
        ("fetch_or_create_customer", C),
        ("LIST_CUSTOMERS", L),
        ("retrieve-balance", R),
        ("searchInvoices", S),
        ("find_charges", S),
        ("detailsACCEPTcustomer", U),  # glued into another word
        ("list_deleted_customers", D),
        ("list_payment_intents", L),  # "pay" is not looked for inside words
        ("get_transfer", R),  # a noun-verb after a read verb is the object
        ("transfer_funds", C),  # ... and the action up front
        ("get_customer_and_transfer", C),  # ... or after a conjunction
        ("get_customer_and_zap", O),  # an unknown verb riding along
        ("zap_customer", O),  # an unknown verb up front
        ("customer_details", O),  # a read verb must come first
        ("run_query", O),  # opaque verbs
        ("get_and_execute", O),
        ("get_refund", C),  # refund moves money: refused even as a read name
        ("", O),
        ("___", O),
    ],
)
def test_names_are_classified_by_their_verbs(name: str, expected: Operation) -> None:
    assert classify(name, None).operation is expected


@pytest.mark.parametrize(
    "name",
    ["list_сustomers", "ｌｉｓｔ_customers", "list\u200b_customers", "retrieve_balance\u00ad", "lıst_customers", "get_balance\ufeff"],
)
def test_a_name_with_any_non_ascii_character_is_other(name: str) -> None:
    classification = classify(name, None)
    assert classification.operation is O
    assert classification.basis == "non-ASCII tool name"


def profile_with_tools(tools: dict[str, ToolRule]) -> Profile:
    # model_construct: the config refuses some of these entries; the policy must ignore them anyway.
    return Profile.model_construct(mode=Mode.TEST, tools=tools, audit=AuditSettings(dir=Path("/nonexistent")))


def test_a_policy_entry_classifies_a_tool_whatever_its_spelling() -> None:
    profile = profile_with_tools({"frobnicate_things": ToolRule(operation=R)})
    assert classify_for(profile, "FrobnicateThings", None).operation is R
    assert classify_for(profile, "FrobnicateThings", None).basis == "policy tools.frobnicate_things"


def test_classification_alone_never_reads_policy_entries() -> None:
    assert classify("FrobnicateThings", None).operation is O


def test_a_policy_entry_overrides_the_built_in_table() -> None:
    assert classify("stripe_analytics", None).operation is O
    assert classify_for(profile_with_tools({"stripe_analytics": ToolRule(operation=R)}), "stripe_analytics", None).operation is R


def test_dispatchers_ignore_policy_operations_and_use_the_operation_id() -> None:
    profile = profile_with_tools({"stripe_api_read": ToolRule(operation=R)})  # refused by config validation; ignored here too
    classification = classify_for(profile, "stripe_api_read", {"stripe_api_operation_id": "PostRefunds"})
    assert (classification.operation, classification.dispatcher_mismatch) == (C, True)


@pytest.mark.parametrize(
    "op_id",
    ["getCustomers", "GET_CUSTOMERS", "PutCustomers", "PatchCustomersCustomer", "Get", "GetCustomers;PostRefunds", "GetCustomers ", "Get-Customers", "GetСustomers", ""],
)
def test_operation_ids_not_shaped_like_stripes_are_other(op_id: str) -> None:
    assert classify_operation_id(op_id) is None
    assert classify("stripe_api_read", {"stripe_api_operation_id": op_id}).operation is O


@pytest.mark.parametrize("arguments", [None, {}, {"stripe_api_operation_id": 7}, {"stripe_api_operation_id": ["GetBalance"]}])
def test_a_dispatcher_call_without_an_operation_id_is_other(arguments: object) -> None:
    assert classify("stripe_api_read", arguments).operation is O  # type: ignore[arg-type]


def test_a_policy_that_raises_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = GuardConfig.model_validate({"profiles": {"p": {"mode": "test", "audit": {"dir": "/tmp/a"}}}}).profiles["p"]
    assert policy.decide(profile, "list_customers", {}).allowed

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(policy, "classify", broken)
    decision = policy.decide(profile, "list_customers", {})
    assert not decision.allowed and decision.rule == "guard-error"
    assert not policy.is_listed(profile, "list_customers")
