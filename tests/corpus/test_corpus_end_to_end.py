"""The generated corpus through `mcp-guard run`: no planted value reaches the client or the audit
files in either profile, and every id, amount, status and timestamp is byte-identical to an
unredacted control run.

The corpus (tests/corpus/build.py) plants a distinctive value in every sensitive field of every
object type the field table knows, as plain objects, list and search pages, events (data.object
and data.previous_attributes) and expansions inside other objects; tests/upstreams/corpus_server.py
serves it as Stripe's hosted server would.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.corpus.build import Corpus, build
from tests.relay.harness import sdk_session, text_of, write_config

pytestmark = pytest.mark.anyio

CORPUS_SERVER = Path(__file__).resolve().parents[1] / "upstreams" / "corpus_server.py"
LIVE_KEY = "rk_live_51FAKEmcpGuardRestrictedKey00000000000000000000"
READ_ONLY = {"allowed_operations": ["read", "list", "search"], "blocked_operations": ["create", "update", "delete"]}


def profile(mode: str, audit: Path, *, redaction: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {**READ_ONLY, "mode": mode, "audit": {"dir": str(audit), "retention_days": 30}}
    if mode == "live":
        body["api_key"] = LIVE_KEY
    if redaction is not None:
        body["redaction"] = redaction
    return body


def prepare(tmp: Path, corpus: Corpus, mode: str, *, redaction: Any = None) -> tuple[Path, Path]:
    """A config for one profile auditing under `tmp`, and the corpus file the server reads."""
    tmp.mkdir()
    corpus_file = tmp / "corpus.json"
    corpus_file.write_text(json.dumps(corpus.payloads))
    return write_config(tmp, profile=profile(mode, tmp / "audit", redaction=redaction)), corpus_file


async def serve_corpus(config: Path, corpus_file: Path, corpus: Corpus) -> dict[str, str]:
    """Every corpus operation through `mcp-guard run`: operation id -> the text the client got."""
    texts: dict[str, str] = {}
    async with sdk_session(config, [sys.executable, str(CORPUS_SERVER), "--corpus", str(corpus_file)]) as session:
        for operation in corpus.payloads:
            result = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": operation, "parameters": {}})
            assert result.is_error is not True, f"{operation}: {text_of(result)[:300]}"
            texts[operation] = text_of(result)
    return texts


def at(value: Any, path: tuple[Any, ...]) -> Any:
    for segment in path:
        value = value[segment]
    return value


def audit_text(directory: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(directory.rglob("*")) if path.is_file())


@pytest.mark.parametrize("mode", ["test", "live"])
async def test_no_planted_value_reaches_the_client_or_the_audit_and_survivors_are_byte_identical(tmp_path: Path, mode: str) -> None:
    corpus = build(livemode=mode == "live")
    guarded = prepare(tmp_path / "guarded", corpus, mode)
    unredacted = prepare(tmp_path / "control", corpus, mode, redaction="off")
    with anyio.fail_after(300):
        redacted = await serve_corpus(*guarded, corpus)
        control = await serve_corpus(*unredacted, corpus)

    control_leaks = set().union(*(corpus.leaks(text) for text in control.values()))
    assert len(control_leaks) == len({v.split("-", 1)[0] for v in corpus.planted_text}) + len(corpus.planted_numbers), \
        "control: every planted value must reach an unredacted client"

    leaks = {operation: sorted(corpus.leaks(text))[:5] for operation, text in redacted.items() if corpus.leaks(text)}
    assert leaks == {}, f"planted values reached the client in {mode} mode"
    assert corpus.leaks(audit_text(tmp_path / "guarded" / "audit")) == set()

    parsed = {operation: json.loads(text) for operation, text in redacted.items()}
    reference = {operation: json.loads(text) for operation, text in control.items()}
    changed = []
    for operation, path, value in corpus.survivors:
        got = json.dumps(at(parsed[operation], path))
        if got != json.dumps(at(reference[operation], path)) or got != json.dumps(value):
            changed.append((operation, path, value, got))
    assert changed == [], f"{len(changed)} ids, amounts, statuses or timestamps changed, e.g. {changed[:3]}"
    assert len(corpus.survivors) > 30_000 and len(corpus.types) >= 150
