"""Transparency check: the MCP conformance suite, bare and through mcp-guard, must agree.

Runs the pinned ``@modelcontextprotocol/conformance`` server scenarios against the pinned
``@modelcontextprotocol/server-everything`` behind ``supergateway`` (stdio -> streamable HTTP on
a free 127.0.0.1 port), once bare and once as

    mcp-guard run --profile diagnostic --config tests/realworld/diagnostic.yaml -- node <everything>

and compares every check of every scenario (id, status, error message). server-everything is not
the suite's reference server, so some checks fail bare; what matters is that the guard changes
no result. Prints a table; exits 1 if any scenario differs, 2 if the tools are missing.

    python tests/realworld/conformance.py [--scenario NAME ...] [--bare-only] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nodetools  # noqa: E402  (a sibling module; this file runs as a script)

HERE = Path(__file__).resolve().parent
DIAGNOSTIC_CONFIG = HERE / "diagnostic.yaml"
SUITE_TIMEOUT = 300.0  # seconds for one whole run of the suite

Check = tuple[str, str, str]  # (id, status, normalised error message)


@dataclass(frozen=True)
class SuiteRun:
    label: str
    results: dict[str, list[Check]]  # scenario -> its checks, in order
    seconds: float
    audit_records: int | None = None


_VOLATILE = [
    (re.compile(r"127\.0\.0\.1:\d+|localhost:\d+"), "HOST:PORT"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "UUID"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "TIME"),
    (re.compile(r"\b\d+(\.\d+)?ms\b"), "Nms"),
]


def normalise(message: str | None) -> str:
    text = message or ""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def read_results(output_dir: Path) -> dict[str, list[Check]]:
    """Parse ``<output_dir>/server-<scenario>-<timestamp>/checks.json``."""
    results: dict[str, list[Check]] = {}
    for checks_file in sorted(output_dir.glob("server-*/checks.json")):
        scenario = re.sub(r"^server-|-\d{4}-\d\d-\d\dT[\d-]+Z$", "", checks_file.parent.name)
        checks = json.loads(checks_file.read_text())
        results[scenario] = [(c["id"], c["status"], normalise(c.get("errorMessage"))) for c in checks]
    return results


def run_suite(label: str, stdio_command: list[str], work: Path, scenarios: list[str],
              env: dict[str, str]) -> SuiteRun:
    """Serve ``stdio_command`` through supergateway and run the conformance scenarios at it."""
    port = nodetools.free_port()
    output_dir = work / f"results-{label}"
    output_dir.mkdir(parents=True)
    gateway_log = (work / f"supergateway-{label}.log").open("w")
    gateway = subprocess.Popen(
        nodetools.node_command(
            "supergateway",
            "--stdio", shlex.join(stdio_command),
            "--outputTransport", "streamableHttp",
            "--stateful",
            # One child per session; reap idle ones so a run does not keep ~30 of them alive.
            "--sessionTimeout", "10000",
            "--port", str(port),
            "--logLevel", "none",
        ),
        stdin=subprocess.DEVNULL, stdout=gateway_log, stderr=subprocess.STDOUT, env=env,
        start_new_session=True,  # its own process group: one kill ends it and every child
    )
    started = time.monotonic()
    try:
        nodetools.wait_for_port(port, timeout=30, alive=lambda: gateway.poll() is None)
        url = f"http://127.0.0.1:{port}/mcp"
        runs = [["--scenario", name] for name in scenarios] or [[]]
        with (work / f"conformance-{label}.log").open("w") as log:
            for extra in runs:
                # Exit status 1 only means some check failed, which server-everything does bare.
                subprocess.run(
                    nodetools.node_command("@modelcontextprotocol/conformance", "server", "--url", url,
                                           "-o", str(output_dir), *extra),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                    timeout=SUITE_TIMEOUT, check=False,
                )
    finally:
        _stop_group(gateway)
        gateway_log.close()
    return SuiteRun(label, read_results(output_dir), time.monotonic() - started)


def _stop_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the gateway's process group (it and every server it spawned), SIGKILL leftovers.

    The servers (mcp-guard and its upstream) get the same SIGTERM and should exit by
    themselves within the grace period; whatever is still in the group after it is killed.
    """
    pgid = process.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()  # reap the gateway itself, or the group never empties
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    lingering = _group_members(pgid)
    print(f"conformance: killing {len(lingering)} process(es) still alive {grace}s after SIGTERM: "
          f"{lingering}", file=sys.stderr)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    process.wait(timeout=5)


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def count_audit_records(audit_dir: Path) -> int:
    """Lines in the guard's audit files: proof that the traffic really went through it."""
    return sum(
        sum(1 for line in path.read_text(errors="replace").splitlines() if line.strip())
        for path in audit_dir.rglob("*") if path.is_file()
    )


