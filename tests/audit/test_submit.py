"""GroupCommitter.submit and flush: the relay's path, answers without a task per record."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mcp_guard.audit import AuditSettings, GroupCommitter, open_audit_log, verify_audit_dir

pytestmark = pytest.mark.anyio

OFFLOAD = pytest.mark.parametrize("offload", [False, True], ids=["inline", "worker-thread"])


def _request_ids(directory: Path) -> list[int]:
    return [json.loads(line)["request_id"] for path in sorted(directory.glob("audit-*.jsonl")) for line in path.read_text().splitlines()]


@OFFLOAD
async def test_records_submitted_in_one_turn_share_a_write_and_each_done_is_called_once_after_it(tmp_path, make_record, offload):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=offload)
        answered: list[tuple[int, str | None, int]] = []
        everything = asyncio.get_running_loop().create_future()

        def done_for(request_id: int):
            def done(problem: str | None) -> None:
                answered.append((request_id, problem, len(_request_ids(tmp_path))))  # how many lines exist by then
                if len(answered) == 8:
                    everything.set_result(None)

            return done

        for request_id in range(8):
            committer.submit(make_record(request_id=request_id), done_for(request_id))
        assert answered == []  # never before submit returns
        await asyncio.wait_for(everything, 10)
        await committer.aclose()
    assert [request_id for request_id, _, _ in answered] == list(range(8))
    assert all(problem is None and lines == 8 for _, problem, lines in answered)  # written before any is answered
    assert committer.batches == 1
    assert verify_audit_dir(tmp_path).ok


async def test_flush_writes_at_once_and_records_submitted_later_wait_for_the_next_write(tmp_path, make_record):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=False)
        answered: list[int] = []
        for request_id in (1, 2):
            committer.submit(make_record(request_id=request_id), lambda _problem, request_id=request_id: answered.append(request_id))
        committer.flush()
        assert answered == [1, 2] and _request_ids(tmp_path) == [1, 2]  # both in one write, now
        committer.submit(make_record(request_id=3), lambda _problem: answered.append(3))
        assert answered == [1, 2]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert answered == [1, 2, 3]
        await committer.aclose()
    assert committer.batches == 2
    assert verify_audit_dir(tmp_path).ok


async def test_a_closed_committer_answers_a_submitted_record_with_the_reason(tmp_path, make_record):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=False)
        await committer.aclose()
        problems: list[str | None] = []
        committer.submit(make_record(), problems.append)
        assert problems == []
        await asyncio.sleep(0)
    assert len(problems) == 1 and problems[0] is not None and "closed" in problems[0]
    assert _request_ids(tmp_path) == []
