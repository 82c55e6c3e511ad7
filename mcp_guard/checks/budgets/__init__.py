"""Data budgets: how much one profile may call and read per window, across all its processes.

    settings.py  BudgetSettings, the profile's `budgets:` section
    ledger.py    BudgetLedger: the shared state file under the audit dir, updated under flock
    check.py     DataBudget: refuses a call once a budget is used up, counts what results carry

This `__init__` imports nothing on purpose: `mcp_guard.config` imports `settings` while it is
itself being imported (Profile has a `budgets` field), so anything here that imported the
pipeline would close an import cycle. Import from the submodules.
"""