def summarise(checks: list[Check]) -> str:
    if not checks:
        return "missing"
    passed = sum(1 for _, status, _ in checks if status == "SUCCESS")
    failed = sum(1 for _, status, _ in checks if status == "FAILURE")
    return f"{passed} ok / {failed} fail / {len(checks)}"


def compare(bare: SuiteRun, guarded: SuiteRun | None) -> tuple[list[str], list[str]]:
    """The printed table and the names of scenarios whose checks differ."""
    scenarios = sorted(set(bare.results) | set(guarded.results if guarded else {}))
    width = max([len(s) for s in scenarios] + [8])
    lines = [f"{'scenario':<{width}}  {'bare':<22}  {'through mcp-guard':<22}  same"]
    differing: list[str] = []
    for name in scenarios:
        left = bare.results.get(name, [])
        right = guarded.results.get(name, []) if guarded else None
        same = "" if right is None else ("yes" if left == right and left else "NO")
        if same == "NO":
            differing.append(name)
        right_text = "" if right is None else summarise(right)
        lines.append(f"{name:<{width}}  {summarise(left):<22}  {right_text:<22}  {same}")
    return lines, differing


def explain(name: str, bare: SuiteRun, guarded: SuiteRun) -> list[str]:
    out = [f"--- {name}"]
    left, right = bare.results.get(name, []), guarded.results.get(name, [])
    for check in left:
        if check not in right:
            out.append(f"  bare only:  {check}")
    for check in right:
        if check not in left:
            out.append(f"  guard only: {check}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", default=[], help="run only this scenario (repeatable)")
    parser.add_argument("--bare-only", action="store_true", help="skip the run through mcp-guard")
    parser.add_argument("--keep", type=Path, help="keep logs and results in this directory")
    parser.add_argument("--config", type=Path, default=DIAGNOSTIC_CONFIG,
                        help="mcp-guard config with a 'diagnostic' profile (default: %(default)s)")
    args = parser.parse_args(argv)

    try:
        everything = nodetools.node_command("@modelcontextprotocol/server-everything", "stdio")
        nodetools.entry_point("supergateway")
        nodetools.entry_point("@modelcontextprotocol/conformance")
    except nodetools.NodeToolsMissing as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="mcp-guard-conformance-") as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        audit_dir = work / "audit"
        env = {**os.environ, "MCP_GUARD_DIAG_AUDIT_DIR": str(audit_dir)}
        guard = [sys.executable, "-m", "mcp_guard", "run", "--profile", "diagnostic",
                 "--config", str(args.config.resolve()), "--", *everything]

        bare = run_suite("bare", everything, work, args.scenario, env)
        print(f"bare: {len(bare.results)} scenarios in {bare.seconds:.1f}s", file=sys.stderr)
        guarded = None
        if not args.bare_only:
            guarded = run_suite("guarded", guard, work, args.scenario, env)
            records = count_audit_records(audit_dir) if audit_dir.exists() else 0
            print(f"through mcp-guard: {len(guarded.results)} scenarios in {guarded.seconds:.1f}s, "
                  f"{records} audit records", file=sys.stderr)

        lines, differing = compare(bare, guarded)
        print("\n".join(lines))
        if not bare.results:
            print(f"conformance: the bare run produced no results (see {work})", file=sys.stderr)
            return 1
        if guarded is None:
            return 0
        if differing:
            for name in differing:
                print("\n".join(explain(name, bare, guarded)))
            print(f"conformance: {len(differing)} scenario(s) differ through mcp-guard", file=sys.stderr)
            return 1
        if records == 0:
            print("conformance: mcp-guard wrote no audit record: did the traffic go through it?",
                  file=sys.stderr)
            return 1
        print(f"conformance: all {len(bare.results)} scenarios identical bare and through mcp-guard")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
