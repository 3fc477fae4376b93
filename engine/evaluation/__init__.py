"""Evaluating a batch: validation of submitted rows, the two backends, evidence, ranking and roll-up."""
