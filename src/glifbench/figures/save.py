"""Writing a figure: titles wrapped to its width, atomically (never a half-written PNG), then
closing it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from glifbench.io import atomic_path


def fit_titles(fig) -> None:
    """Wrap every title line that is wider than ``fig`` (the axes' titles and the suptitle; a
    partial grid's note makes them long) so that none is cut off at the figure's edge."""
    renderer = fig.canvas.get_renderer()
    width = 0.96 * fig.bbox.width
    suptitle = getattr(fig, "_suptitle", None)
    for text in [ax.title for ax in fig.axes] + ([suptitle] if suptitle is not None else []):
        lines = text.get_text().split("\n")
        extent = text.get_window_extent(renderer).width
        if extent > width:
            chars = max(10, int(max(map(len, lines)) * width / extent))
            text.set_text("\n".join(textwrap.fill(line, chars) for line in lines))


def save_figure(fig, dest: str | Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG at ``dest`` through a temporary file, close it, return ``dest``."""
    import matplotlib.pyplot as plt

    fit_titles(fig)
    with atomic_path(dest, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return Path(dest)
