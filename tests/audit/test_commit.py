"""GroupCommitter: records that finish together share a write, and each caller waits for its own."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import anyio
import pytest

from mcp_guard.audit import AuditSettings, GroupCommitter, open_audit_log, verify_audit_dir
from mcp_guard.errors import AuditError

pytestmark = pytest.mark.anyio

OFFLOAD = pytest.mark.parametrize("offload", [False, True], ids=["inline", "worker-thread"])


def _request_ids(directory: Path) -> list[int]:
    return [json.loads(line)["request_id"] for path in sorted(directory.glob("audit-*.jsonl")) for line in path.read_text().splitlines()]


@OFFLOAD
async def test_eight_concurrent_producers_get_every_record_written_in_fewer_writes(tmp_path, make_record, offload):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=offload)

        async def produce(producer: int) -> None:
            for index in range(50):
                await committer.commit(make_record(request_id=producer * 1000 + index))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for producer in range(8):
                    tg.start_soon(produce, producer)
            await committer.aclose()
    ids = _request_ids(tmp_path)
    assert sorted(ids) == sorted(p * 1000 + i for p in range(8) for i in range(50))
    for producer in range(8):  # each producer's records in the order it committed them
        assert [i for i in ids if i // 1000 == producer] == [producer * 1000 + i for i in range(50)]
    report = verify_audit_dir(tmp_path)
    assert report.ok and report.records == 400
    assert committer.batches <= 400 // 4, "records that finish together should share a write"


@OFFLOAD
async def test_records_committed_in_the_same_loop_turn_share_one_write(tmp_path, make_record, offload):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=offload)
        with anyio.fail_after(30):
            await asyncio.gather(*(committer.commit(make_record(request_id=index)) for index in range(20)))
            await committer.aclose()
    assert committer.batches == 1
    assert _request_ids(tmp_path) == list(range(20))


@OFFLOAD
async def test_commit_returns_only_once_the_record_is_in_the_file(tmp_path, make_record, offload):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=offload)
        with anyio.fail_after(30):
            for index in range(5):
                await committer.commit(make_record(request_id=index))
                assert _request_ids(tmp_path)[-1] == index
            await committer.aclose()


async def test_records_submitted_while_a_write_is_in_flight_go_out_together_next(tmp_path, make_record):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        entered, release = threading.Event(), threading.Event()
        sizes: list[int] = []
        real_write_batch = log.write_batch

        def slow_first_batch(records):  # runs on the worker thread
            sizes.append(len(records))
            if len(sizes) == 1:
                entered.set()
                release.wait(30)
            return real_write_batch(records)

        log.write_batch = slow_first_batch  # type: ignore[method-assign]
        committer = GroupCommitter(log, offload=True)
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(committer.commit, make_record(request_id=0))
                await anyio.to_thread.run_sync(entered.wait)
                for index in range(1, 6):
                    tg.start_soon(committer.commit, make_record(request_id=index))
                await anyio.wait_all_tasks_blocked()
                release.set()
            await committer.aclose()
    assert sizes == [1, 5]
    assert _request_ids(tmp_path) == list(range(6))


@OFFLOAD
async def test_a_failed_write_fails_every_caller_of_the_batch(tmp_path, make_record, offload):
    directory = tmp_path / "audit"
    with open_audit_log(AuditSettings(dir=directory), "test") as log:
        committer = GroupCommitter(log, offload=offload)
        await committer.commit(make_record())
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()
        with anyio.fail_after(30):
            results = await asyncio.gather(*(committer.commit(make_record()) for _ in range(3)), return_exceptions=True)
            await committer.aclose()
    assert all(isinstance(result, AuditError) and str(directory) in str(result) for result in results)
    assert len({id(result) for result in results}) == 3  # each caller raises its own exception


@OFFLOAD
async def test_a_record_that_cannot_be_encoded_fails_alone_and_the_rest_are_written(tmp_path, make_record, start, offload):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=offload)
        records = [make_record(request_id=index) for index in range(5)]
        records[2] = make_record(request_id=2, ts=start.replace(tzinfo=None))  # naive: cannot be encoded
        with anyio.fail_after(30):
            results = await asyncio.gather(*(committer.commit(record) for record in records), return_exceptions=True)
            await committer.aclose()
    assert [result is None for result in results] == [True, True, False, True, True]
    assert "cannot be encoded" in str(results[2])
    assert _request_ids(tmp_path) == [0, 1, 3, 4]
    assert verify_audit_dir(tmp_path).ok


@OFFLOAD
async def test_a_cancelled_caller_still_gets_its_record_written(tmp_path, make_record, offload):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=offload)
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(committer.commit, make_record(request_id=1))
                tg.cancel_scope.cancel()  # before the batch is written
            await committer.aclose()
    assert _request_ids(tmp_path) == [1]


async def test_close_waits_for_the_writes_in_flight_and_stops_the_worker_thread(tmp_path, make_record):
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        committer = GroupCommitter(log, offload=True)
        with anyio.fail_after(30):
            pending = [asyncio.ensure_future(committer.commit(make_record(request_id=index))) for index in range(10)]
            await anyio.wait_all_tasks_blocked()  # every commit is queued and waiting for its answer
            await committer.aclose()
            assert all(task.done() and task.exception() is None for task in pending)
        assert not [t for t in threading.enumerate() if t.name == "mcp-guard-audit-writer"]
        with pytest.raises(AuditError, match="closed"):
            await committer.commit(make_record())
    assert _request_ids(tmp_path) == list(range(10))


def test_the_write_runs_in_a_worker_thread_by_default_only_with_fsync(tmp_path):
    with open_audit_log(AuditSettings(dir=tmp_path / "a"), "test") as log:
        assert GroupCommitter(log).offload is False
    with open_audit_log(AuditSettings(dir=tmp_path / "b", fsync=True), "test") as log:
        assert GroupCommitter(log).offload is True
