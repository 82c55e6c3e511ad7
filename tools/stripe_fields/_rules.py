"""Classification rules: a field's class from its name, where it sits, its type and its documentation.

Rules are tried in order and the first that matches wins, so the sensitive ones come first and the
`safe` ones last. A string field no rule matches has no class: the generator fails until a rule or
a reviewed override (overrides.yaml) gives it one. There is deliberately no catch-all rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    """One field occurrence: `charge` / ("billing_details", "address", "line1") / `str` / its doc."""

    object: str
    path: tuple[str, ...]
    kind: str  # str, enum, int, float, decimal, bool, any
    doc: str

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def parents(self) -> str:
        """The keys above the field, dot-joined, with a dot at both ends: `.billing_details.address.`"""
        return "." + ".".join(self.path[:-1]) + "." if len(self.path) > 1 else "."


@dataclass(frozen=True)
class Rule:
    cls: str
    why: str
    name: str | None = None  # full-match regex on the field name
    under: str | None = None  # search regex on Site.parents
    doc: str | None = None  # search regex on the documentation (case-insensitive)
    objects: frozenset[str] | None = None
    kinds: frozenset[str] = frozenset({"str"})
    not_under: str | None = None
    refs: bool = False  # the field is named after an object type (`customer`, `financial_account`)

    def matches(self, site: Site, object_refs: frozenset[str]) -> bool:
        if site.kind not in self.kinds:
            return False
        if self.objects is not None and site.object not in self.objects:
            return False
        if self.name is not None and not re.fullmatch(self.name, site.name):
            return False
        if self.refs and site.name not in object_refs:
            return False
        if self.under is not None and not re.search(self.under, site.parents):
            return False
        if self.not_under is not None and re.search(self.not_under, site.parents):
            return False
        return self.doc is None or re.search(self.doc, site.doc, re.IGNORECASE) is not None


def name_rules() -> list[list[str]]:
    """[name regex, class] of the rules that look at the name alone, in order: what the runtime applies
    to a field the table does not know whose name the table never saw (`zip` in an old API version)."""
    return [
        [rule.name, rule.cls] for rule in RULES
        if rule.name is not None and "str" in rule.kinds and not rule.refs
        and rule.under is None and rule.not_under is None and rule.doc is None and rule.objects is None
    ]


def object_refs(object_names: list[str]) -> frozenset[str]:
    """Field names that refer to an object by its type: `issuing.card` -> card, cards, issuing_card, issuing_cards."""
    names: set[str] = set()
    for full in object_names:
        for base in {full.rsplit(".", 1)[-1], full.replace(".", "_")}:
            names |= {base, base + "s", base + "_id", base + "_ids"}
    return frozenset(names)


def _seg(*names: str) -> str:
    """Regex: one of these keys is among the field's ancestors."""
    return r"\.(?:" + "|".join(names) + r")\."


TEXTISH = frozenset({"str", "any"})

_BUSINESS = _seg(
    "business_profile", "company", "company_details", "business_details", "branding", "dashboard", "profile",
    "support", "apple_terms_and_conditions", "beneficiary", "merchant_data", "acquirer_details", "support_address",
)
_BANK = _seg(
    "us_bank_account", "sepa_debit", "bacs_debit", "au_becs_debit", "acss_debit", "nz_bank_account", "ach_debit",
    "ach_credit_transfer", "bank_account", "sepa_credit_transfer", "bank_transfer", "financial_addresses", "aba",
    "iban", "sort_code", "spei", "zengin", "swift", "bancontact", "ideal", "sofort", "giropay", "eps", "p24", "fpx",
    "payto", "gb_bank_transfer", "eu_bank_transfer", "jp_bank_transfer", "us_bank_transfer", "mx_bank_transfer",
    "financial_account", "destination_payment_method_details", "initiating_payment_method_details",
    "origin_payment_method_details", "us_domestic_wire",
)
_ADDRESSES = r"\.\w*(?:address|shipping|billing_details|receiver|owner)\w*\."
_ID_DOC = (
    r"^(?:the |a |an )?(?:unique |universally unique |network-unique |stripe )?(?:id|ids|identifier)\b"
    r"|\bids? of\b|^the `id`|^(?:the )?unique identifier|\bids? (?:of|for) the\b|\bidentifier\b|\bIDs returned by\b"
    r"|^(?:the )?[\w ]*\bid\b(?: of| for| that| to| associated| used| generated| assigned| representing|\.|$)"
)

