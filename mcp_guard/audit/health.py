"""Is the audit log able to take the next record? A probe that never touches the chain.

The guard asks before forwarding each request, because a record is written only when the answer
is ready: a request refused for a full disk at that point has already run upstream. The answer
comes from two sources:

- the last write: once a write failed for an OS reason, the log stays unhealthy until a probe or
  a later write succeeds;
- a probe, at most once per `interval` seconds (healthy or not), so a disk that filled up between
  two requests is seen before the next one is forwarded.

The probe writes `PROBE_BYTES` to `audit.probe` in the audit directory and truncates it again.
That one write sees what a record's append would see: a full disk (ENOSPC, even with only a part
of a block left), a read-only or vanished directory, lost permissions, a quota (EDQUOT), an I/O
error. A per-process file size limit (RLIMIT_FSIZE) is about the offset of the write, so a small
probe file cannot show it: the day file's size is compared with the limit instead.
"""

from __future__ import annotations

import errno
import os
import resource
from pathlib import Path

from mcp_guard.audit import layout

PROBE_BYTES = 4096  # one page: a disk with less than this left is as good as full
_ZEROS = bytes(PROBE_BYTES)


def probe_directory(directory: Path, day_file: Path | None, day_file_size: int) -> str | None:
    """None when a record could be appended now; else one line naming the path and the OS error."""
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY and day_file_size + PROBE_BYTES > limit:
        where = day_file or directory
        return f"cannot write audit record to {where}: {os.strerror(errno.EFBIG)} (the process's file size limit is {limit} bytes)"
    path = directory / layout.PROBE_NAME
    try:
        # Opened each time: a descriptor kept open would still write after the directory was removed.
        fd = layout.open_private(path, os.O_RDWR)
    except OSError as exc:
        return f"cannot write audit record to {path}: {exc.strerror or exc}"
    try:
        written = os.pwrite(fd, _ZEROS, 0)
        if written < PROBE_BYTES:  # a short write is a nearly full disk
            return f"cannot write audit record to {path}: {os.strerror(errno.ENOSPC)}"
        return None
    except OSError as exc:
        return f"cannot write audit record to {path}: {exc.strerror or exc}"
    finally:
        try:
            os.ftruncate(fd, 0)  # give the block back at once, whatever happened
        except OSError:
            pass  # nothing was written, or the next probe truncates it
        os.close(fd)
