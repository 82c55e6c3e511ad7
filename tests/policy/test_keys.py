"""Key binding: a key must fit its profile's mode; fingerprints never show the key."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_guard.config import GuardConfig, Profile, UpstreamConfig
from mcp_guard.errors import KeyBindingError
from mcp_guard.keys import KeyKind, check_key_binding, find_upstream_keys, key_fingerprint, key_kind

# Made-up keys shaped like Stripe's; none is real.
SK_TEST = "sk_test_4eC39HqLyjWDarjtT1zdp7dcFAKE"
RK_TEST = "rk_test_51HfakeRestrictedKey0000FAKE"
SK_LIVE = "sk_live_51HfakeUnrestrictedKey000FAKE"
RK_LIVE = "rk_live_51HfakeRestrictedLiveKey00FAKE"
PK_TEST = "pk_test_TYooMQauvdEDq54NiTphI7jxFAKE"
PK_LIVE = "pk_live_51HfakePublishableKey0000FAKE"


def profile(mode: str, **fields: Any) -> Profile:
    body = {"mode": mode, "audit": {"dir": "/tmp/a"}, **fields}
    return GuardConfig.model_validate({"profiles": {mode: body}}).profiles[mode]


@pytest.mark.parametrize("key", [SK_TEST, RK_TEST])
def test_a_test_profile_accepts_test_keys(key: str) -> None:
    check_key_binding(profile("test"), key, where="profiles.test.api_key")


@pytest.mark.parametrize("key", [SK_LIVE, RK_LIVE])
def test_a_test_profile_refuses_live_keys(key: str) -> None:
    with pytest.raises(KeyBindingError, match=r"profiles\.test\.api_key: .*live key.*mode test"):
        check_key_binding(profile("test"), key, where="profiles.test.api_key")


@pytest.mark.parametrize("key", [SK_TEST, RK_TEST])
def test_a_live_profile_refuses_test_keys(key: str) -> None:
    with pytest.raises(KeyBindingError, match="test key"):
        check_key_binding(profile("live"), key, where="upstream.env.STRIPE_SECRET_KEY")


def test_a_live_profile_accepts_a_restricted_live_key() -> None:
    check_key_binding(profile("live"), RK_LIVE, where="profiles.live.api_key")


def test_a_live_profile_refuses_an_unrestricted_live_key_by_default() -> None:
    with pytest.raises(KeyBindingError, match="allow_unrestricted_live_key"):
        check_key_binding(profile("live"), SK_LIVE, where="profiles.live.api_key")


def test_a_live_profile_accepts_an_unrestricted_key_only_when_it_says_so() -> None:
    check_key_binding(profile("live", allow_unrestricted_live_key=True), SK_LIVE, where="profiles.live.api_key")


@pytest.mark.parametrize(("mode", "key"), [("test", PK_TEST), ("live", PK_LIVE)])
def test_publishable_keys_are_refused(mode: str, key: str) -> None:
    with pytest.raises(KeyBindingError, match="publishable"):
        check_key_binding(profile(mode), key, where="k")


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("garbage", "not a Stripe secret or restricted key"),
        ("sk_test_", "sk_test_ key is truncated: 0 characters after the prefix"),
        ("rk_live_short", "rk_live_ key is truncated: 5 characters after the prefix"),
        ("sk_prod_4eC39HqLyjWDarjtT1zdp7dc", "mode is missing or misspelled"),
        (" " + SK_TEST, "leading or trailing whitespace"),
        (SK_TEST + "\n", "leading or trailing whitespace"),
        ("sk_test_4eC39Hq Lyj4eC39", "characters Stripe keys never have"),
        ("whsec_4eC39HqLyjWDarjtT1zdp7dc", "webhook secret or an ephemeral key"),
    ],
)
def test_a_malformed_key_is_refused_with_what_is_wrong_and_never_the_key(key: str, says: str) -> None:
    with pytest.raises(KeyBindingError) as info:
        check_key_binding(profile("test"), key, where="profiles.test.api_key (from $STRIPE_TEST_KEY)")
    message = str(info.value)
    assert message.startswith("profiles.test.api_key (from $STRIPE_TEST_KEY): ") and says in message
    assert len(key.strip()) <= len("sk_test_") or key.strip() not in message


def test_no_key_is_accepted() -> None:
    check_key_binding(profile("live"), None, where="profiles.live.api_key")
    check_key_binding(profile("live"), "", where="profiles.live.api_key")


@pytest.mark.parametrize("key", [SK_TEST, SK_LIVE, RK_LIVE, PK_LIVE, "garbage-secret-value"])
def test_errors_and_fingerprints_never_contain_the_key(key: str) -> None:
    for mode in ("test", "live"):
        try:
            check_key_binding(profile(mode), key, where="w")
        except KeyBindingError as exc:
            assert key not in str(exc)
            assert key[8:-4] not in str(exc)
    assert key not in key_fingerprint(key)


def test_a_fingerprint_shows_the_kind_the_last_four_and_a_stable_short_hash() -> None:
    fingerprint = key_fingerprint(SK_TEST)
    assert fingerprint.startswith("sk_test_…FAKE sha256:")
    assert fingerprint == key_fingerprint(SK_TEST)
    assert fingerprint != key_fingerprint(SK_TEST[:-1] + "X")


def test_key_kinds() -> None:
    assert key_kind(RK_LIVE) is KeyKind.RESTRICTED_LIVE
    assert KeyKind.RESTRICTED_LIVE.restricted and KeyKind.SECRET_LIVE.mode.value == "live"
    assert key_kind("nope") is KeyKind.UNKNOWN


def test_keys_carried_by_an_upstream_are_found() -> None:
    upstream = UpstreamConfig(
        command="npx", args=["-y", "@stripe/mcp", f"--api-key={SK_LIVE}"], env={"STRIPE_SECRET_KEY": RK_TEST}
    )
    found = dict(find_upstream_keys(upstream, "upstream"))
    assert found == {"upstream.env.STRIPE_SECRET_KEY": RK_TEST, "upstream.args[2]": SK_LIVE}
    hosted = UpstreamConfig(url="https://mcp.stripe.com", headers={"Authorization": f"Bearer {RK_LIVE}"})
    assert dict(find_upstream_keys(hosted, "upstream")) == {"upstream.headers.Authorization": RK_LIVE}
