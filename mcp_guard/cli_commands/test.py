"""`mcp-guard test [PATH...]`: run policy case files (`*_test.yaml`; default: policies/).

Prints `ok` or `FAIL` per case with its name, then `N passed, M failed`.
Exit codes: 0 all passed; 1 a case failed, no case ran, or a case file is malformed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mcp_guard.policy_cases import discover, run_case_file


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("test", help="run policy test cases (YAML case files)")
    parser.add_argument("paths", nargs="*", type=Path, help="case files or directories (default: policies)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    files = discover(args.paths or [Path("policies")])
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
        print("no policy cases found", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed + failed == 0 else 0
