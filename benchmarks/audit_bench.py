"""Audit write throughput: sequential `AuditLog.write` (what the guard did per answer) against the
`GroupCommitter` with concurrent producers, inline on the loop and in a worker thread; and the
cost of `AuditLog.health()` on the hot path.

    .venv/bin/python benchmarks/audit_bench.py --baseline-ref HEAD     # fsync off; also write() as committed at HEAD
    .venv/bin/python benchmarks/audit_bench.py --fsync --records 2000 --work-us 200

Each producer is one asyncio task awaiting `commit` in a loop, as a request task would before
sending its answer; with --work-us it first spends that much CPU on the loop, standing in for the
request's own processing (policy, redaction), which a worker thread can overlap with an fsync.
Every scenario writes to a fresh directory under --dir (default: a temp dir) and is checked
afterwards: every record present, `verify` passing.

Two rates per scenario: records per wall-clock second, and records per CPU-second of this
process (all its threads). On a shared machine the CPU rate is the steadier one for fsync off;
with fsync, only the wall clock counts (the disk wait is the cost). Rounds interleave the
scenarios after one uncounted warm-up round; medians of --runs rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from mcp_guard.audit import AuditRecord, AuditSettings, GroupCommitter, Outcome, open_audit_log, verify_audit_dir


@dataclasses.dataclass(frozen=True)
class Run:
    wall_rate: float  # records per second
    cpu_rate: float  # records per CPU-second of the process
    batch: float  # mean records per write


def _record(index: int) -> AuditRecord:
    # A typical allowed tools/call record: redacted arguments, a few redaction counts.
    return AuditRecord(
        profile="test", mode="test", client={"name": "cursor", "version": "1.7"}, request_id=index, method="tools/call",
        tool="stripe_api_read", operation="list", operation_id="GetCustomers", decision="allow", rule="allowed_operations",
        reason="list is allowed", arguments={"stripe_api_operation_id": "GetCustomers", "limit": 10, "email": "[redacted:email]"},
        outcome=Outcome.OK, duration_ms=4.2, result_bytes=4096, redactions={"email": 10, "phone": 3}, upstream="node",
        key_fingerprint="fp:1234abcd", policy_sha256="9f2c" * 16,
    )


def _work(microseconds: float) -> None:
    if microseconds:
        until = time.perf_counter() + microseconds / 1e6
        while time.perf_counter() < until:
            pass


def _check(directory: Path, expected: int) -> None:
    report = verify_audit_dir(directory)
    if not report.ok or report.records != expected:
        raise SystemExit(f"{directory}: {report.records} records (expected {expected}), problems: {report.problems[:3]}")


class _Clock:
    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def run(self, records: int, batch: float = 1.0) -> Run:
        return Run(records / self.wall, records / max(self.cpu, 1e-9), batch)


def load_baseline(ref: str) -> ModuleType:
    """The audit package as it is at git `ref`, importable as `audit_baseline` (for "today's" write)."""
    root = Path(__file__).resolve().parent.parent
    names = subprocess.run(["git", "ls-tree", "--name-only", ref, "mcp_guard/audit/"], cwd=root, capture_output=True, text=True, check=True)
    package = Path(tempfile.mkdtemp(prefix="audit-baseline-")) / "audit_baseline"
    package.mkdir()
    for path in names.stdout.split():
        if path.endswith(".py"):
            text = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, text=True, check=True).stdout
            (package / Path(path).name).write_text(text.replace("mcp_guard.audit", "audit_baseline"))
    sys.path.insert(0, str(package.parent))
    return importlib.import_module("audit_baseline")


def sequential(audit: Any, base: Path, records: int, fsync: bool, work_us: float) -> Run:
    """`write()` per record, as the guard did: `audit` is mcp_guard.audit or a baseline of it."""
    directory = Path(tempfile.mkdtemp(dir=base))
    known = {field.name for field in dataclasses.fields(audit.AuditRecord)}
    batch = [audit.AuditRecord(**{k: v for k, v in vars(_record(i)).items() if k in known}) for i in range(records)]
    with audit.open_audit_log(audit.AuditSettings(dir=directory, fsync=fsync), "test") as log, _Clock() as clock:
        for record in batch:
            _work(work_us)
            log.write(record)
    _check(directory, records)
    return clock.run(records)


def committed(base: Path, records: int, fsync: bool, producers: int, offload: bool, work_us: float) -> Run:
    directory = Path(tempfile.mkdtemp(dir=base))
    per_producer = records // producers

    async def main() -> Run:
        with open_audit_log(AuditSettings(dir=directory, fsync=fsync), "test") as log:
            committer = GroupCommitter(log, offload=offload)
            batches = [[_record(p * per_producer + i) for i in range(per_producer)] for p in range(producers)]

            async def produce(mine: list[AuditRecord]) -> None:
                for record in mine:
                    _work(work_us)
                    await committer.commit(record)

            with _Clock() as clock:
                await asyncio.gather(*(produce(mine) for mine in batches))
            await committer.aclose()
            total = per_producer * producers
            return clock.run(total, total / max(committer.batches, 1))

    result = asyncio.run(main())
    _check(directory, per_producer * producers)
    return result


def health_cost(base: Path, calls: int) -> float:
    """ns per `health()` call on a healthy log (probes included, at their real interval)."""
    directory = Path(tempfile.mkdtemp(dir=base))
    with open_audit_log(AuditSettings(dir=directory), "test") as log:
        log.health()  # the first call probes
        started = time.perf_counter_ns()
        for _ in range(calls):
            log.health()
        return (time.perf_counter_ns() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--producers", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fsync", action="store_true", help="audit.fsync: true (use fewer --records)")
    parser.add_argument("--work-us", type=float, default=0.0, help="CPU each request spends on the loop before its commit")
    parser.add_argument("--dir", type=Path, default=None, help="where the scratch audit directories go")
    parser.add_argument("--baseline-ref", help="also time AuditLog.write as committed at this git ref (e.g. HEAD)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="audit-bench-", dir=args.dir))
    import mcp_guard.audit as current

    scenarios: list[tuple[str, Callable[[], Run]]] = []
    if args.baseline_ref:
        baseline = load_baseline(args.baseline_ref)
        scenarios.append((f"sequential write() at {args.baseline_ref}", lambda: sequential(baseline, base, args.records, args.fsync, args.work_us)))
    scenarios.append(("sequential write()", lambda: sequential(current, base, args.records, args.fsync, args.work_us)))
    for producers in sorted({1, args.producers}):
        for offload in (False, True):
            where = "worker thread" if offload else "inline"
            scenarios.append(
                (
                    f"GroupCommitter, {producers} producer(s), {where}",
                    lambda p=producers, o=offload: committed(base, args.records, args.fsync, p, o, args.work_us),  # type: ignore[misc]
                )
            )

    runs: dict[str, list[Run]] = {name: [] for name, _ in scenarios}
    for _, measure in scenarios:  # a warm-up round, not counted: the first writes to a disk are the slowest
        measure()
    for _ in range(args.runs):  # rounds interleave the scenarios, so a noisy moment hits them all alike
        for name, measure in scenarios:
            runs[name].append(measure())

    print(
        f"audit writes: {args.records} records per run, fsync {'on' if args.fsync else 'off'}, "
        f"{args.work_us:g} us of work per request, median of {args.runs} runs"
    )
    print(f"{'scenario':<44} {'records/s':>10} {'x first':>8} {'rec/CPU-s':>10} {'x first':>8} {'batch':>6}")
    first: Run | None = None
    for name, results in runs.items():
        wall = statistics.median(r.wall_rate for r in results)
        cpu = statistics.median(r.cpu_rate for r in results)
        batch = statistics.median(r.batch for r in results)
        if first is None:
            first = Run(wall, cpu, batch)
        print(f"{name:<44} {wall:>10.0f} {wall / first.wall_rate:>7.2f}x {cpu:>10.0f} {cpu / first.cpu_rate:>7.2f}x {batch:>6.1f}")
    cost = statistics.median(health_cost(base, 1_000_000) for _ in range(args.runs))
    print(f"AuditLog.health() on a healthy log: {cost:.0f} ns per call (median of {args.runs} x 1e6 calls, probes every 0.5 s included)")


if __name__ == "__main__":
    main()
