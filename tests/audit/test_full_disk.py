"""A full disk at start: pruning fails with a warning, the log still opens, no temp file stays.

RLIMIT_FSIZE makes every write past the limit fail (EFBIG) even for root; a tiny tmpfs in a
private mount namespace gives the real ENOSPC where the machine allows it.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcp_guard.audit import verify_audit_dir


def _open_with_file_size_limit(directory: Path, limit: int) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from mcp_guard.audit import AuditSettings, open_audit_log
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        log = open_audit_log(AuditSettings(dir=Path({str(directory)!r}), retention_days=7), "test", probe_interval=0)
        print("opened; prune error:", log.prune_error)
        print("health:", log.health())
        log.close()
        """
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def _expired_trail(directory: Path, write_days) -> list[str]:
    write_days(directory, datetime.now(timezone.utc) - timedelta(days=30), days=2, per_day=3)
    return sorted(path.name for path in directory.glob("audit-*.jsonl"))


def test_a_prune_that_cannot_write_its_anchor_warns_and_the_log_still_opens(tmp_path, write_days):
    before = _expired_trail(tmp_path, write_days)
    result = _open_with_file_size_limit(tmp_path, 64)  # the anchor (~250 bytes) cannot be written
    assert result.returncode == 0, result.stderr
    opened, health = result.stdout.splitlines()
    assert opened.startswith("opened; prune error: cannot prune audit directory ") and "File too large" in opened
    assert "cannot prune audit directory" in result.stderr and "expired records stay until the next prune" in result.stderr
    assert health.startswith("health: cannot write audit record to ") and "File too large" in health
    assert sorted(path.name for path in tmp_path.glob("audit-*.jsonl")) == before  # nothing removed without its anchor
    assert not list(tmp_path.glob(".anchor.json.*")), "the anchor's temp file was left behind"
    assert not (tmp_path / "anchor.json").exists()
    report = verify_audit_dir(tmp_path)
    assert report.ok and report.records == 6


def test_audit_prune_on_the_command_line_still_fails_when_pruning_fails(tmp_path, write_days, run_cli):
    before = _expired_trail(tmp_path, write_days)
    limit = 64
    result = subprocess.run(
        [str(Path(sys.executable).with_name("mcp-guard")), "audit", "prune", "--dir", str(tmp_path), "--retention-days", "7"],
        capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1])),
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("mcp-guard: cannot prune audit directory ")
    assert "File too large" in result.stderr.splitlines()[-1]
    assert sorted(path.name for path in tmp_path.glob("audit-*.jsonl")) == before
    assert not list(tmp_path.glob(".anchor.json.*"))
    assert run_cli("audit", "prune", "--dir", tmp_path, "--retention-days", "7").returncode == 0  # with room, it works


def _private_mounts_work() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _private_mounts_work(), reason="needs root and mount namespaces for a tiny tmpfs")
def test_a_really_full_disk_with_an_expired_day_file_opens_with_a_warning(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import errno, os, sys
            from datetime import datetime, timedelta, timezone
            from pathlib import Path
            from mcp_guard.audit import AuditRecord, AuditSettings, open_audit_log, verify_audit_dir
            disk = Path(sys.argv[1])
            directory = disk / "audit"
            old = datetime.now(timezone.utc) - timedelta(days=30)
            with open_audit_log(AuditSettings(dir=directory, retention_days=90), "test", clock=lambda: old) as log:
                log.write(AuditRecord(profile="t", mode="test", method="ping", decision="allow", outcome="ok"))
            fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
            try:
                while True:
                    os.write(fd, b"x" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
            os.close(fd)
            log = open_audit_log(AuditSettings(dir=directory, retention_days=7), "test", probe_interval=0)
            print("prune error:", log.prune_error)
            print("health:", log.health())
            print("left:", sorted(p.name for p in directory.iterdir() if p.name.startswith(".")))
            print("verify:", verify_audit_dir(directory).ok)
            """
        )
    )
    shell = f'mount -t tmpfs -o size=128k tmpfs "{mount_point}" && exec "{sys.executable}" "{script}" "{mount_point}"'
    result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", shell], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    prune, health, left, verify = result.stdout.splitlines()
    assert prune.startswith("prune error: cannot prune audit directory ") and "No space left on device" in prune
    assert health.startswith("health: cannot write audit record to ") and "No space left on device" in health
    assert left == "left: []"
    assert verify == "verify: True"
    assert "cannot prune audit directory" in result.stderr
