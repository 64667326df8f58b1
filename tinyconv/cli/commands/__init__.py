"""Subcommands of the ``tinyconv`` command, one module each (discovered, not listed)."""
