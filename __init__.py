"""lanhmanh: classify, score and rank communes from declarative rule packs.

    import lanhmanh
    result = lanhmanh.score(["nghe-an-2025.csv"], rules="qd-28-2025")

The library API is `lanhmanh.api` (docs/api.md); its errors are in `lanhmanh.errors`."""
from lanhmanh.api import load_pack, score
from lanhmanh.version import __version__

__all__ = ["__version__", "load_pack", "score"]
