"""`mcp-guard test [PATH...] | [--config F]`: run policy case files (`*_test.yaml`).

With PATHs: those case files, and every `*_test.yaml` under those directories. Without: the case
files beside the active config, the one `run` would load (`--config`, `$MCP_GUARD_CONFIG`, the
user config dir, then the packaged default, whose cases ship in the package too). A case file's
`config:` is read relative to the case file, so the run does not depend on the working directory.

Prints `ok` or `FAIL` per case with its name, then `N passed, M failed`.
Exit codes: 0 all passed; 1 a case failed, no case ran, a case file is malformed, or the active
config cannot be found; 2 bad usage (PATHs together with --config).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mcp_guard.config import find_config
from mcp_guard.policy_cases import CASE_FILE_SUFFIX, cases_beside, discover, run_case_file


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "test",
        help="run policy test cases (YAML case files; default: those beside the active config)",
        description="Run policy case files. Exit 0 when every case passes, 1 when one fails or none ran.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("paths", nargs="*", type=Path, default=[], help="case files or directories (default: the cases beside the active config)")
    which.add_argument("--config", type=Path, help="run the cases beside this config instead of the active one")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.paths:
        files = discover(args.paths)
        where = ", ".join(str(path) for path in args.paths)
    else:
        config = args.config if args.config is not None else find_config()
        files = cases_beside(config)
        where = f"{config.parent} (*{CASE_FILE_SUFFIX} beside {config.name})"
        print(f"config: {config}")
    passed = failed = 0
    for path in files:
        for result in run_case_file(path):
            if result.passed:
                passed += 1
                print(f"ok    {path}: {result.name}")
            else:
                failed += 1
                print(f"FAIL  {path}: {result.name}")
                for problem in result.problems:
                    print(f"        {problem}")
    if passed + failed == 0:
        print(f"no policy cases found in {where}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed + failed == 0 else 0
