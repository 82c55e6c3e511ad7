"""Bind a Stripe API key to a profile's mode. Pure; no I/O.

A test profile refuses live keys; a live profile refuses test keys and, unless the profile sets
`allow_unrestricted_live_key: true`, the unrestricted `sk_live_` secret key (a restricted
`rk_live_` key is the default). Publishable `pk_` keys and anything not shaped like a Stripe key
are refused. Messages name where the key came from and its fingerprint, never the key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import Protocol

from mcp_guard.errors import KeyBindingError
from mcp_guard.mode import Mode


class KeyScope(Protocol):
    """What a key is checked against: a profile (`config.Profile`), before or after validation."""

    @property
    def name(self) -> str: ...
    @property
    def mode(self) -> Mode: ...
    @property
    def allow_unrestricted_live_key(self) -> bool: ...


class KeyCarrier(Protocol):
    """Where an upstream's own config can carry a key (`config.UpstreamConfig`)."""

    @property
    def env(self) -> Mapping[str, str]: ...
    @property
    def args(self) -> Sequence[str]: ...
    @property
    def headers(self) -> Mapping[str, str]: ...

_KEY = re.compile(r"^(sk|rk|pk)_(test|live)_[A-Za-z0-9_]{8,}$")
# Environment variables and arguments through which an upstream can receive a key.
KEY_ENV_VARS = ("STRIPE_SECRET_KEY", "STRIPE_API_KEY")


class KeyKind(str, Enum):
    SECRET_TEST = "sk_test"
    SECRET_LIVE = "sk_live"
    RESTRICTED_TEST = "rk_test"
    RESTRICTED_LIVE = "rk_live"
    PUBLISHABLE_TEST = "pk_test"
    PUBLISHABLE_LIVE = "pk_live"
    UNKNOWN = "unknown"

    @property
    def mode(self) -> Mode | None:
        if self is KeyKind.UNKNOWN:
            return None
        return Mode.LIVE if self.value.endswith("live") else Mode.TEST

    @property
    def restricted(self) -> bool:
        return self.value.startswith("rk")

    @property
    def publishable(self) -> bool:
        return self.value.startswith("pk")


def key_kind(key: str) -> KeyKind:
    match = _KEY.fullmatch(key.strip()) if isinstance(key, str) else None
    if match is None or key != key.strip():
        return KeyKind.UNKNOWN
    return KeyKind(f"{match.group(1)}_{match.group(2)}")


_PREFIX = re.compile(r"^(sk|rk|pk)_(test|live)_")
MIN_KEY_BODY = 8  # Stripe's keys carry dozens of characters after the prefix; fewer is a truncated paste


def describe_malformed(key: str) -> str:
    """What is wrong with a value that is not a Stripe key, without repeating the value."""
    if key != key.strip():
        return "the key has leading or trailing whitespace (a copy-paste slip?); remove it"
    prefix = _PREFIX.match(key)
    if prefix is None:
        if key.startswith(("whsec_", "ek_")):
            return "this is a webhook secret or an ephemeral key, not an API key; use an sk_ or rk_ key"
        if re.match(r"^(sk|rk|pk)_", key):
            return "the key's mode is missing or misspelled: it must start with sk_test_, rk_test_, sk_live_ or rk_live_"
        return "not a Stripe secret or restricted key (expected sk_test_, rk_test_, sk_live_ or rk_live_)"
    body = key[prefix.end():]
    if len(body) < MIN_KEY_BODY:
        return f"{prefix.group(0)} key is truncated: {len(body)} characters after the prefix, Stripe's keys have dozens"
    bad = sorted({ch for ch in body if not (ch.isascii() and (ch.isalnum() or ch == "_"))})
    if bad:
        return f"{prefix.group(0)} key holds characters Stripe keys never have ({len(bad)} kind(s), e.g. quotes or spaces)"
    return "not a Stripe secret or restricted key (expected sk_test_, rk_test_, sk_live_ or rk_live_)"


def key_fingerprint(key: str) -> str:
    """`sk_test_…FAKE sha256:0c1d2e3f`: the type, the last 4 (as Stripe's dashboard shows) and a short hash."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    kind = key_kind(key)
    if kind is KeyKind.UNKNOWN:
        return f"unrecognised key sha256:{digest}"
    return f"{kind.value}_…{key[-4:]} sha256:{digest}"


def check_key_binding(profile: KeyScope, key: str | None, *, where: str) -> None:
    """Raise KeyBindingError unless `key` may run under `profile`. No key at all is accepted."""
    if key is None or key == "":
        return
    kind = key_kind(key)
    name = profile.name
    if kind is KeyKind.UNKNOWN:
        raise KeyBindingError(f"{where}: {describe_malformed(key)}")
    shown = key_fingerprint(key)
    if kind.publishable:
        raise KeyBindingError(f"{where}: {shown} is a publishable key; the upstream needs a restricted (rk_) or secret (sk_) key")
    key_mode = kind.mode
    assert key_mode is not None  # UNKNOWN was refused above
    if key_mode is not profile.mode:
        raise KeyBindingError(
            f"{where}: {shown} is a {key_mode.value} key but profile {name!r} has mode {profile.mode.value}; test and live never mix"
        )
    if profile.mode is Mode.LIVE and not kind.restricted and not profile.allow_unrestricted_live_key:
        raise KeyBindingError(
            f"{where}: {shown} is an unrestricted live secret key; use a restricted rk_live_ key with read permissions, "
            f"or set profiles.{name}.allow_unrestricted_live_key: true"
        )


def find_upstream_keys(upstream: KeyCarrier, where: str) -> Iterator[tuple[str, str]]:
    """(where, key) for every Stripe key an upstream config carries: env, `--api-key=`, bearer header."""
    for var in KEY_ENV_VARS:
        if upstream.env.get(var):
            yield f"{where}.env.{var}", upstream.env[var]
    for index, arg in enumerate(upstream.args):
        if arg.startswith("--api-key="):
            yield f"{where}.args[{index}]", arg.split("=", 1)[1]
    for header, value in upstream.headers.items():
        if header.casefold() == "authorization" and value.casefold().startswith("bearer "):
            yield f"{where}.headers.{header}", value[7:].strip()
