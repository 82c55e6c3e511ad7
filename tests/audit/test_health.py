"""AuditLog.health(): known failing before a request is forwarded, cheap while healthy."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcp_guard.audit import AuditSettings, open_audit_log
from mcp_guard.audit import log as log_module
from mcp_guard.errors import AuditError


def _private_mounts_work() -> bool:
    """Root with mount namespaces: a tiny tmpfs gives a real ENOSPC that vanishes with the process."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def _run_on_tiny_tmpfs(tmp_path: Path, script: str, size: str = "256k") -> subprocess.CompletedProcess[str]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    (tmp_path / "script.py").write_text(textwrap.dedent(script))
    shell = f'mount -t tmpfs -o size={size},mode=0700 tmpfs "{mount_point}" && exec "{sys.executable}" "{tmp_path / "script.py"}" "{mount_point}"'
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", shell], capture_output=True, text=True, timeout=120)


needs_private_mounts = pytest.mark.skipif(not _private_mounts_work(), reason="needs root and mount namespaces for a tiny tmpfs")


def test_a_healthy_log_says_none_and_the_probe_leaves_an_empty_private_file(tmp_path):
    with open_audit_log(AuditSettings(dir=tmp_path), "test", probe_interval=0) as log:
        assert log.health() is None
    probe = tmp_path / "audit.probe"
    assert probe.stat().st_size == 0
    assert stat.S_IMODE(probe.stat().st_mode) == 0o600


def test_after_a_failed_write_the_log_stays_unhealthy_until_a_probe_succeeds(tmp_path, make_record):
    directory = tmp_path / "audit"
    log = open_audit_log(AuditSettings(dir=directory), "test", probe_interval=0)
    log.write(make_record())
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()
    with pytest.raises(AuditError):
        log.write(make_record())
    for _ in range(2):  # the probe runs each time here, and fails each time
        reason = log.health()
        assert reason is not None and str(directory) in reason and "No such file or directory" in reason
    directory.mkdir()
    assert log.health() is None
    log.write(make_record())
    log.close()


def test_the_probe_runs_at_most_once_per_interval(tmp_path, make_record, monkeypatch):
    probes: list[Path] = []
    real_probe = log_module.probe_directory
    monkeypatch.setattr(log_module, "probe_directory", lambda directory, *rest: probes.append(directory) or real_probe(directory, *rest))
    directory = tmp_path / "audit"
    log = open_audit_log(AuditSettings(dir=directory), "test", probe_interval=3600)
    for _ in range(1000):
        assert log.health() is None
    assert len(probes) == 1  # the first call probes; the rest are a clock read
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()
    with pytest.raises(AuditError):
        log.write(make_record())
    directory.mkdir()
    for _ in range(1000):  # known failing: no probe is due yet, so it says so without touching the disk
        assert log.health() is not None
    assert len(probes) == 1
    log.write(make_record())  # a write that succeeds is the best probe of all
    assert log.health() is None
    log.close()


@pytest.mark.parametrize("interval", [0, 3600])
def test_a_closed_log_is_unhealthy_at_once(tmp_path, interval):
    log = open_audit_log(AuditSettings(dir=tmp_path), "test", probe_interval=interval)
    assert log.health() is None
    log.close()
    assert log.health() == log.health() == f"audit log {tmp_path} is closed"


def test_a_day_file_at_the_processs_file_size_limit_is_unhealthy_before_a_write_fails(tmp_path):
    # RLIMIT_FSIZE is about the write's offset: a small probe file would pass while the day file
    # cannot grow. health() compares the day file's size with the limit instead.
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from mcp_guard.audit import AuditRecord, AuditSettings, open_audit_log
        log = open_audit_log(AuditSettings(dir=Path({str(tmp_path)!r})), "test", probe_interval=0)
        log.write(AuditRecord(profile="t", mode="test", method="ping", decision="allow", outcome="ok", arguments="x" * 5000))
        print("before:", log.health())
        (path,) = Path({str(tmp_path)!r}).glob("audit-*.jsonl")
        limit = path.stat().st_size + 1000  # a small record would still fit, but not much more
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        print("after:", log.health())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.splitlines()
    assert before == "before: None"
    assert after.startswith("after: cannot write audit record to ") and "audit-" in after and "File too large" in after


@needs_private_mounts
def test_a_full_disk_is_seen_by_the_probe_and_freeing_space_makes_the_log_healthy_again(tmp_path):
    script = """
        import errno, os, sys
        from pathlib import Path
        from mcp_guard.audit import AuditRecord, AuditSettings, open_audit_log
        from mcp_guard.errors import AuditError
        disk = Path(sys.argv[1])
        log = open_audit_log(AuditSettings(dir=disk / "audit"), "test", probe_interval=0)
        record = lambda pad: AuditRecord(profile="t", mode="test", method="ping", decision="allow", outcome="ok", arguments=pad)
        log.write(record("small"))
        print("healthy:", log.health())
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        os.close(fd)
        print("full:", log.health())
        try:
            log.write(record("y" * 20000))
            print("written")
        except AuditError as exc:
            print("refused:", exc)
        print("still:", log.health())
        filler.unlink()
        print("freed:", log.health())
        log.write(record("z" * 20000))
        """
    result = _run_on_tiny_tmpfs(tmp_path, script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "healthy: None"
    assert lines[1].startswith("full: cannot write audit record to ") and "audit.probe: No space left on device" in lines[1]
    assert lines[2].startswith("refused: ") and "No space left on device" in lines[2]
    assert "No space left on device" in lines[3]
    assert lines[4] == "freed: None"
