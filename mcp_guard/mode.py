"""A profile's mode: which Stripe keys and which objects (`livemode`) it accepts."""

from __future__ import annotations

from enum import Enum


class Mode(str, Enum):
    TEST = "test"
    LIVE = "live"
