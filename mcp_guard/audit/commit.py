"""Group commit: the records of requests that finish together share one lock and one write.

    committer = GroupCommitter(log)          # on the event loop that serves requests
    await committer.commit(record)           # returns once the record is in the kernel (on disk with audit.fsync)
    committer.submit(record, done)           # the same without a task: done(None) once written, done(reason) if not
    committer.flush()                        # write what is queued now: no more records are coming this turn
    await committer.aclose()                 # waits for what was submitted, stops the worker thread

`commit` and `submit` queue the record and, when no batch is scheduled or in flight, schedule one
with `call_soon`, so every record submitted in the same event-loop turn joins it. While a batch
is being written, new records queue up and go out together as the next batch the moment it is
done. Each batch is one `AuditLog.write_batch`: chained in submission order, one flock, one
os.write. `submit` lets the relay answer without a task (and a loop turn) per answer: the answer
goes out from `done`. A caller that knows nothing more will be submitted in this turn (the relay,
once it has read every answer the upstream has sent so far) calls `flush` to write at once rather
than at the end of the turn; the records submitted before it still share the write.

Where the write runs (`offload`):
- inline on the loop (the default without fsync): a batch of 8 small records costs ~0.1 ms of
  loop time, less than handing it to a thread and waking the loop again
  (benchmarks/audit_bench.py: inline is the faster of the two here);
- in one worker thread (the default with `audit.fsync`): an fsync takes milliseconds, which the
  loop spends serving other requests while the records of the next batch queue up. The records
  of one loop turn are handed to the thread together, so they share a batch here too.

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
from mcp_guard.audit.record import AuditRecord, Fields
from mcp_guard.errors import AuditError

logger = logging.getLogger("mcp_guard")

MAX_BATCH = 256  # records per write: bounds how long one batch holds the directory's lock
Done = Callable[[str | None], None]  # called once per record: None when written, else why not
_Entry = tuple[AuditRecord | Fields, Done]
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
        self._queue: list[_Entry] = []  # records of this loop turn (inline: waiting for the next batch)
        self._busy = False  # a batch (inline) or a hand-off to the worker thread is scheduled
        self._writing = False  # inline mode: a batch is being written (on the loop)
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: _Worker | None = None
        self._outstanding = 0  # records submitted and not yet answered
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.batches = 0  # batches written (for benchmarks and tests)

    async def commit(self, record: AuditRecord | Fields) -> None:
        """Return once `record` is written; raise AuditError when it could not be."""
        if self._closed:
            raise AuditError(f"audit log {self.log.directory} is closed")
        done: asyncio.Future[None] = self._bind().create_future()

        def settle(problem: str | None) -> None:
            if done.done():  # the caller was cancelled; its record was written all the same
                return
            if problem is None:
                done.set_result(None)
            else:
                done.set_exception(AuditError(problem))  # one exception object per caller: no shared traceback

        self.submit(record, settle)
        await done

    def submit(self, record: AuditRecord | Fields, done: Done) -> None:
        """Queue `record`; `done(None)` is called on the loop once it is written, `done(reason)` if it
        could not be. Never calls `done` before returning. Must be called on the serving loop."""
        loop = self._loop if self._loop is not None else self._bind()  # bound by the first call: no loop lookup per record
        if self._closed:
            loop.call_soon(done, f"audit log {self.log.directory} is closed")
            return
        self._outstanding += 1
        self._queue.append((record, done))
        if not self._busy:
            self._busy = True
            loop.call_soon(self._hand_off if self.offload else self._flush)

    async def aclose(self) -> None:
        """Wait until every submitted record is answered, then stop the worker thread. Idempotent."""
        self._closed = True
        if self._outstanding:
            waiter: asyncio.Future[None] = self._bind().create_future()
            self._idle_waiters.append(waiter)
            await asyncio.shield(waiter)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
            await asyncio.to_thread(worker.join)

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a GroupCommitter serves one event loop")
        return loop

    def _hand_off(self) -> None:
        """Offload mode: the records of the last loop turn go to the worker thread together."""
        entries, self._queue, self._busy = self._queue, [], False
        if self._worker is None:
            assert self._loop is not None
            self._worker = _Worker(self.log, self._loop, self._answer, self._max_batch)
        self._worker.put(entries)

    def flush(self) -> None:
        """Inline mode: write the records queued so far now instead of at the end of the loop turn."""
        if not self.offload and self._queue and not self._writing:
            self._write_queued()

    def _flush(self) -> None:
        """Inline mode: write the queued records as one batch, on the loop, then look again a turn later."""
        if not self._queue:  # written already by `flush`
            self._busy = False
            return
        self._write_queued()
        assert self._loop is not None
        # Deferred one turn: the callers just answered run first, and their next records join the next batch.
        self._loop.call_soon(self._flush)

    def _write_queued(self) -> None:
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        self._writing = True
        try:
            results = _write_safely(self.log, [record for record, _ in batch])
        finally:
            self._writing = False
        self._answer(batch, results)

    def _answer(self, batch: Sequence[_Entry], results: _Results) -> None:
        """Answer a written batch's callers (on the loop)."""
        self.batches += 1
        self._outstanding -= len(batch)
        for (_, done), problem in zip(batch, results, strict=True):
            try:
                done(problem)
            except Exception:  # one caller's bug must not leave the rest of the batch unanswered
                logger.exception("internal error answering an audit record's caller")
        if not self._outstanding:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)


def write_isolated(log: AuditLog, records: list[AuditRecord | Fields]) -> _Results:
    """Write `records` as one batch; a record that cannot be encoded fails alone, the rest are written in order."""
    try:
        log.write_batch(records)
    except AuditRecordError as exc:
        index = exc.index
        return [*write_isolated(log, records[:index]), str(exc), *write_isolated(log, records[index + 1 :])]
    except AuditError as exc:
        return [str(exc)] * len(records)
    return [None] * len(records)


def _write_safely(log: AuditLog, records: list[AuditRecord | Fields]) -> _Results:
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
        self._entries: queue.SimpleQueue[list[_Entry] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mcp-guard-audit-writer", daemon=True)
        self._thread.start()

    def put(self, entries: list[_Entry]) -> None:
        """Queue records, in order."""
        self._entries.put(entries)

    def stop(self) -> None:
        """Stop the thread once everything queued before is written."""
        self._entries.put(None)

    def join(self) -> None:
        self._thread.join()

    def _run(self) -> None:
        waiting: list[_Entry] = []  # queued, not yet written
        stopping = False
        while waiting or not stopping:
            if not waiting:
                first = self._entries.get()
                if first is None:
                    return
                waiting = first
            while len(waiting) < self._max_batch and not stopping:
                try:
                    more = self._entries.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                else:
                    waiting += more
            batch, waiting = waiting[: self._max_batch], waiting[self._max_batch :]
            results = _write_safely(self._log, [record for record, _ in batch])
            try:
                self._loop.call_soon_threadsafe(self._answer, batch, results)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return
