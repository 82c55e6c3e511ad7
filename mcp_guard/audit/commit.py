"""Group commit: the records of requests that finish together share one lock and one write.

    committer = GroupCommitter(log)          # on the event loop that serves requests
    await committer.commit(record)           # returns once the record is in the kernel (on disk with audit.fsync)
    await committer.aclose()                 # waits for what was submitted, stops the worker thread

`commit` queues the record and, when no batch is scheduled or in flight, schedules one with
`call_soon`, so every record submitted in the same event-loop turn joins it. While a batch is
being written, new records queue up and go out together as the next batch the moment it is done.
Each batch is one `AuditLog.write_batch`: chained in submission order, one flock, one os.write.

Where the write runs (`offload`):
- inline on the loop (the default without fsync): a batch of 8 small records costs ~0.1 ms of
  loop time, less than handing it to a thread and waking the loop again
  (benchmarks/audit_bench.py: inline is the faster of the two here);
- in one worker thread (the default with `audit.fsync`): an fsync takes milliseconds, which the
  loop spends serving other requests while the records of the next batch queue up.

A failure fails every record of the batch (nothing of it stays in the file), except a record that
cannot be encoded: that one fails alone and the rest are written. A caller cancelled while waiting
does not take its record back; it is written all the same.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence

from mcp_guard.audit.log import AuditLog, AuditRecordError
from mcp_guard.audit.record import AuditRecord
from mcp_guard.errors import AuditError

logger = logging.getLogger("mcp_guard")

MAX_BATCH = 256  # records per write: bounds how long one batch holds the directory's lock
_Entry = tuple[AuditRecord, asyncio.Future[None]]
_Results = list[str | None]  # per record: None, or why it was not written
_AnswerCallback = Callable[[Sequence[_Entry], _Results], None]


class GroupCommitter:
    """Batches `commit` calls from one event loop into `AuditLog.write_batch` calls."""

    def __init__(self, log: AuditLog, *, offload: bool | None = None, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.log = log
        self.offload = log.settings.fsync if offload is None else offload
        self._max_batch = max_batch
        self._queue: list[_Entry] = []  # inline mode: records waiting for the next batch
        self._busy = False  # inline mode: a batch is scheduled
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: _Worker | None = None
        self._outstanding = 0  # records submitted and not yet answered
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.batches = 0  # batches written (for benchmarks and tests)

    async def commit(self, record: AuditRecord) -> None:
        """Return once `record` is written; raise AuditError when it could not be."""
        if self._closed:
            raise AuditError(f"audit log {self.log.directory} is closed")
        loop = self._bind()
        done: asyncio.Future[None] = loop.create_future()
        self._outstanding += 1
        if self.offload:
            if self._worker is None:
                self._worker = _Worker(self.log, loop, self._answer, self._max_batch)
            self._worker.put((record, done))
        else:
            self._queue.append((record, done))
            if not self._busy:
                self._busy = True
                loop.call_soon(self._flush)
        await done

    async def aclose(self) -> None:
        """Wait until every submitted record is answered, then stop the worker thread. Idempotent."""
        self._closed = True
        if self._outstanding:
            waiter: asyncio.Future[None] = self._bind().create_future()
            self._idle_waiters.append(waiter)
            await asyncio.shield(waiter)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.put(None)
            await asyncio.to_thread(worker.join)

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a GroupCommitter serves one event loop")
        return loop

    def _flush(self) -> None:
        """Inline mode: write the queued records as one batch, on the loop."""
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        self._answer(batch, _write_safely(self.log, [record for record, _ in batch]))
        assert self._loop is not None
        # Deferred one turn: the callers just answered run first, and their next records join the next batch.
        self._loop.call_soon(self._next)

    def _next(self) -> None:
        if self._queue:
            self._flush()
        else:
            self._busy = False

    def _answer(self, batch: Sequence[_Entry], results: _Results) -> None:
        """Answer a written batch's callers (on the loop)."""
        self.batches += 1
        self._outstanding -= len(batch)
        for (_, done), problem in zip(batch, results, strict=True):
            if done.done():  # the caller was cancelled; its record was written all the same
                continue
            if problem is None:
                done.set_result(None)
            else:
                done.set_exception(AuditError(problem))  # one exception object per caller: no shared traceback
        if not self._outstanding:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)


def write_isolated(log: AuditLog, records: list[AuditRecord]) -> _Results:
    """Write `records` as one batch; a record that cannot be encoded fails alone, the rest are written in order."""
    try:
        log.write_batch(records)
    except AuditRecordError as exc:
        index = exc.index
        return [*write_isolated(log, records[:index]), str(exc), *write_isolated(log, records[index + 1 :])]
    except AuditError as exc:
        return [str(exc)] * len(records)
    return [None] * len(records)


def _write_safely(log: AuditLog, records: list[AuditRecord]) -> _Results:
    """`write_isolated`, and a bug fails the batch instead of leaving its callers waiting forever."""
    try:
        return write_isolated(log, records)
    except Exception as exc:  # fail closed: every caller gets an error, none hangs
        logger.exception("audit batch write failed unexpectedly")
        return [f"audit record not written (internal error: {exc})"] * len(records)


class _Worker:
    """One thread that takes every record queued so far as a batch, writes it, and answers on the loop.

    Records put while a batch is being written are the next batch, without a trip through the loop.
    """

    def __init__(self, log: AuditLog, loop: asyncio.AbstractEventLoop, answer: _AnswerCallback, max_batch: int) -> None:
        self._log = log
        self._loop = loop
        self._answer = answer
        self._max_batch = max_batch
        self._entries: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mcp-guard-audit-writer", daemon=True)
        self._thread.start()

    def put(self, entry: _Entry | None) -> None:
        """Queue a record; None stops the thread once everything before it is written."""
        self._entries.put(entry)

    def join(self) -> None:
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._entries.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    entry = self._entries.get_nowait()
                except queue.Empty:
                    break
                if entry is None:
                    stopping = True
                    break
                batch.append(entry)
            results = _write_safely(self._log, [record for record, _ in batch])
            try:
                self._loop.call_soon_threadsafe(self._answer, batch, results)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return
