"""`lanhmanh verify`: being built (issue 4, auditor tools)."""
from __future__ import annotations

import click


@click.command(hidden=True)
def verify() -> None:
    """Not available yet (issue 4)."""
    raise click.UsageError("`lanhmanh verify` is not available yet")
