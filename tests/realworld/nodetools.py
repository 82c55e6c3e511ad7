"""Where the pinned npm test tools live (installed by ``make node-tools`` into tests/node).

Shared by the real-world tests and the conformance script; stdlib only.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE_MODULES = NODE_DIR / "node_modules"
PRELOAD_HOSTED_FETCH = NODE_DIR / "preload-hosted-fetch.cjs"
PRELOAD_STRIPE_NODE = NODE_DIR / "preload-stripe-node.cjs"

# package.json alias or name -> path of the entry point inside that package.
_ENTRY_POINTS = {
    "stripe-mcp-0.3.3": "dist/index.js",
    "stripe-mcp-0.2.5": "dist/index.js",
    "@modelcontextprotocol/inspector-cli": "build/cli.js",
    "@modelcontextprotocol/conformance": "dist/index.js",
    "@modelcontextprotocol/server-everything": "dist/index.js",
    "supergateway": "dist/index.js",
}

MISSING_HINT = "the npm test tools are not installed: run `make node-tools` (npm ci in tests/node)"


class NodeToolsMissing(RuntimeError):
    """tests/node/node_modules (or node itself) is missing or out of date."""


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeToolsMissing("node is not on PATH (Node 20+ is needed for the real-world tests)")
    return node


def entry_point(package: str) -> Path:
    """Absolute path of a pinned package's entry point, checked against package-lock.json."""
    if not NODE_MODULES.is_dir():
        raise NodeToolsMissing(MISSING_HINT)
    package_dir = NODE_MODULES / package
    manifest = package_dir / "package.json"
    if not manifest.is_file():
        raise NodeToolsMissing(f"{package} is not in {NODE_MODULES}: {MISSING_HINT}")
    wanted = _locked_version(package)
    installed = json.loads(manifest.read_text())["version"]
    if wanted is not None and installed != wanted:
        raise NodeToolsMissing(f"{package} is {installed}, package-lock.json pins {wanted}: {MISSING_HINT}")
    return package_dir / _ENTRY_POINTS[package]


def _locked_version(package: str) -> str | None:
    lock = NODE_DIR / "package-lock.json"
    packages = json.loads(lock.read_text()).get("packages", {})
    entry = packages.get(f"node_modules/{package}")
    return entry.get("version") if entry else None


def node_command(package: str, *args: str) -> list[str]:
    """``node <entry point> args...``: no npx, so no extra process layer (pitfall 5)."""
    return [node_binary(), str(entry_point(package)), *args]


def free_port() -> int:
    """A free TCP port on 127.0.0.1, for tools that cannot listen on port 0 and report it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, alive: Callable[[], bool] | None = None) -> None:
    """Block until 127.0.0.1:port accepts connections (a readiness poll, bounded by timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if alive is not None and not alive():
                raise RuntimeError(f"the process meant to listen on port {port} exited") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s") from None
            time.sleep(0.05)


def ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
