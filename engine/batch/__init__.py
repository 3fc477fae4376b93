"""The year's batch around the engine: last year's results, targets, the history database."""
