"""Table tests over both Stripe catalogs, through the shipped test and live profiles.

The catalogs are copied from the project's notes on Stripe's MCP server (legacy
@stripe/mcp 0.2.5 tools, hosted mcp.stripe.com tools, OpenAPI operation ids).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_guard.classify import classify, classify_operation_id
from mcp_guard.config import Profile, load_config
from mcp_guard.operations import WRITE_OPERATIONS, Operation
from mcp_guard.policy import decide, is_listed

ROOT = Path(__file__).resolve().parents[2]
R, L, S, C, U, D, O = (Operation.READ, Operation.LIST, Operation.SEARCH, Operation.CREATE, Operation.UPDATE, Operation.DELETE, Operation.OTHER)

# Every tool of @stripe/mcp 0.2.5 with its class.
LEGACY_TOOLS: dict[str, Operation] = {
    "create_customer": C,
    "list_customers": L,
    "create_product": C,
    "list_products": L,
    "create_price": C,
    "list_prices": L,
    "create_payment_link": C,
    "create_invoice": C,
    "list_invoices": L,
    "create_invoice_item": C,
    "finalize_invoice": U,
    "retrieve_balance": R,
    "create_refund": C,
    "list_payment_intents": L,
    "list_subscriptions": L,
    "cancel_subscription": D,
    "update_subscription": U,
    "search_stripe_documentation": S,
    "list_coupons": L,
    "create_coupon": C,
    "update_dispute": U,
    "list_disputes": L,
}

# The hosted catalog's tools other than the two dispatchers.
HOSTED_TOOLS: dict[str, Operation] = {
    "stripe_api_search": S,
    "stripe_api_details": R,
    "get_stripe_account_info": R,
    "get_balance_summary": R,
    "search_stripe_documentation": S,
    "stripe_analytics": O,
    "stripe_implementation_planner": O,
    "send_stripe_mcp_feedback": O,
    "list_available_accounts_or_orgs": R,
    "manage_stripe_accounts": O,
    "atlas_company_formation": O,
    "create_refund": C,
}

# Stripe OpenAPI operation ids (GET/POST/DELETE + CamelCased path) and their class.
OPERATION_IDS: dict[str, Operation] = {
    # searches
    "GetCustomersSearch": S, "GetChargesSearch": S, "GetInvoicesSearch": S, "GetPaymentIntentsSearch": S,
    "GetPricesSearch": S, "GetProductsSearch": S, "GetSubscriptionsSearch": S,
    # lists
    "GetCustomers": L, "GetCharges": L, "GetRefunds": L, "GetInvoices": L, "GetPaymentIntents": L,
    "GetBalanceTransactions": L, "GetEvents": L, "GetDisputes": L, "GetPayouts": L, "GetTransfers": L,
    "GetCheckoutSessions": L, "GetSubscriptionItems": L, "GetInvoicesInvoiceLines": L,
    "GetCustomersCustomerSources": L, "GetCustomersCustomerTaxIds": L, "GetAccountsAccountPersons": L,
    "GetAccountsAccountCapabilities": L, "GetQuotesQuoteLineItems": L, "GetCountrySpecs": L,
    "GetCustomersCustomerBalanceTransactions": L, "GetIssuingCards": L, "GetTerminalReaders": L,
    "GetBillingMetersIdEventSummaries": L, "GetApplicationFeesIdRefunds": L, "GetInvoicesUpcomingLines": L,
    # reads
    "GetBalance": R, "GetAccount": R, "GetCustomersCustomer": R, "GetChargesCharge": R, "GetRefundsRefund": R,
    "GetEventsId": R, "GetInvoicesInvoice": R, "GetPaymentIntentsIntent": R, "GetSubscriptionItemsItem": R,
    "GetSubscriptionsSubscriptionExposedId": R, "GetCheckoutSessionsSession": R, "GetInvoicesUpcoming": R,
    "GetQuotesQuotePdf": R, "GetCustomersCustomerDiscount": R, "GetCustomersCustomerCashBalance": R,
    "GetTaxSettings": R, "GetChargesChargeDispute": R, "GetApplicationFeesFeeRefundsId": R,
    "GetCountrySpecsCountry": R, "GetCreditNotesPreview": R, "GetAccountsAccount": R,
    # creates
    "PostCustomers": C, "PostRefunds": C, "PostCharges": C, "PostPaymentIntents": C, "PostCheckoutSessions": C,
    "PostInvoices": C, "PostPayouts": C, "PostTransfers": C, "PostCustomersCustomerSources": C,
    "PostCustomersCustomerTaxIds": C, "PostAccountLinks": C, "PostTransfersIdReversals": C,
    "PostChargesChargeRefunds": C, "PostChargesChargeRefund": C, "PostSubscriptionSchedules": C,
    "PostBillingMeterEvents": C, "PostFiles": C, "PostCustomersCustomerBalanceTransactions": C,
    # updates and actions
    "PostCustomersCustomer": U, "PostSubscriptionItemsItem": U, "PostInvoicesInvoiceFinalize": U,
    "PostInvoicesInvoicePay": U, "PostInvoicesInvoiceVoid": U, "PostPaymentIntentsIntentCapture": U,
    "PostPaymentIntentsIntentConfirm": U, "PostChargesChargeCapture": U, "PostDisputesDispute": U,
    "PostDisputesDisputeClose": U, "PostSubscriptionsSubscriptionExposedId": U,
    "PostInvoicesInvoiceMarkUncollectible": U, "PostSubscriptionSchedulesScheduleRelease": U,
    "PostPaymentLinksPaymentLink": U, "PostTestHelpersTestClocksTestClockAdvance": U,
    "PostCustomersCustomerSourcesIdVerify": U,
    # deletes (the DELETE method, and cancels)
    "DeleteCustomersCustomer": D, "DeleteProductsId": D, "DeleteSubscriptionsSubscriptionExposedId": D,
    "DeleteCouponsCoupon": D, "DeleteCustomersCustomerDiscount": D, "DeleteInvoiceitemsInvoiceitem": D,
    "PostPaymentIntentsIntentCancel": D, "PostPayoutsPayoutCancel": D, "PostRefundsRefundCancel": D,
    "PostSubscriptionSchedulesScheduleCancel": D,
}
READS = {R, L, S}


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    loaded = load_config(ROOT / "policies" / "default.yaml", {})
    return {name: loaded.profile(name) for name in ("test", "live")}


@pytest.mark.parametrize(("tool", "expected"), sorted(LEGACY_TOOLS.items()))
def test_every_legacy_tool_is_classified_as_its_operation(tool: str, expected: Operation) -> None:
    assert classify(tool, {}).operation is expected


@pytest.mark.parametrize(("tool", "expected"), sorted(HOSTED_TOOLS.items()))
def test_every_hosted_tool_is_classified_as_its_operation(tool: str, expected: Operation) -> None:
    assert classify(tool, {}).operation is expected


@pytest.mark.parametrize(("op_id", "expected"), sorted(OPERATION_IDS.items()))
def test_operation_ids_are_classified_by_method_and_path_shape(op_id: str, expected: Operation) -> None:
    assert classify_operation_id(op_id) is expected


@pytest.mark.parametrize("profile_name", ["test", "live"])
@pytest.mark.parametrize(("tool", "expected"), sorted({**LEGACY_TOOLS, **HOSTED_TOOLS}.items()))
def test_named_tools_are_decided_and_listed_by_their_operation(
    profiles: dict[str, Profile], profile_name: str, tool: str, expected: Operation
) -> None:
    profile = profiles[profile_name]
    allowed = expected in profile.allowed_operations or tool in profile.tools
    decision = decide(profile, tool, {})
    assert decision.allowed is allowed
    assert decision.operation is expected
    assert is_listed(profile, tool) is allowed
    if expected in WRITE_OPERATIONS:
        assert decision.rule == f"profiles.{profile_name}.blocked_operations"


@pytest.mark.parametrize("profile_name", ["test", "live"])
@pytest.mark.parametrize(("op_id", "expected"), sorted(OPERATION_IDS.items()))
def test_operation_ids_through_stripe_api_read_allow_only_permitted_reads(
    profiles: dict[str, Profile], profile_name: str, op_id: str, expected: Operation
) -> None:
    profile = profiles[profile_name]
    parameters = {"query": "status:'succeeded'"} if expected is Operation.SEARCH else {}
    decision = decide(profile, "stripe_api_read", {"stripe_api_operation_id": op_id, "parameters": parameters})
    assert decision.operation is expected
    if expected in READS:
        assert decision.allowed is (expected in profile.allowed_operations)
    else:
        assert not decision.allowed
        assert decision.rule == "dispatcher-mismatch"


@pytest.mark.parametrize("profile_name", ["test", "live"])
@pytest.mark.parametrize(("op_id", "expected"), sorted(OPERATION_IDS.items()))
def test_operation_ids_through_stripe_api_write_are_always_denied_by_read_only_profiles(
    profiles: dict[str, Profile], profile_name: str, op_id: str, expected: Operation
) -> None:
    decision = decide(profiles[profile_name], "stripe_api_write", {"stripe_api_operation_id": op_id, "parameters": {}})
    assert not decision.allowed
    assert decision.operation is expected
    expected_rule = "dispatcher-mismatch" if expected in READS else f"profiles.{profile_name}.blocked_operations"
    assert decision.rule == expected_rule


@pytest.mark.parametrize("profile_name", ["test", "live"])
def test_read_only_profiles_list_stripe_api_read_but_not_stripe_api_write(profiles: dict[str, Profile], profile_name: str) -> None:
    assert is_listed(profiles[profile_name], "stripe_api_read")
    assert not is_listed(profiles[profile_name], "stripe_api_write")


def test_live_searches_account_data_only_on_the_fields_it_names(profiles: dict[str, Profile]) -> None:
    live = profiles["live"]
    assert decide(live, "stripe_api_search", {"query": "refunds"}).allowed
    assert decide(live, "search_stripe_documentation", {"question": "refunds"}).allowed

    def search(query: str) -> bool:
        return decide(live, "stripe_api_read", {"stripe_api_operation_id": "GetChargesSearch", "parameters": {"query": query}}).allowed

    assert search("amount>1") and search("metadata['booking_id']:'B-1'") and search('status:"failed" AND currency:"eur"')
    for probe in ("email~'jen'", "name:'Jenny Rosen'", "phone:'+14155552671'", "metadata['email']:'x'", "amount>1 OR email:'x'", "-email:'x'"):
        assert not search(probe), probe


def test_every_operation_id_of_the_pinned_stripe_sdk_is_a_read_through_get_and_a_write_otherwise(profiles: dict[str, Profile]) -> None:
    """All ~550 v1 operation ids: a Get* is read/list/search and passes stripe_api_read under test;
    a Post*/Delete* is a write that neither dispatcher lets through under either shipped profile."""
    from mcp_guard._stripe_operations import OPERATION_CLASSES

    assert len(OPERATION_CLASSES) > 400
    for op_id, cls in OPERATION_CLASSES.items():
        operation = classify_operation_id(op_id)
        assert operation is Operation(cls), op_id
        parameters = {"query": "status:'active'"} if operation is Operation.SEARCH else {}
        read = {"stripe_api_operation_id": op_id, "parameters": parameters}
        if op_id.startswith("Get"):
            assert operation in READS, op_id
            assert decide(profiles["test"], "stripe_api_read", read).allowed, op_id
        else:
            assert operation in WRITE_OPERATIONS, op_id
            for profile in profiles.values():
                assert not decide(profile, "stripe_api_read", read).allowed, op_id
                assert not decide(profile, "stripe_api_write", read).allowed, op_id
