"""Catalog pinning: the upstream's tools as an operator reviewed them, and drift from that.

    settings.py  PinningMode, the profile's `pinning: off | warn | enforce`
    lock.py      the lock file (`mcp-guard.lock` beside the config): fingerprints, load/save,
                 `drift_report`, the preflight problems and `check`'s summary
    check.py     CatalogPin: hides drifted tools from tools/list and denies calls to them

This `__init__` imports nothing on purpose: `mcp_guard.config` imports `settings` while it is
itself being imported (Profile has a `pinning` field), so anything here that imported the
pipeline or the policy would close an import cycle. Import from the submodules.
"""
