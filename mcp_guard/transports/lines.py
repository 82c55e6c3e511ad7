"""Newline-delimited framing over asyncio streams, with a hard cap on line size."""

from __future__ import annotations

import asyncio

from mcp_guard.jsonrpc import Oversized

READ_CHUNK = 1 << 16


class LineReader:
    """Reads lines of at most `max_line` bytes; longer ones are discarded and reported.

    A line over the cap is never buffered whole: once the cap is passed the reader drops bytes
    until the next newline, so an endless line cannot exhaust memory.
    """

    def __init__(self, stream: asyncio.StreamReader, max_line: int) -> None:
        self._stream = stream
        self._max_line = max_line
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer already known to hold no newline
        self._discarding = 0  # bytes dropped so far of an oversized line, 0 when not dropping
        self._eof = False

    async def readline(self) -> bytes | Oversized | None:
        """The next non-blank line without its newline, Oversized, or None at end of stream."""
        while True:
            newline = self._buffer.find(b"\n", self._scanned)
            if newline >= 0:
                dropped = self._discarding
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                self._scanned = 0
                self._discarding = 0
                if dropped or len(line) > self._max_line:
                    return Oversized(dropped + len(line))
                line = line.rstrip(b"\r")
                if line.strip():
                    return line
                continue
            if self._discarding:
                self._discarding += len(self._buffer)
                self._buffer.clear()
            elif len(self._buffer) > self._max_line:
                self._discarding = len(self._buffer)
                self._buffer.clear()
            self._scanned = len(self._buffer)
            if self._eof:
                return self._finish()
            chunk = await self._stream.read(READ_CHUNK)
            if not chunk:
                self._eof = True
                continue
            self._buffer += chunk

    def _finish(self) -> bytes | Oversized | None:
        """End of stream: a last line without a newline still counts."""
        if self._discarding:
            size, self._discarding = self._discarding, 0
            return Oversized(size)
        if self._buffer.strip():
            line = bytes(self._buffer).rstrip(b"\r")
            self._buffer.clear()
            return line
        return None
