"""`lanhmanh diff`: being built (issue 4, auditor tools)."""
from __future__ import annotations

import click


@click.command(hidden=True)
def diff() -> None:
    """Not available yet (issue 4)."""
    raise click.UsageError("`lanhmanh diff` is not available yet")