RULES: tuple[Rule, ...] = (
    Rule("safe", "Stripe ids of the objects themselves", name=r"id"),
    Rule("metadata", "merchant metadata values", name=r"metadata"),
    # -- secrets and access ------------------------------------------------------------------
    Rule("secret", "client secrets, signing secrets, app secret payloads", name=r"client_secret|secret|signing_secret|payload"),
    Rule("secret", "passwords and logins", name=r"password|private_key_file_password|username"),
    Rule("secret", "wallet and SDK tokens that let a client act", name=r"auth_code|client_token|persistent_token|authentication_token|cvc_token|nonce_str|sign|prepay_id|package|native_data|data_string"),
    Rule("secret", "QR code payloads that pay or authenticate", name=r"data|image_data_url", under=_seg("next_action", "qr_code", r"\w*qr_code")),
    Rule("card", "issuing card number and CVC", name=r"number|cvc", objects=frozenset({"issuing.card"})),
    Rule("card", "cryptograms, EMV data and certificates generated by the card", name=r"cryptogram|application_cryptogram|emv_auth_data|ares|rreq|avalgo|evidence_transaction_certificate|evidence_customer_signature"),
    # -- people ------------------------------------------------------------------------------
    Rule("ip_address", "IP addresses", name=r"ip|ip_address|client_ip|customer_purchase_ip|destination_ip_address"),
    Rule("ip_address", "locations derived from an IP address", under=_seg("ip_address_location"), kinds=frozenset({"str", "float", "int"})),
    Rule("user_agent", "browser user agents and headers", name=r"user_agent|accept_header"),
    Rule("user_agent", "the browser of a session", name=r"browser|version", under=_seg("session", "browser")),
    Rule("device", "device fingerprints and ids", name=r"device_fingerprint|customer_device_fingerprint|customer_device_id|pos_device_id|serial_number|device_sw_version|device|platform"),
    Rule("device", "the device a token was provisioned on", under=_seg("device"), objects=frozenset({"issuing.token"})),
    Rule("personal", "sex, gender, ethnicity, race, political exposure", name=r"sex|legal_gender|gender|self_identified_gender|ethnicity|ethnicity_other|race|race_other|political_exposure|unparsed_sex", kinds=frozenset({"str", "enum"})),
    Rule("personal", "nationality and place of birth", name=r"nationality|nationalities|unparsed_place_of_birth|place_of_birth"),
    Rule("dob", "date of birth parts", under=_seg("dob", "verified_dob", "date_of_birth"), kinds=frozenset({"str", "int"})),
    Rule("tax_id", "identity document dates", under=_seg("expiration_date", "issued_date"), kinds=frozenset({"str", "int"})),
    Rule("tax_id", "identity document numbers", name=r"number", under=_seg("document", "id_number", "documents")),
    Rule("tax_id", "tax, VAT and government ids", name=r"tax_id|vat|vat_id|id_number|registration_number|eori_number|export_license_id|tax_deduction_account_number|personal_id_number|ssn_last_4|ssn"),
    Rule("tax_id", "values of tax id objects", name=r"value", under=_seg("tax_ids", "customer_tax_ids", "id_numbers")),
    Rule("tax_id", "values of tax id objects", name=r"value", objects=frozenset({"tax_id"})),
    # Business contact details come before the personal ones: `company.phone` is not a person's.
    Rule("business_contact", "a business's contact email, phone and website", name=r"support_email|support_phone|support_url|contact_email|contact_phone|business_url|url|email|phone", under=_BUSINESS),
    Rule("business_contact", "a business's address", name=r"line1|line2|city|town|state|postal_code", under=_BUSINESS),
    Rule("business_contact", "business and company names", name=r"name|name_kana|name_kanji|business_name|doing_business_as|registered_name|display_name|merchant_display_name|public_name|account_name|legal_name", under=_BUSINESS),
    Rule("business_contact", "a customer's business name", name=r"business_name|registered_name|doing_business_as"),
    Rule("business_contact", "the public name of the business behind an invoice", name=r"account_name", objects=frozenset({"invoice"})),
    Rule("business_contact", "where the merchant ships from", name=r"shipping_from_zip"),
    Rule("email", "email addresses", name=r"\w*email\w*|email_sent_to"),
    Rule("phone", "phone numbers", name=r"\w*phone\w*"),
    Rule("email", "collected email input values", name=r"value", under=_seg("email")),
    Rule("phone", "collected phone input values", name=r"value", under=_seg("phone")),
    Rule("name", "people's names", name=r"first_name|last_name|given_name|surname|maiden_name|full_name|full_name_aliases|first_name_kana|first_name_kanji|last_name_kana|last_name_kanji|cardholder_name|account_holder_name|customer_name|payer_name|sender_name|passenger_name|verified_name|individual_name|shipping_first_name|shipping_last_name|refund_account_holder_name|second_line|\w*_holder_name"),
    Rule("name", "names of people: customers, recipients, owners, cardholders", name=r"name|name_kana|name_kanji", doc=r"full name|customer'?s? name|recipient|cardholder|owner|billing name|shipping name|customer name|person|individual|shipping recipient"),
    Rule("name", "names under people and payment details", name=r"name", under=_seg("billing_details", "shipping", "shipping_details", "customer_details", "owner", "individual", "verified_outputs", "masterpass", "visa_checkout", "card", "three_d_secure", "customer_shipping")),
    Rule("address", "street address parts", name=r"line1|line2|city|town|postal_code|address_line1|address_line2|address_city|address_state|address_zip|address_postal_code|zip|billing_zip|raw_address|verified_address|billing_address|shipping_address|address|street"),
    Rule("address", "street address parts in flattened form", name=r"(?:refund_account_holder_|sender_|bank_)?address_(?:line_?1|line_?2|city|state|postal_code|zip)|shipping_address_zip|from_postal_code|to_postal_code"),
    Rule("address", "states and regions of an address", name=r"state|region|province", under=_ADDRESSES),
    Rule("address", "the tax location of a customer", name=r"state", doc=r"of the customer"),
    # -- card and bank data --------------------------------------------------------------------
    Rule("bank_account", "last four digits of a bank account", name=r"last4|iban_last4|account_number_last4", under=_BANK),
    Rule("bank_account", "last four digits of a bank account", name=r"last4", objects=frozenset({"bank_account"})),
    Rule("bank_account", "fingerprint of a bank account", name=r"fingerprint", under=_BANK),
    Rule("bank_account", "fingerprint of a bank account", name=r"fingerprint", objects=frozenset({"bank_account", "financial_connections.account"})),
    Rule("card", "card last4, fingerprints and IIN (BIN)", name=r"last4|dynamic_last4|fingerprint|iin|bin|primary_account_identifier|card_reference_id"),
    Rule("card", "card expiry", name=r"exp_month|exp_year", kinds=frozenset({"int", "str"})),
    Rule("bank_account", "bank account and routing numbers", name=r"account_number|routing_number|iban|iban_last4|bic|swift_code|clabe|bsb_number|sort_code|bank_code|branch_code|institution_number|transit_number|account_number_last4|sender_account_number|sender_iban|sender_sort_code|refund_iban|refund_routing_number|suffix|mandate_reference|payment_reference"),
    Rule("bank_account", "wallet and payment-service accounts of the payer", name=r"buyer_id|payer_id|vpa|pay_id|cashtag|account_id|customer_account_id|hashed_account_email_address|user_id|driver_id|vehicle_number|alphanumeric_id|unspecified_id|billing_agreement_id|customer_reference|buyer_address|transaction_hash"),
    # -- links ---------------------------------------------------------------------------------
    Rule("url", "hosted pages, receipts, vouchers and PDFs that open without a key", name=r"hosted_\w*url|receipt_url|invoice_pdf|pdf|mandate_url|custom_mandate_url|qr_code_url|image_url_png|image_url_svg|native_url|mobile_auth_url|challenge_url|fingerprinting_url|redirect_url|\w*_redirect_url|tracking_url|certificate|registry_url"),
    Rule("url", "links that act for a user: sessions, account links, portals, file links", name=r"url", objects=frozenset({
        "login_link", "account_link", "file_link", "checkout.session", "billing_portal.session", "identity.verification_session",
        "v2.core.account_link", "terminal.onboarding_link", "financial_connections.session", "payment_link", "account_session",
        "billing_portal.configuration", "mandate",
    }), not_under=_seg("branding_settings", "icon", "logo", "after_completion")),
    Rule("url", "pre-signed upload and download links", name=r"url", under=_seg(r"\w*upload_url", r"\w*download_url")),
    Rule("url", "links under next actions and redirects", name=r"url|return_url", under=_seg("next_action", "redirect_to_url", "redirect", "email_sent", "display_details")),
    # -- free text -------------------------------------------------------------------------------
    Rule("free_text", "dispute evidence", under=_seg("evidence", "enhanced_evidence"), kinds=TEXTISH),
    Rule("free_text", "descriptions, memos, notes, messages and comments", name=r"description|\w*_description|memo|footer|footer_body|footer_title|header|header_body|header_title|headline|custom_message|message|\w*_message|error|explanation|comment|details|text|body|note|notes|return_description|inactive_message|reason_message|interval_description|title|sql|predicate|idempotency_key|uncategorized_text|customer_data"),
    Rule("free_text", "values typed or chosen by a customer, or set per custom field", name=r"value|default_value|custom", under=_seg("custom_fields", "inputs", "numeric", "text", "dropdown", "label")),
    Rule("free_text", "items of a Radar value list (emails, IPs, card fingerprints...)", name=r"value", objects=frozenset({"radar.value_list_item"})),
    Rule("safe", "document numbers of invoices, credit notes and quotes, and receipt numbers", name=r"number|receipt_number", objects=frozenset({"invoice", "credit_note", "quote", "charge", "payment_intent"}), not_under=_seg("payment_method_details", "next_action")),
    Rule("free_text", "human-readable messages about errors and verifications", doc=r"human-readable (?:message|description)|informative message|user-displayable"),
    Rule("free_text", "references shown to the payer or typed by them", name=r"reference|payment_code|confirmation_number|number|entity|order_reference|client_reference_id|merchant_reference|subscription_reference|order_id|tracking_number|shipping_tracking_number|flight_number|travel_agency|case_id|receipt_number|terminal_id"),
    Rule("free_text", "file names chosen by whoever uploaded the file", name=r"filename"),
    Rule("free_text", "HTTP header values of forwarded requests", name=r"value", objects=frozenset({"forwarding.request"})),
    # -- safe ----------------------------------------------------------------------------------
    Rule("safe", "enums, numbers, booleans", kinds=frozenset({"enum", "bool", "int", "float", "decimal"})),
    Rule("safe", "references to other objects, named after their type", refs=True),
    Rule("safe", "ids and references to other objects", doc=_ID_DOC),
    Rule("safe", "ids of objects the SDK does not model as types", name=r"customer_account|on_behalf_of|connected_account|invoice_item|invoice_line_item|invoice_line_items|parent|user|transaction_refresh|inquiry|resource|ownership|performance_location|object"),
    Rule("safe", "card network, terminal and wire processing codes", name=r"network_transaction_id|terminal_verification_results|transaction_status_information|pos_entry_mode|chips|imad|omad|suggested_decision_version|acquirer_bin|acquirer_merchant_id|requestor_id|service_user_number|app_id|verification_flow"),
    Rule("safe", "tax jurisdictions: ISO 3166-2 subdivision codes", name=r"state|province", doc=r"ISO 3166-2|jurisdiction"),
    Rule("safe", "registrars of company ids (a court, not the number)", name=r"registrar|tax_id_registrar"),
    Rule("safe", "file ids (the files themselves need the API key)", name=r"files|front|back|additional_files|payment_flow_file|document|selfie|file|icon|logo|ca_certificate_file|client_certificate_file|private_key_file"),
    Rule("safe", "currencies and country codes", name=r"\w*currency|\w*currencies|\w*country|\w*countries|country_code"),
    Rule("safe", "statuses, types, reasons and codes", name=r"status|\w*_status|type|\w*_type|\w*_types|reason|\w*_reason|code|\w*_code|\w*_check|risk_level|outcome|network|networks|preferred|available|brand|\w*_brand|brand_product|funding|issuer|method|\w*_method|\w*_methods|flow|usage|action|category|\w*_category|\w*_categories|mcc|eci|\w*_indicator|wallet|unit|interval|provider|jurisdiction|level|\w*_report|\w*_display|\w*_group|\w*_anchor|\w*_agreement|\w*_class|service_type|payments_pricing|three_d_secure|\w*_score|cb_exemption"),
    Rule("safe", "dates and times written as strings", doc=r"YYYY-MM-DD|ISO 8601|RFC ?3339|epoch|HH:MM|date string|time at which|timestamp|^the (?:\w+ )?time\b|creation time|\bdate\b"),
    Rule("safe", "locales and languages", name=r"locale|locales|preferred_locale|preferred_locales|language|preferred_language|timezone"),
    Rule("safe", "names of banks, networks and institutions", name=r"bank_name|bank|institution_name|sender_bank|sender_branch|branch_name|token_requestor_name|application_preferred_name|dedicated_file_name|carrier|merchant_name"),
    Rule("safe", "names and labels of the merchant's own catalog and configuration", name=r"name|nickname|display_name|display_name_kana|display_name_kanji|lookup_key|label|alias|unit_label|event_name|title|key|prefix|invoice_prefix|reference_prefix|pay_later_name|pay_now_name|pay_over_time_name|product_name|unit_of_measure|page_title|submit_button|skip_button|\w*_color|font_family|domain_name|ssid|event_payload_key"),
    Rule("safe", "statement descriptors set by the merchant", name=r"\w*statement_descriptor\w*|descriptor"),
    Rule("safe", "URLs the merchant configured or publishes, and Stripe's docs and dashboard links", name=r"url|return_url|success_url|cancel_url|refresh_url|default_return_url|terms_of_service_url|privacy_policy_url|specified_commercial_transactions_act_url|info_url|image_url|images|logo_url|background_image_url|product_url|\w*_asset_urls_\w+|connect_src|image_src|endpoints_granted|endpoints_pending|doc_url|request_log_url"),
    Rule("safe", "requirement and field lists, permissions", name=r"currently_due|eventually_due|past_due|pending_verification|alternative_fields_due|original_fields_due|requirement|minimum|additional|missing_fields|field|columns|default_columns|fields|param|permissions_granted|permissions_pending"),
    Rule("safe", "API versions and event routing", name=r"api_version|snapshot_api_version|enabled_events|events_from|context|snapshot_event|aws_\w+|azure_\w+"),
    Rule("safe", "numbers written as strings: decimal amounts, quantities, percentages", name=r"\w*_decimal|\w*amount\w*|metric_tons|percentage"),
)
