"""Questions about packs and scored batches: explain, coverage, completeness, diff, scenario cases."""
