"""Upstream MCP servers that tests run as a proxy's upstream."""
