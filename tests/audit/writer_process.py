"""A separate process that appends audit records (used by the concurrency and SIGKILL tests).

usage: writer_process.py DIR COUNT [PAD_BYTES]
Opens the log, prints "ready", waits for a line on stdin, then writes COUNT records (COUNT 0:
forever), printing each record's request_id after write() returned.
"""

import sys
from pathlib import Path

from mcp_guard.audit import AuditRecord, AuditSettings, Outcome, open_audit_log


def main() -> None:
    directory, count = Path(sys.argv[1]), int(sys.argv[2])
    pad = "x" * int(sys.argv[3]) if len(sys.argv) > 3 else ""
    log = open_audit_log(AuditSettings(dir=directory), "test")
    print("ready", flush=True)
    sys.stdin.readline()
    index = 0
    while count == 0 or index < count:
        index += 1
        log.write(
            AuditRecord(
                profile="test", mode="test", method="tools/call", tool="list_customers", decision="allow",
                outcome=Outcome.OK, request_id=index, arguments={"pad": pad},
            )
        )
        print(index, flush=True)
    log.close()


if __name__ == "__main__":
    main()
