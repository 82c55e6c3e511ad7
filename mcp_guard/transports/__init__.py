"""Edges that move JSON-RPC messages: the client's stdio, and the upstream over stdio or HTTP."""
