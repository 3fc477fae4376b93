"""Rule model, loader, expression language, backends, ranking and roll-up. No workbook I/O."""
