"""Every error mcp-guard raises on purpose.

    GuardError                      base; the CLI prints its message on one line and exits 1
    ├── ConfigError                 a config or policy file cannot be loaded or is invalid
    ├── KeyBindingError             an API key does not fit the profile's mode
    ├── GrantError                  an OAuth grant is missing, revoked, unrefreshable or for the wrong mode
    ├── PolicyTestError             a policy case file is malformed
    ├── RedactionError              the redactor could not process a message (fail closed)
    ├── BudgetStateError            a data budget's shared state file cannot be used
    ├── AuditError                  an audit record could not be written or read
    └── UpstreamError               the upstream could not be started, died or hung
        └── UpstreamTimeout         it did not answer in time (`tools`, `lock`)

Messages name the file, tool, rule or key involved, never a secret value.
"""

from __future__ import annotations


class GuardError(Exception):
    """Base of every error mcp-guard raises on purpose."""


class ConfigError(GuardError):
    """A config or policy file cannot be loaded or is invalid."""


class KeyBindingError(GuardError):
    """An API key does not fit the profile's mode (test vs live, restricted vs secret)."""


class GrantError(GuardError):
    """An OAuth grant is missing, revoked, cannot be refreshed, or does not fit the profile."""


class PolicyTestError(GuardError):
    """A policy test case file is malformed."""


class RedactionError(GuardError):
    """The redactor could not process a message; the message must not pass."""


class BudgetStateError(GuardError):
    """The budget state file cannot be used; the call it was needed for is refused."""


class AuditError(GuardError):
    """An audit record could not be written or read."""


class UpstreamError(GuardError):
    """The upstream MCP server could not be reached or stopped working."""


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time."""
