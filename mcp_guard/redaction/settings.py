"""The `redaction:` section of a profile.

    redaction:
      base: mode                     # start from the profile mode's default rules (test or live)
      disable: [description]         # turn default rules off by name
      actions: {email: pseudonymize} # per class: remove | mask | last4 | pseudonymize
      rules:                         # add rules (a rule with a default's name replaces it)
        - {field: nickname, objects: [price], category: name}
        - {field: tos_acceptance.date, category: ip_address, action: remove}
      detectors: {phone: false}

`redaction: off` (a plain string, handled by the profile) turns everything off: diagnostics only.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# A field spec: keys separated by dots, `[]` after a key for "any element of this list".
_SEGMENT = r"[A-Za-z0-9_\-]+(?:\[\])?"
_FIELD_SPEC = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]+$")


class Action(str, Enum):
    """What a rule does to a value it matches."""

    REMOVE = "remove"  # drop the key (a detector hit inside text is masked instead)
    MASK = "mask"  # `[redacted:<class>]`; containers are masked leaf by leaf, keys kept
    LAST4 = "last4"  # `[redacted:<class>:...1234]`; values of 4 characters or fewer are kept
    PSEUDONYMIZE = "pseudonymize"  # `[pseudonym:<class>:<keyed hash>]`, stable per installation


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRule(_Strict):
    """One field rule: which key (and where) holds data of which class, and what to do."""

    field: str = Field(
        description=(
            "The key to match, optionally with the keys above it, dot-separated, `[]` marking a "
            "list element: `email`, `tos_acceptance.ip`, `customer_tax_ids[].value`. The "
            "ancestors must be the nearest ones (a suffix of the path)."
        )
    )
    category: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Redaction class named in markers and counts, e.g. `email`, `name`, `bank_account`.",
    )
    objects: list[str] | None = Field(
        None,
        description=(
            "Stripe object types (the nearest enclosing `object` value, e.g. `customer`, "
            "`issuing.cardholder`) the rule is limited to; omitted: any Stripe object."
        ),
    )
    action: Action | None = Field(
        None, description="What to do; omitted: the class's entry in `actions`, else `mask`."
    )
    anywhere: bool = Field(
        False,
        description=(
            "Also match outside Stripe objects (MCP envelopes), on scalar values only. Off by "
            "default so that tool `name`/`description` and schema properties survive."
        ),
    )
    name: str | None = Field(
        None,
        description="Rule name used by `disable` and in replacing a default; omitted: the field spec.",
    )

    @field_validator("field")
    @classmethod
    def _field_spec(cls, value: str) -> str:
        if not _FIELD_SPEC.match(value) or value.endswith("[]"):
            raise ValueError(f"field {value!r}: use keys separated by dots, `[]` after a list key, ending in a key")
        return value

    @property
    def rule_name(self) -> str:
        return self.name or self.field


class DetectorSettings(_Strict):
    """Value detectors run on every string (and dict key) the field rules left alone."""

    secret: bool = Field(True, description="Stripe secrets: sk_/rk_/ek_ keys, whsec_, `..._secret_...` client secrets.")
    card_number: bool = Field(True, description="13-19 digit Luhn-valid card numbers (contiguous or grouped by spaces/dashes).")
    email: bool = Field(True, description="Email addresses.")
    phone: bool = Field(True, description="Phone numbers: `+` international numbers and US-formatted numbers.")
    iban: bool = Field(True, description="IBANs: country code, check digits, mod-97 valid.")


class RedactionSettings(_Strict):
    """A profile's redaction rules: a built-in base set plus the profile's changes."""

    base: Literal["mode", "test", "live"] = Field(
        "mode",
        description=(
            "Built-in rule set to start from: `mode` uses the profile's mode; `test` covers "
            "secrets, contact PII and card/bank data; `live` adds metadata, description, "
            "hosted_invoice_url, invoice_pdf and receipt_url."
        ),
    )
    disable: list[str] = Field(
        default_factory=list, description="Names of built-in rules to turn off (the field spec, e.g. `description`, `tos_acceptance.ip`)."
    )
    rules: list[FieldRule] = Field(
        default_factory=list, description="Extra field rules; one named like a built-in rule replaces it."
    )
    actions: dict[str, Action] = Field(
        default_factory=dict,
        description=(
            "Action per redaction class for built-in rules and detectors, e.g. "
            "`{email: pseudonymize, card: last4}`. A rule's own `action` wins."
        ),
    )
    detectors: DetectorSettings = Field(default_factory=DetectorSettings, description="Which value detectors run.")

    @model_validator(mode="after")
    def _known_names(self) -> RedactionSettings:
        from mcp_guard.redaction._rules import default_rule_names  # late: _rules imports this module

        known = default_rule_names()
        unknown = [name for name in self.disable if name not in known]
        if unknown:
            raise ValueError(f"disable: unknown rule name(s) {', '.join(sorted(unknown))}")
        for rule in self.rules:
            if not _NAME.match(rule.rule_name):
                raise ValueError(f"rule name {rule.rule_name!r}: use lower-case letters, digits, _ . - []")
        return self
