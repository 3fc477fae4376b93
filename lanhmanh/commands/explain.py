"""`lanhmanh explain`: being built (issue 4, auditor tools)."""
from __future__ import annotations

import click


@click.command(hidden=True)
def explain() -> None:
    """Not available yet (issue 4)."""
    raise click.UsageError("`lanhmanh explain` is not available yet")
