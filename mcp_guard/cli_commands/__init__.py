"""One module per CLI subcommand. Each exposes `register(subparsers)` and `run(args) -> int`."""
