"""The `redaction:` section of a profile.

    redaction:
      unknown_fields: mask                 # a string field the field table does not know: mask | detect
      metadata_keep: [booking_id]          # metadata values kept under these keys (still scanned)
      actions: {email: pseudonymize}       # per class: remove | mask | last4 | pseudonymize | keep
      fields: {customer.description: keep} # per field (`object.path`, `*.path` for any object)
      detectors: {phone: false}            # value detectors for free text and unknown strings

Every class but `safe` is masked by default in both modes (secrets are removed). The classes are
those of the field table generated from Stripe's own type definitions; see `CLASSES`.
`redaction: off` (a plain string, handled by the profile) turns everything off: diagnostics only.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mcp_guard.redaction._classes import ALL, CLASSES

# `customer.address.line1`, `*.description`, `event.data.object`: an object type (or *), then keys.
_FIELD = re.compile(r"^(?:\*|[a-z0-9_]+(?:\.[a-z0-9_]+)*?)\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$")
_METADATA_KEY = re.compile(r"^[^\[\]'\"\s]{1,40}$")


class Action(str, Enum):
    """What happens to a value of a class (or a field)."""

    REMOVE = "remove"  # drop the key (a hit inside text is masked instead)
    MASK = "mask"  # `[redacted:<class>]`; containers are masked leaf by leaf, keys kept
    LAST4 = "last4"  # `[redacted:<class>:...1234]`; values of 4 characters or fewer are kept
    PSEUDONYMIZE = "pseudonymize"  # `[pseudonym:<class>:<keyed hash>]`, stable per installation
    KEEP = "keep"  # pass the value unchanged


class UnknownFields(str, Enum):
    MASK = "mask"
    DETECT = "detect"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectorSettings(_Strict):
    """Value detectors: run on free text that is kept, unknown strings (`detect`), and everything outside Stripe objects."""

    secret: bool = Field(True, description="Stripe secrets: sk_/rk_/ek_ keys, whsec_, `..._secret_...` client secrets.")
    card_number: bool = Field(True, description="13-19 digit Luhn-valid card numbers (contiguous or grouped by spaces/dashes).")
    email: bool = Field(True, description="Email addresses.")
    phone: bool = Field(True, description="Phone numbers: `+` international numbers and US-formatted numbers.")
    iban: bool = Field(True, description="IBANs: country code, check digits, mod-97 valid.")
    ip_address: bool = Field(True, description="IPv4 and IPv6 addresses.")


class RedactionSettings(_Strict):
    """A profile's redaction: Stripe's field table classifies every field; this says what each class gets."""

    unknown_fields: UnknownFields | None = Field(
        None,
        description=(
            "A string in a field the field table does not know (a newer API version, a private preview): "
            "`mask` replaces it with `[redacted:unknown]`, `detect` passes it through the value detectors. "
            "Numbers, booleans and Stripe ids stay either way. Omitted: `mask` in live mode, `detect` in test mode."
        ),
    )
    metadata_keep: list[str] = Field(
        default_factory=list,
        description=(
            "Metadata keys whose values reach the client (e.g. `booking_id` for debugging by booking). "
            "Their values still pass the detectors and the session's learned values. Other metadata values are masked."
        ),
    )
    actions: dict[str, Action] = Field(
        default_factory=dict,
        description=(
            "Action per redaction class: remove, mask, last4, pseudonymize or keep, e.g. "
            "`{email: pseudonymize, business_contact: keep}`. Defaults: `remove` for `secret`, `mask` for every "
            f"other class. Classes: {', '.join(sorted(ALL - {'safe'}))}."
        ),
    )
    fields: dict[str, Action] = Field(
        default_factory=dict,
        description=(
            "Action per field, winning over `actions`: `object.path` with dots between keys (list elements "
            "and map values need no marker), `*.path` for any object type, e.g. `{customer.description: keep, "
            "'*.statement_descriptor': mask}`. `mask` on a safe or unknown field masks it."
        ),
    )
    detectors: DetectorSettings = Field(default_factory=DetectorSettings, description="Which value detectors run.")
    learn_values: bool = Field(
        True,
        description=(
            "Remember, for this session only and in memory only, each value a field rule redacts (a name, an "
            "email, a street line...) and mask it wherever else it appears: free text, error messages, later results."
        ),
    )

    @field_validator("actions")
    @classmethod
    def _known_classes(cls, value: dict[str, Action]) -> dict[str, Action]:
        unknown = sorted(set(value) - ALL)
        if unknown:
            raise ValueError(f"actions: unknown class(es) {', '.join(unknown)}; known: {', '.join(sorted(ALL))}")
        return value

    @field_validator("fields")
    @classmethod
    def _field_paths(cls, value: dict[str, Action]) -> dict[str, Action]:
        for path in value:
            if not _FIELD.match(path):
                raise ValueError(f"fields: {path!r} is not `object.path` (e.g. customer.address.line1 or *.description)")
        return value

    @field_validator("metadata_keep")
    @classmethod
    def _metadata_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not _METADATA_KEY.match(key):
                raise ValueError(f"metadata_keep: {key!r} is not a metadata key (1-40 characters, no quotes, brackets or spaces)")
        return value

    def unknown_action(self, mode: Literal["test", "live"] | str) -> UnknownFields:
        if self.unknown_fields is not None:
            return self.unknown_fields
        return UnknownFields.MASK if mode == "live" else UnknownFields.DETECT

    def action_for(self, cls: str) -> Action:
        return self.actions.get(cls) or (Action.REMOVE if cls == "secret" else Action.MASK)


__all__ = ["CLASSES", "Action", "DetectorSettings", "RedactionSettings", "UnknownFields"]
