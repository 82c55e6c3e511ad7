"""`python -m tools.stripe_fields [--check] [--report]` (what `make stripe-fields` runs).

Reads the installed `stripe` package (it must be the version pinned in pyproject.toml) with `ast`,
classifies every field and writes mcp_guard/data/stripe_fields.json, and the class of every
operation id to mcp_guard/_stripe_operations.py. `--check` writes nothing and exits 1 if either
checked-in file differs from a fresh one. Either way it exits 1 while a string
field has no class or an override matches no field.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from mcp_guard.redaction._classes import CLASSES
from tools.stripe_fields._operations import read_operation_classes, read_operations, render_operation_classes
from tools.stripe_fields._read import read_model
from tools.stripe_fields._table import Override, Report, build_table

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "mcp_guard" / "data" / "stripe_fields.json"
OPERATIONS = ROOT / "mcp_guard" / "_stripe_operations.py"
OVERRIDES = Path(__file__).resolve().parent / "overrides.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stripe_fields", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the checked-in table instead of writing it")
    parser.add_argument("--report", action="store_true", help="print how many string fields each class and rule got")
    args = parser.parse_args(argv)

    try:
        version, package_dir = pinned_stripe()
        text, report = generate(package_dir, version)
        operations = render_operation_classes(read_operation_classes(package_dir), version)
    except (OSError, ValueError, LookupError) as exc:
        print(f"stripe-fields: {exc}", file=sys.stderr)
        return 1
    if args.report:
        print_report(report)
    problems = report_problems(report)
    for problem in problems:
        print(f"stripe-fields: {problem}", file=sys.stderr)
    outputs = ((TABLE, text), (OPERATIONS, operations))
    if args.check:
        for path, fresh in outputs:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != fresh:
                print(f"stripe-fields: {path.relative_to(ROOT)} is not what stripe {version} gives; run `make stripe-fields` and review the diff", file=sys.stderr)
                return 1
    elif not problems:
        for path, fresh in outputs:
            path.write_text(fresh, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({len(fresh.encode())} bytes) from stripe {version}")
    return 1 if problems else 0


def pinned_stripe() -> tuple[str, Path]:
    """The pinned version from pyproject.toml, and the installed package's directory (never imported)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [dep for deps in pyproject["project"]["optional-dependencies"].values() for dep in deps if re.match(r"stripe\s*==", dep)]
    if len(pins) != 1:
        raise LookupError("pyproject.toml must pin exactly one stripe==X.Y.Z")
    pinned = pins[0].split("==", 1)[1].strip()
    installed = importlib.metadata.version("stripe")
    if installed != pinned:
        raise LookupError(f"stripe {installed} is installed but {pinned} is pinned: reinstall with `pip install -e '.[test]'`")
    spec = importlib.util.find_spec("stripe")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("the stripe package is not installed")
    return pinned, Path(next(iter(spec.submodule_search_locations)))


def load_overrides(path: Path = OVERRIDES) -> list[Override]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    overrides = []
    for entry in entries:
        if set(entry) != {"field", "class", "why"} or entry["class"] not in CLASSES or not str(entry["why"]).strip():
            raise ValueError(f"{path.name}: each entry needs field, a known class and a one-line why: {entry!r}")
        overrides.append(Override(str(entry["field"]), str(entry["class"]), str(entry["why"])))
    return overrides


def generate(package_dir: Path, version: str) -> tuple[str, Report]:
    model = read_model(package_dir)
    class_objects = {key: name for name, key in model.objects.items()}
    table, report = build_table(model, load_overrides(), read_operations(package_dir, class_objects), version)
    return serialize(table), report


def serialize(table: dict[str, Any]) -> str:
    """One field per line (so that a new pin is a readable diff), keys sorted, ASCII only."""
    return json.dumps(table, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def report_problems(report: Report) -> list[str]:
    problems = [f"no class for string field {site.object}.{'.'.join(site.path)} ({site.doc[:80]!r})" for site in report.unclassified]
    problems += [f"override {o.pattern!r} matches no field (stale after an upgrade?)" for o in report.unused_overrides]
    return problems


def print_report(report: Report) -> None:
    print("string fields per class:")
    for cls, count in sorted(report.counts.items(), key=lambda item: -item[1]):
        print(f"  {count:5d}  {cls}")
    print("fields per rule:")
    for what, count in sorted(report.by_rule.items(), key=lambda item: -item[1]):
        print(f"  {count:5d}  {what}")


if __name__ == "__main__":
    raise SystemExit(main())
