"""Benchmarks: mcp-guard against a direct connection, a bare byte relay and FastMCP, in one run.

Run with `make bench` (or `.venv/bin/python benchmarks/run.py`). Everything is measured in one run
on this machine and reported against the direct connection (added latency, ratios): the machines
are noisy, so absolute numbers mean little across runs.

Contenders ("through"), all on the same upstream (benchmarks/bench_upstream.py):
  direct         the client talks to the upstream itself
  byte relay     benchmarks/byte_relay.py: an asyncio pipe-to-pipe copier, no parsing; the floor
                 of one extra process hop
  mcp-guard      `mcp-guard run` with policy, redaction and audit all on, telemetry off
  fastmcp proxy  FastMCP's bare proxy (`create_proxy`), when benchmarks/.venv-peers exists

Sections (--only takes a comma-separated subset):
  start   spawn -> first `tools/list` answer (initialize, initialized, tools/list), median of
          --spawns spawns, contenders interleaved
  start-stripe
          the same on Stripe's own npm server, @stripe/mcp 0.2.5 (node; it lists its tools locally),
          the upstream users run: its start overlaps mcp-guard's (needs `make node-tools`)
  rss     VmRSS (MiB) of the serving process after --rss-calls small calls (for mcp-guard the guard
          itself, not its upstream child; for direct, the upstream)
  flat    mcp-guard's RSS at checkpoints up to --flat-calls small calls, on the same process
  small   `tools/call` of a small result (a balance, ~0.4 KB), sequential and 8 concurrent callers
  4k      a 4 KB customer list, sequential and 8 concurrent
  1m      a 1 MB customer list, sequential and 8 concurrent (5% of --calls)

Latency scenarios keep one connection per contender open and measure them in --rounds rounds,
contenders interleaved (direct, relay, guard, fastmcp, direct, ...), so that a burst of load from
elsewhere on the machine spreads over all of them instead of landing on one; p50 and p99 are
over all the calls of all rounds, throughput is all calls over the time spent measuring them.

The tables go to stdout (Markdown), progress to stderr, and everything, with the issue-13 targets
and whether each passed, to benchmarks/results.json (--json).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import yaml

HERE = Path(__file__).resolve().parent
UPSTREAM = [sys.executable, str(HERE / "bench_upstream.py")]
MCP_GUARD = str(Path(sys.executable).parent / "mcp-guard")
BYTE_RELAY = [sys.executable, str(HERE / "byte_relay.py")]
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
STRIPE_NPM_SERVER = HERE.parent / "tests" / "node" / "node_modules" / "stripe-mcp-0.2.5" / "dist" / "index.js"
BENCH_KEY = "sk_test_51FAKEbenchKey000000000000000000000000000000"  # made up; @stripe/mcp 0.2.5 only checks its shape
RESULTS = HERE / "results.json"

DIRECT, RELAY, GUARD, FASTMCP = "direct", "byte relay", "mcp-guard", "fastmcp proxy"
THROUGH = {"relay": RELAY, "guard": GUARD, "fastmcp": FASTMCP}  # --through names
SECTIONS = ("start", "start-stripe", "rss", "flat", "small", "4k", "1m")
LATENCY_SCENARIOS = {  # section: label, tool, upstream result size, share of --calls
    "small": ("small (0.4 KB)", "get_balance_summary", 4096, 1.0),
    "4k": ("4 KB list", "list_customers", 4096, 1.0),
    "1m": ("1 MB list", "list_customers", 1 << 20, 0.05),
}
SMALL_TOOL = "get_balance_summary"
CLOSE_TIMEOUT_SECONDS = 10.0

# Issue 13's targets. Item 4 ("twice today's throughput" for 8 concurrent small calls) is read as
# a ratio to direct in the same run, against the ratio `make bench` measured on 2026-11-22
# (4727/s against direct's 75334/s): absolute throughput does not compare across machines or runs.
START_ADDED_MS_MAX = 150.0
RSS_MIB_MAX = 45.0
RSS_GROWTH_MIB_MAX = 1.0  # "flat": at most this much more after --flat-calls than after --rss-calls
SMALL_ADDED_P50_MS_MAX = 0.25
SMALL_ADDED_P99_MS_MAX = 0.6
CONCURRENT_BASELINE_PER_S, CONCURRENT_BASELINE_DIRECT_PER_S = 4727.0, 75334.0
CONCURRENT_RATIO_MIN = 2 * CONCURRENT_BASELINE_PER_S / CONCURRENT_BASELINE_DIRECT_PER_S


# ---- a client ---------------------------------------------------------------------------------


@dataclass
class Sample:
    latencies: list[float]  # seconds, one per call
    wall: float  # seconds for the whole batch

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall


class Connection:
    """A raw JSON-lines MCP client over a child's pipes, pipelining requests by id."""

    def __init__(self, process: asyncio.subprocess.Process, name: str, stderr: IO[bytes] | None = None, owns_stderr: bool = False) -> None:
        self.process = process
        self.name = name  # the program, for error messages
        self.stderr = stderr  # where the child's stderr goes, read back when it dies
        self.owns_stderr = owns_stderr  # close it with the connection
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.ids = 0
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def spawn(cls, argv: list[str], env: dict[str, str], stderr: IO[bytes] | None = None) -> Connection:
        """Start the child; no MCP traffic yet. Its stderr goes to `stderr`, or to a temporary file."""
        owned = stderr is None
        stderr = tempfile.TemporaryFile() if stderr is None else stderr  # noqa: SIM115 - closed in close()
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr, env=env, limit=1 << 26,
        )
        name = next((Path(arg).name for arg in argv if arg.endswith(".py")), Path(argv[0]).name)
        return cls(process, name, stderr, owned)

    @classmethod
    async def start(cls, argv: list[str], env: dict[str, str]) -> Connection:
        """Start the child and complete the MCP handshake."""
        connection = await cls.spawn(argv, env)
        await connection.handshake()
        return connection

    async def handshake(self) -> None:
        await self.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
        self._write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')

    @property
    def pid(self) -> int:
        return self.process.pid

    def _write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            future = self.waiting.pop(message.get("id"), None)
            if future is not None:
                future.set_result(message)
        problem = f"{self.name} (pid {self.pid}) closed its output; its stderr ends: {self._stderr_tail()}"
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(RuntimeError(problem))

    def _stderr_tail(self, size: int = 600) -> str:
        if self.stderr is None:
            return "(not captured)"
        self.stderr.flush()
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - size))
        return self.stderr.read().decode(errors="replace").strip() or "(empty)"

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.ids += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[self.ids] = future
        request = {"jsonrpc": "2.0", "id": self.ids, "method": method, **({"params": params} if params is not None else {})}
        self._write(json.dumps(request).encode() + b"\n")
        assert self.process.stdin is not None
        await self.process.stdin.drain()
        message = await future
        if "error" in message or message["result"].get("isError"):
            raise RuntimeError(f"benchmark call failed: {message}")
        return message

    async def call_tool(self, tool: str) -> dict[str, Any]:
        return await self.call("tools/call", {"name": tool, "arguments": {}})

    async def close(self) -> None:
        """Close stdin and wait for the exit; kill after CLOSE_TIMEOUT_SECONDS."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.reader.cancel()
        if self.stderr is not None and self.owns_stderr:
            self.stderr.close()


# ---- the contenders ---------------------------------------------------------------------------


def guard_config(directory: Path) -> Path:
    """A profile with policy, redaction and audit on, the way a user would run it."""
    config = {
        "profiles": {
            "bench": {
                "mode": "test",
                "api_key": BENCH_KEY,
                "allowed_operations": ["read", "list", "search"],
                "blocked_operations": ["create", "update", "delete"],
                "audit": {"dir": str(directory / "audit"), "retention_days": 1},
            }
        }
    }
    path = directory / "bench.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def contenders(directory: Path, upstream: list[str], wanted: Iterable[str]) -> dict[str, list[str]]:
    """The argv of each way of reaching the same upstream, direct first."""
    found = {
        DIRECT: upstream,
        RELAY: [*BYTE_RELAY, *upstream],
        GUARD: [MCP_GUARD, "run", "--profile", "bench", "--config", str(guard_config(directory)), "--", *upstream],
    }
    if PEERS_PYTHON.exists():
        found[FASTMCP] = [str(PEERS_PYTHON), str(HERE / "fastmcp_proxy.py"), *upstream]
    wanted = set(wanted) | {DIRECT}
    return {name: argv for name, argv in found.items() if name in wanted}


def bench_env(directory: Path) -> dict[str, str]:
    """The environment of every contender: telemetry off, bytecode caching on (as installed).

    OTEL_* variables are dropped so telemetry stays off. PYTHONDONTWRITEBYTECODE is dropped so the
    warm-up spawn leaves .pyc files, as `pip install` does: otherwise every spawn would recompile.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(MCP_GUARD_LOG_LEVEL="WARNING", MCP_GUARD_PSEUDONYM_KEY_FILE=str(directory / "key"))
    return env


