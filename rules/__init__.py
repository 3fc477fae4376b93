"""The shipped rule packs (YAML data, never Python)."""
