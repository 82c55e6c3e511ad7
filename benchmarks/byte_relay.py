"""A bare byte relay: the floor for any stdio MCP proxy, one extra process hop and nothing else.

It starts the upstream as a child and copies bytes both ways, stdin -> child's stdin and child's
stdout -> stdout, with asyncio's non-blocking pipes. No framing, no parsing, no policy: whatever
a real proxy adds on top of this row is the cost of what it does, not of being a process between
the two peers. Used as a "through" by benchmarks/run.py.

    python byte_relay.py UPSTREAM_COMMAND ARGS...
"""

from __future__ import annotations

import asyncio
import os
import sys

CHUNK = 1 << 16
LIMIT = 1 << 20


async def open_stdio(loop: asyncio.AbstractEventLoop) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """This process's stdin and stdout as asyncio streams over non-blocking pipes."""
    reader = asyncio.StreamReader(limit=LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", 0))
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, os.fdopen(1, "wb", 0))
    return reader, asyncio.StreamWriter(transport, protocol, None, loop)


async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy bytes until the source ends, then close the sink."""
    while chunk := await source.read(CHUNK):
        sink.write(chunk)
        await sink.drain()
    sink.close()


async def relay(argv: list[str]) -> int:
    """Run the upstream and copy bytes until either side closes; the upstream's exit code."""
    loop = asyncio.get_running_loop()
    stdin, stdout = await open_stdio(loop)
    child = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=LIMIT
    )
    assert child.stdin is not None and child.stdout is not None
    to_child = asyncio.ensure_future(pump(stdin, child.stdin))
    from_child = asyncio.ensure_future(pump(child.stdout, stdout))
    await asyncio.wait([to_child, from_child], return_when=asyncio.FIRST_COMPLETED)
    if to_child.done():  # the client left: let the upstream finish what it is writing
        await from_child
    else:  # the upstream ended first: stop reading the client
        to_child.cancel()
    return await child.wait()


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: byte_relay.py UPSTREAM_COMMAND ARGS...")
    sys.exit(asyncio.run(relay(sys.argv[1:])))


if __name__ == "__main__":
    main()
