"""The Stripe field table generator (`make stripe-fields`, `python -m tools.stripe_fields`).

    _read.py        the pinned `stripe` package's sources, read with `ast`: object types, fields, types, docs
    _rules.py       classification rules on names, paths, types and documentation (first match wins)
    overrides.yaml  reviewed classifications the rules get wrong or cannot decide, one reason each
    _operations.py  operation ids of the read endpoints, with the object type each returns
    _table.py       the table: every field of every object type with its type and class
    __main__.py     writes mcp_guard/data/stripe_fields.json, or `--check`s it (the coverage gate)
"""
