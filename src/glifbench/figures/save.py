"""Writing a figure: atomically (never a half-written PNG), then closing it."""

from __future__ import annotations

from pathlib import Path

from glifbench.io import atomic_path


def save_figure(fig, dest: str | Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG at ``dest`` through a temporary file, close it, return ``dest``."""
    import matplotlib.pyplot as plt

    with atomic_path(dest, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return Path(dest)