def upstream_argv(result_bytes: int = 4096) -> list[str]:
    return [*UPSTREAM, "--result-bytes", str(result_bytes)]


# ---- latency and throughput -------------------------------------------------------------------


async def measure(connection: Connection, tool: str, calls: int, callers: int) -> Sample:
    """`calls` tool calls split across `callers` concurrent callers."""
    latencies: list[float] = []

    async def caller(n: int) -> None:
        for _ in range(n):
            start = time.perf_counter()
            await connection.call_tool(tool)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(caller(calls // callers) for _ in range(callers)))
    return Sample(latencies, time.perf_counter() - start)


async def latency_scenario(
    tool: str, result_bytes: int, calls: int, callers: int, directory: Path, wanted: Iterable[str], rounds: int = 1
) -> dict[str, Sample]:
    """Every contender gets `calls` calls, in `rounds` rounds interleaved across contenders."""
    env = bench_env(directory)
    connections: dict[str, Connection] = {}
    try:
        for name, argv in contenders(directory, upstream_argv(result_bytes), wanted).items():
            connections[name] = await Connection.start(argv, env)
            for _ in range(min(50, calls)):  # warm up: imports, caches, the first audit file
                await connections[name].call_tool(tool)
        samples = {name: Sample([], 0.0) for name in connections}
        per_round = max(callers, calls // rounds // callers * callers)
        for _ in range(rounds):
            for name, connection in connections.items():
                part = await measure(connection, tool, per_round, callers)
                samples[name].latencies += part.latencies
                samples[name].wall += part.wall
        return samples
    finally:
        for connection in connections.values():
            await connection.close()


def latency_rows(label: str, callers: int, calls: int, samples: dict[str, Sample]) -> list[dict[str, Any]]:
    direct = samples[DIRECT]
    rows = []
    for through, sample in samples.items():
        row: dict[str, Any] = {
            "scenario": label, "callers": callers, "calls": calls, "through": through,
            "p50_ms": sample.p(0.5) * 1e3, "p99_ms": sample.p(0.99) * 1e3,
            "added_p50_ms": None, "added_p99_ms": None,
            "throughput_per_s": sample.throughput, "ratio_vs_direct": sample.throughput / direct.throughput,
            "p50_ratio_vs_direct": sample.p(0.5) / direct.p(0.5),
        }
        if through != DIRECT:
            row["added_p50_ms"] = (sample.p(0.5) - direct.p(0.5)) * 1e3
            row["added_p99_ms"] = (sample.p(0.99) - direct.p(0.99)) * 1e3
        rows.append(row)
    return rows


# ---- start time -------------------------------------------------------------------------------


async def time_start(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to the answer to the first `tools/list`, after initialize."""
    started = time.perf_counter()
    connection = await Connection.spawn(argv, env)
    try:
        await connection.handshake()
        await connection.call("tools/list")
        return time.perf_counter() - started
    finally:
        await connection.close()


async def start_times(argvs: dict[str, list[str]], env: dict[str, str], spawns: int) -> dict[str, list[float]]:
    """`spawns` start times per contender, interleaved so noise spreads evenly; one warm-up each."""
    for argv in argvs.values():
        await time_start(argv, env)
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(spawns):
        for name, argv in argvs.items():
            times[name].append(await time_start(argv, env))
    return times


def start_rows(times: dict[str, list[float]]) -> list[dict[str, Any]]:
    direct = statistics.median(times[DIRECT])
    rows = []
    for through, samples in times.items():
        median = statistics.median(samples)
        rows.append({
            "through": through, "spawns": len(samples), "median_ms": median * 1e3, "min_ms": min(samples) * 1e3,
            "added_ms": None if through == DIRECT else (median - direct) * 1e3, "ratio_vs_direct": median / direct,
        })
    return rows


# ---- memory -----------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """The resident set size of one process: VmRSS (kB, i.e. KiB) / 1024, in MiB, as `ps`/`top` show it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def rss_checkpoints(argv: list[str], env: dict[str, str], checkpoints: list[int]) -> dict[int, float]:
    """RSS of the serving process after each checkpoint's number of sequential small calls."""
    connection = await Connection.start(argv, env)
    try:
        done, found = 0, {}
        for checkpoint in checkpoints:
            for _ in range(checkpoint - done):
                await connection.call_tool(SMALL_TOOL)
            done = checkpoint
            found[checkpoint] = rss_mib(connection.pid)
        return found
    finally:
        await connection.close()


def flat_checkpoints(first: int, last: int) -> list[int]:
    """Where to read RSS on the long run: the short run's count, then a few steps to the end."""
    steps = [first, *(n for n in (2000, 5000, 10000) if first < n < last), last]
    return sorted(set(steps))


async def memory(
    argvs: dict[str, list[str]], env: dict[str, str], calls: int, flat_calls: int | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """RSS after `calls` small calls per contender; mcp-guard's run goes on to `flat_calls` if set."""
    rss: dict[str, float] = {}
    flat = None
    for name, argv in argvs.items():
        long_run = name == GUARD and flat_calls is not None and flat_calls > calls
        checkpoints = flat_checkpoints(calls, flat_calls) if long_run and flat_calls is not None else [calls]
        points = await rss_checkpoints(argv, env, checkpoints)
        rss[name] = points[calls]
        if long_run:
            flat = {"through": GUARD, "rss_mib_at_calls": {str(n): mb for n, mb in points.items()},
                    "growth_mib": points[max(points)] - points[calls], "from_calls": calls, "to_calls": max(points)}
    rows = [{"through": n, "calls": calls, "rss_mib": mb, "ratio_vs_direct": mb / rss[DIRECT]} for n, mb in rss.items()]
    return rows, flat


# ---- targets ----------------------------------------------------------------------------------


@dataclass
class Target:
    item: int
    name: str
    limit: str
    measured: float | None = None
    unit: str = ""
    digits: int = 3  # decimals shown
    passed: bool | None = None  # None: not measured in this run

    def check(self, measured: float | None, ok: Callable[[float], bool]) -> None:
        if measured is not None:
            self.measured, self.passed = measured, ok(measured)


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    return next((row for row in rows if all(row.get(k) == v for k, v in match.items())), None)


def _get(row: dict[str, Any] | None, key: str) -> float | None:
    return None if row is None else row[key]


def targets(results: dict[str, Any]) -> list[Target]:
    """Issue 13's targets, checked against this run's figures."""
    start = _find(results.get("start", []), through=GUARD)
    start_stripe = _find(results.get("start_stripe", []), through=GUARD)
    rss = _find(results.get("rss", []), through=GUARD)
    flat = results.get("rss_flat")
    small = _find(results.get("latency", []), scenario=LATENCY_SCENARIOS["small"][0], callers=1, through=GUARD)
    busy = _find(results.get("latency", []), scenario=LATENCY_SCENARIOS["small"][0], callers=8, through=GUARD)
    found = [
        Target(1, "start: added ms, spawn -> first tools/list, vs direct", f"<= {START_ADDED_MS_MAX:g} ms", unit="ms", digits=0),
        Target(1, "start on @stripe/mcp 0.2.5 (node): added ms, vs direct", f"<= {START_ADDED_MS_MAX:g} ms", unit="ms", digits=0),
        Target(2, f"memory: mcp-guard RSS after {rss['calls'] if rss else 1000:,} small calls", f"<= {RSS_MIB_MAX:g} MiB", unit="MiB", digits=1),
        Target(2, f"memory: RSS growth {flat['from_calls'] if flat else 1000:,} -> {flat['to_calls'] if flat else 20000:,} calls (flat)",
               f"<= {RSS_GROWTH_MIB_MAX:g} MiB", unit="MiB", digits=2),
        Target(3, "small call: added p50, sequential", f"<= {SMALL_ADDED_P50_MS_MAX:g} ms", unit="ms"),
        Target(3, "small call: added p99, sequential", f"<= {SMALL_ADDED_P99_MS_MAX:g} ms", unit="ms"),
        Target(4, "8 concurrent small calls: throughput vs direct", f">= {CONCURRENT_RATIO_MIN:.3f} (2x the 2026-11-22 ratio)", unit="x direct"),
    ]
    found[0].check(_get(start, "added_ms"), lambda v: v <= START_ADDED_MS_MAX)
    found[1].check(_get(start_stripe, "added_ms"), lambda v: v <= START_ADDED_MS_MAX)
    found[2].check(_get(rss, "rss_mib"), lambda v: v <= RSS_MIB_MAX)
    found[3].check(None if flat is None else flat["growth_mib"], lambda v: v <= RSS_GROWTH_MIB_MAX)
    found[4].check(_get(small, "added_p50_ms"), lambda v: v <= SMALL_ADDED_P50_MS_MAX)
    found[5].check(_get(small, "added_p99_ms"), lambda v: v <= SMALL_ADDED_P99_MS_MAX)
    found[6].check(_get(busy, "ratio_vs_direct"), lambda v: v >= CONCURRENT_RATIO_MIN)
    return found


# ---- reports ----------------------------------------------------------------------------------


def _ms(value: float | None, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+.3f} ms" if signed else f"{value:.3f} ms"


def latency_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| scenario | through | p50 | p99 | added p50 | added p99 | throughput | vs direct |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mode = "sequential" if r["callers"] == 1 else f"{r['callers']} concurrent"
        lines.append(
            f"| {r['scenario']}, {mode} | {r['through']} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | "
            f"{_ms(r['added_p50_ms'], True)} | {_ms(r['added_p99_ms'], True)} | {r['throughput_per_s']:.0f}/s | {r['ratio_vs_direct']:.2f} |"
        )
    return lines


def start_memory_table(start: list[dict[str, Any]], rss: list[dict[str, Any]]) -> list[str]:
    """One row per contender: start time and RSS, each with its ratio to direct (columns only for what ran)."""
    header, rule = ["through"], ["---"]
    if start:
        header += ["start (spawn → tools/list), median", "added", "vs direct"]
        rule += ["---"] * 3
    if rss:
        header += [f"RSS after {rss[0]['calls']:,} calls", "vs direct"]
        rule += ["---"] * 2
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    for through in dict.fromkeys([r["through"] for r in start] + [r["through"] for r in rss]):
        cells = [through]
        s, m = _find(start, through=through), _find(rss, through=through)
        if start:
            cells += ["", "", ""] if s is None else [
                f"{s['median_ms']:.0f} ms", "" if s["added_ms"] is None else f"{s['added_ms']:+.0f} ms", f"{s['ratio_vs_direct']:.2f}"
            ]
        if rss:
            cells += ["", ""] if m is None else [f"{m['rss_mib']:.1f} MiB", f"{m['ratio_vs_direct']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def flat_line(flat: dict[str, Any]) -> str:
    points = ", ".join(f"{int(n):,} calls: {mb:.1f} MiB" for n, mb in flat["rss_mib_at_calls"].items())
    return f"mcp-guard RSS over a long run: {points} (growth {flat['growth_mib']:+.2f} MiB)."


def targets_table(found: list[Target]) -> list[str]:
    lines = ["| item | target | limit | measured | pass |", "|---|---|---|---|---|"]
    for t in found:
        measured = "not measured" if t.measured is None else f"{t.measured:.{t.digits}f} {t.unit}"
        verdict = "" if t.passed is None else ("yes" if t.passed else "**no**")
        lines.append(f"| {t.item} | {t.name} | {t.limit} | {measured} | {verdict} |")
    return lines


def report(results: dict[str, Any]) -> str:
    parts: list[str] = []
    if results.get("start") or results.get("rss"):
        parts += [*start_memory_table(results.get("start", []), results.get("rss", [])), ""]
    if results.get("start_stripe"):
        parts += ["Start on Stripe's npm server (@stripe/mcp 0.2.5, node):", "", *start_memory_table(results["start_stripe"], []), ""]
    if results.get("rss_flat"):
        parts += [flat_line(results["rss_flat"]), ""]
    if results.get("latency"):
        parts += [*latency_table(results["latency"]), ""]
    parts += targets_table([Target(**t) for t in results["targets"]])
    return "\n".join(parts)


# ---- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections (default: all): {','.join(SECTIONS)}")
    parser.add_argument("--through", default="relay,guard,fastmcp", help="comma-separated contenders besides direct: relay, guard, fastmcp (default: all)")
    parser.add_argument("--calls", type=int, default=2000, help="calls per small/4k scenario (1m makes 5%% of these)")
    parser.add_argument("--spawns", type=int, default=11, help="spawns per contender for the start time (median)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per latency scenario (calls are split between them)")
    parser.add_argument("--rss-calls", type=int, default=1000, help="small calls before reading RSS")
    parser.add_argument("--flat-calls", type=int, default=20000, help="small calls of mcp-guard's long run (section flat)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results (default: benchmarks/results.json)")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    names = [t.strip() for t in args.through.split(",") if t.strip()]
    unknown = set(names) - set(THROUGH)
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))} (use {', '.join(THROUGH)})")
    args.through = [THROUGH[name] for name in names]
    return args


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run_sections(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if "start" in args.only or "rss" in args.only or "flat" in args.only:
        directory = tmp / "start"
        directory.mkdir()
        argvs, env = contenders(directory, upstream_argv(), args.through), bench_env(directory)
        if "start" in args.only:
            results["start"] = start_rows(await start_times(argvs, env, args.spawns))
            progress(f"measured: start time ({args.spawns} spawns each)")
        if "rss" in args.only or "flat" in args.only:
            flat_calls = args.flat_calls if "flat" in args.only else None
            results["rss"], results["rss_flat"] = await memory(argvs, env, args.rss_calls, flat_calls)
            progress(f"measured: RSS after {args.rss_calls} calls" + (f", mcp-guard to {flat_calls}" if flat_calls else ""))
    if "start-stripe" in args.only:
        if STRIPE_NPM_SERVER.exists() and shutil.which("node"):
            directory = tmp / "start-stripe"
            directory.mkdir()
            upstream = [str(shutil.which("node")), str(STRIPE_NPM_SERVER), "--tools=all"]
            env = {**bench_env(directory), "STRIPE_SECRET_KEY": BENCH_KEY}  # direct and the relays pass it on; mcp-guard's config has it
            results["start_stripe"] = start_rows(await start_times(contenders(directory, upstream, args.through), env, args.spawns))
            progress(f"measured: start time on @stripe/mcp 0.2.5 ({args.spawns} spawns each)")
        else:
            progress("note: tests/node has no @stripe/mcp 0.2.5 (make node-tools installs it) or node is missing: start-stripe is left out")
    results["latency"] = []
    for section in (s for s in LATENCY_SCENARIOS if s in args.only):
        label, tool, size, share = LATENCY_SCENARIOS[section]
        for callers in (1, 8):
            directory = tmp / f"{section}-{callers}"
            directory.mkdir()
            calls = max(callers * 5, int(args.calls * share) // callers * callers)
            rounds = max(1, min(args.rounds, calls // (callers * 5)))  # at least 5 calls per caller and round
            calls = calls // (rounds * callers) * rounds * callers
            samples = await latency_scenario(tool, size, calls, callers, directory, args.through, rounds)
            results["latency"] += latency_rows(label, callers, calls, samples)
            progress(f"measured: {label}, {callers} caller(s) ({calls} calls each)")
    return results


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
        "sections": args.only, "through": [DIRECT, *args.through], "calls": args.calls, "spawns": args.spawns, "rounds": args.rounds,
        "rss_calls": args.rss_calls, "flat_calls": args.flat_calls if "flat" in args.only else None,
        "concurrent_baseline": {"date": "2026-11-22", "mcp_guard_per_s": CONCURRENT_BASELINE_PER_S, "direct_per_s": CONCURRENT_BASELINE_DIRECT_PER_S},
    }


async def main() -> None:
    args = parse_args()
    if not PEERS_PYTHON.exists():
        progress("note: benchmarks/.venv-peers is missing (make bench creates it): FastMCP is left out")
    with tempfile.TemporaryDirectory() as tmp:
        results = {"settings": settings(args), **await run_sections(args, Path(tmp))}
    results["targets"] = [asdict(t) for t in targets(results)]
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    progress(f"wrote {args.json}")


if __name__ == "__main__":
    asyncio.run(main())
