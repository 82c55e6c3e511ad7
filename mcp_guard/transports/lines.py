"""Newline-delimited framing over asyncio streams, with a hard cap on line size."""

from __future__ import annotations

import asyncio

from mcp_guard.jsonrpc import RECOVERY_SCAN_CHARS, Oversized, recover_id_from_ends

READ_CHUNK = 1 << 16
TAIL_BYTES = 256  # kept of an oversized line's end, where its id may be (`..."id":7}`)


class LineReader:
    """Reads lines of at most `max_line` bytes; longer ones are discarded and reported.

    A line over the cap is never buffered whole: once the cap is passed the reader drops bytes
    until the next newline, so an endless line cannot exhaust memory. Only its first
    RECOVERY_SCAN_CHARS bytes and its last TAIL_BYTES are kept, to name its id, so that the request
    it answers (or the request it is) still gets its one answer.
    """

    def __init__(self, stream: asyncio.StreamReader, max_line: int) -> None:
        self._stream = stream
        self._max_line = max_line
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer already known to hold no newline
        self._discarding = 0  # bytes dropped so far of an oversized line, 0 when not dropping
        self._head = b""  # the start of the line being dropped
        self._tail = b""  # the end of what was dropped so far
        self._eof = False

    async def readline(self) -> bytes | Oversized | None:
        """The next non-blank line without its newline, Oversized, or None at end of stream.

        Safe to cancel: a cancelled call loses no bytes.
        """
        while True:
            newline = self._buffer.find(b"\n", self._scanned)
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                self._scanned = 0
                if self._discarding or len(line) > self._max_line:
                    return self._oversized(line)
                line = line.rstrip(b"\r")
                if line.strip():
                    return line
                continue
            if self._discarding:
                self._drop(bytes(self._buffer))
                self._buffer.clear()
            elif len(self._buffer) > self._max_line:
                self._head = bytes(self._buffer[:RECOVERY_SCAN_CHARS])
                self._drop(bytes(self._buffer))
                self._buffer.clear()
            self._scanned = len(self._buffer)
            if self._eof:
                return self._finish()
            chunk = await self._stream.read(READ_CHUNK)
            if not chunk:
                self._eof = True
                continue
            self._buffer += chunk

    def has_line(self) -> bool:
        """Whether a whole line is buffered already (`readline` would not wait for more input)."""
        return self._buffer.find(b"\n", self._scanned) >= 0

    def _drop(self, data: bytes) -> None:
        self._discarding += len(data)
        self._tail = (self._tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]

    def _oversized(self, rest: bytes) -> Oversized:
        """The end of an oversized line: `rest` is its part after what was already dropped."""
        if not self._discarding:
            self._head = rest[:RECOVERY_SCAN_CHARS]
        self._drop(rest)
        size, head, tail = self._discarding, self._head, self._tail
        self._discarding, self._head, self._tail = 0, b"", b""
        request_id, kind = recover_id_from_ends(head, tail)
        return Oversized(size, request_id, kind)

    def _finish(self) -> bytes | Oversized | None:
        """End of stream: a last line without a newline still counts."""
        if self._discarding:
            return self._oversized(b"")
        if self._buffer.strip():
            line = bytes(self._buffer).rstrip(b"\r")
            self._buffer.clear()
            return line
        return None
