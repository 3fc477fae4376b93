"""lanhmanh: classify, score and rank communes from declarative rule packs."""

__version__ = "0.1.0"
