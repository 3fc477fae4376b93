"""The checked rule pack (schema, loader, variants, versions) and the official unit lists it is applied to."""
