"""The decision rules of policy.decide / is_listed / decide_method, on small made-up profiles."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mcp_guard.config import GuardConfig, Profile
from mcp_guard.operations import Operation
from mcp_guard.policy import decide, decide_method, is_listed

ALL_OPERATIONS = [op.value for op in Operation]


def make_profile(**fields: Any) -> Profile:
    body = {"mode": "test", "audit": {"dir": "/tmp/mcp-guard-test-audit"}, **fields}
    return GuardConfig.model_validate({"profiles": {"p": body}}).profiles["p"]


def read_call(op_id: str, **parameters: Any) -> dict[str, Any]:
    return {"stripe_api_operation_id": op_id, "parameters": parameters}


# --- operation rules


def test_a_post_through_stripe_api_read_is_denied_even_when_every_operation_is_allowed() -> None:
    permissive = make_profile(allowed_operations=ALL_OPERATIONS, blocked_operations=[])
    decision = decide(permissive, "stripe_api_read", read_call("PostRefunds", payment_intent="pi_1"))
    assert not decision.allowed
    assert decision.rule == "dispatcher-mismatch"
    assert decision.operation is Operation.CREATE
    # The same call through the right dispatcher shows the mismatch rule alone refused it.
    assert decide(permissive, "stripe_api_write", read_call("PostRefunds", payment_intent="pi_1")).allowed


def test_a_get_through_stripe_api_write_is_a_dispatcher_mismatch() -> None:
    permissive = make_profile(allowed_operations=ALL_OPERATIONS, blocked_operations=[])
    assert decide(permissive, "stripe_api_write", read_call("GetCustomers")).rule == "dispatcher-mismatch"


def test_a_respelled_dispatcher_name_is_still_checked_by_operation_id() -> None:
    profile = make_profile()
    for spelling in ("Stripe_Api_Read", "stripeApiRead", "STRIPE-API-READ", " stripe_api_read "):
        decision = decide(profile, spelling, read_call("DeleteCustomersCustomer"))
        assert not decision.allowed, spelling
        assert decision.rule == "dispatcher-mismatch"


def test_blocked_wins_over_allowed() -> None:
    profile = make_profile(allowed_operations=["read", "create"], blocked_operations=["create"])
    decision = decide(profile, "create_customer", {})
    assert not decision.allowed
    assert decision.rule == "profiles.p.blocked_operations"


def test_what_is_not_allowed_is_denied_even_when_not_blocked() -> None:
    profile = make_profile(allowed_operations=["read"], blocked_operations=[])
    decision = decide(profile, "list_customers", {})
    assert not decision.allowed
    assert decision.rule == "profiles.p.allowed_operations"
    assert decide(profile, "retrieve_balance", {}).allowed


def test_an_unclassifiable_tool_is_denied_and_not_listed() -> None:
    profile = make_profile()
    decision = decide(profile, "frobnicate", {})
    assert (decision.allowed, decision.operation) == (False, Operation.OTHER)
    assert not is_listed(profile, "frobnicate")


def test_a_tool_rule_gives_an_unknown_tool_its_operation() -> None:
    profile = make_profile(tools={"frobnicate": {"operation": "read"}})
    decision = decide(profile, "frobnicate", {})
    assert decision.allowed
    assert decision.basis == "policy tools.frobnicate"


def test_a_tool_rule_deny_beats_an_allowed_operation_whatever_the_spelling() -> None:
    profile = make_profile(tools={"list_customers": {"decision": "deny"}})
    for spelling in ("list_customers", "ListCustomers", "list-customers"):
        decision = decide(profile, spelling, {})
        assert not decision.allowed
        assert decision.rule == "profiles.p.tools.list_customers"
    assert not is_listed(profile, "list_customers")


def test_a_tool_rule_deny_hides_a_dispatcher() -> None:
    profile = make_profile(tools={"stripe_api_read": {"decision": "deny"}})
    assert not is_listed(profile, "stripe_api_read")
    assert not decide(profile, "stripe_api_read", read_call("GetBalance")).allowed


def test_a_tool_rule_allow_admits_an_operation_that_is_not_allowed_but_not_blocked() -> None:
    profile = make_profile(allowed_operations=["read"], tools={"stripe_api_search": {"decision": "allow"}})
    decision = decide(profile, "stripe_api_search", {"query": "x"})
    assert decision.allowed and decision.rule == "profiles.p.tools.stripe_api_search"


def test_a_tool_rule_allow_cannot_open_a_blocked_operation() -> None:
    profile = make_profile(tools={"create_refund": {"decision": "allow"}})
    decision = decide(profile, "create_refund", {})
    assert not decision.allowed and decision.rule == "profiles.p.blocked_operations"
    with pytest.raises(ValidationError, match="blocked_operations"):
        make_profile(tools={"refund_tool": {"operation": "create", "decision": "allow"}})


def test_a_dispatcher_cannot_be_given_an_operation_or_an_allow() -> None:
    with pytest.raises(ValidationError, match="stripe_api_operation_id"):
        make_profile(tools={"stripe_api_write": {"operation": "read"}})
    with pytest.raises(ValidationError, match="stripe_api_operation_id"):
        make_profile(tools={"StripeApiRead": {"decision": "allow"}})


def test_stripe_api_write_is_listed_only_when_a_write_is_allowed() -> None:
    assert not is_listed(make_profile(), "stripe_api_write")
    writer = make_profile(allowed_operations=["read", "update"], blocked_operations=[])
    assert is_listed(writer, "stripe_api_write")
    assert decide(writer, "stripe_api_write", read_call("PostCustomersCustomer")).allowed
    assert not decide(writer, "stripe_api_write", read_call("PostRefunds")).allowed


def test_stripe_api_read_is_not_listed_when_no_read_is_allowed() -> None:
    assert not is_listed(make_profile(allowed_operations=[], blocked_operations=[]), "stripe_api_read")
    assert is_listed(make_profile(allowed_operations=["search"]), "stripe_api_read")


def test_a_reason_names_the_operation_and_the_profile_without_dumping_the_policy() -> None:
    profile = make_profile(arguments={"expand_deny": ["a", "b", "c"]})
    decision = decide(profile, "stripe_api_write", read_call("PostRefunds"))
    assert "create" in decision.reason and "PostRefunds" in decision.reason
    assert len(decision.reason) < 200
    assert "expand" not in decision.reason


def test_a_call_whose_arguments_break_the_classifier_is_denied() -> None:
    profile = make_profile()
    assert not decide(profile, "stripe_api_read", ["not", "a", "mapping"]).allowed  # type: ignore[arg-type]
    assert not decide(profile, 42, {}).allowed  # type: ignore[arg-type]


# --- argument constraints


@pytest.mark.parametrize(("limit", "allowed"), [(10, True), (25, True), (26, False), ("26", False), ("25", True), (1e9, False), (True, False), ("ten", False)])
def test_limit_is_capped(limit: Any, allowed: bool) -> None:
    profile = make_profile(arguments={"max_limit": 25})
    decision = decide(profile, "list_customers", {"limit": limit})
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule == "profiles.p.arguments.max_limit"
    assert decide(profile, "stripe_api_read", read_call("GetCustomers", limit=limit)).allowed is allowed


def test_the_limit_reason_states_the_cap() -> None:
    decision = decide(make_profile(arguments={"max_limit": 25}), "list_customers", {"limit": 100})
    assert "25" in decision.reason


def test_limit_is_unbounded_without_a_cap() -> None:
    assert decide(make_profile(), "list_customers", {"limit": 10_000}).allowed


@pytest.mark.parametrize(
    ("expand", "allowed"),
    [
        (["balance_transaction"], True),
        (["customer"], False),
        (["data.customer"], False),
        (["customer.default_source"], False),
        (["latest_charge.payment_method"], False),
        (["data.latest_charge.payment_method"], False),
        (["Customer"], False),
        ("customer", False),
        (["invoice", "customer"], False),
        ([{"path": "customer"}], False),
        (["сustomer"], False),  # Cyrillic: not an ASCII path
    ],
)
def test_expand_deny_matches_by_prefix_and_wildcard(expand: Any, allowed: bool) -> None:
    profile = make_profile(arguments={"expand_deny": ["customer", "*.payment_method"]})
    decision = decide(profile, "stripe_api_read", read_call("GetCharges", expand=expand))
    assert decision.allowed is allowed
    assert decide(profile, "list_invoices", {"expand": expand}).allowed is allowed
    assert decide(profile, "stripe_api_read", read_call("GetCharges", **{"expand[]": expand})).allowed is allowed


def test_expand_allow_admits_only_listed_paths() -> None:
    profile = make_profile(arguments={"expand_allow": ["balance_transaction", "*.invoice"]})
    assert decide(profile, "stripe_api_read", read_call("GetCharges", expand=["data.balance_transaction"])).allowed
    assert decide(profile, "stripe_api_read", read_call("GetCharges", expand=["latest_charge.invoice"])).allowed
    denied = decide(profile, "stripe_api_read", read_call("GetCharges", expand=["balance_transaction.source"]))
    assert not denied.allowed and denied.rule == "profiles.p.arguments.expand_allow"


@pytest.mark.parametrize("key", ["stripe_account", "stripe_context", "stripe_account_id", "Stripe-Account"])
def test_connected_accounts_are_refused_when_none_are_configured(key: str) -> None:
    profile = make_profile()
    decision = decide(profile, "stripe_api_read", read_call("GetCustomers", **{key: "acct_1032D82eZvKYlo2C"}))
    assert not decision.allowed and decision.rule == "profiles.p.arguments.connected_accounts"
    top_level = decide(profile, "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", key: "acct_1032D82eZvKYlo2C"})
    assert not top_level.allowed


def test_connected_accounts_in_the_list_are_allowed() -> None:
    profile = make_profile(arguments={"connected_accounts": ["acct_1032D82eZvKYlo2C"]})
    assert decide(profile, "list_customers", {"stripe_account": "acct_1032D82eZvKYlo2C"}).allowed
    assert not decide(profile, "list_customers", {"stripe_account": "acct_OTHER"}).allowed
    assert not decide(profile, "list_customers", {"stripe_account": ["acct_1032D82eZvKYlo2C"]}).allowed


def test_parameters_sent_as_a_json_string_are_checked_too() -> None:
    profile = make_profile(arguments={"max_limit": 5})
    call = {"stripe_api_operation_id": "GetCustomers", "parameters": '{"limit": 50}'}
    assert not decide(profile, "stripe_api_read", call).allowed
    assert not decide(profile, "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": "{nope"}).allowed
    assert not decide(profile, "stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": [1]}).allowed


def test_argument_rules_do_not_apply_to_denied_calls() -> None:
    decision = decide(make_profile(arguments={"max_limit": 1}), "create_customer", {"limit": 100})
    assert decision.rule == "profiles.p.blocked_operations"


# --- methods


def test_methods_outside_allowed_methods_are_denied() -> None:
    profile = make_profile(allowed_methods=["initialize", "tools/list", "tools/call"])
    assert decide_method(profile, "tools/call").allowed
    denied = decide_method(profile, "resources/read")
    assert not denied.allowed and denied.rule == "profiles.p.allowed_methods"
    assert decide_method(make_profile(), "resources/read").allowed
    assert not decide_method(make_profile(), "sampling/createMessage").allowed
