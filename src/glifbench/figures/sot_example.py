"""Figure like the paper's Fig. 1: a background with the drifting window, and 5 frames of one trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glifbench.data.backgrounds import normalised_background  # noqa: E402
from glifbench.data.sot import SOTParams, synthesize_chunk  # noqa: E402
from glifbench.io import atomic_path  # noqa: E402


def plot_sot_example(backgrounds: np.ndarray, dest: str | Path, seed: int, params: dict[str, Any]) -> Path:
    """Panel A: background 0 with the window's drift path, and the path zoomed with a scale bar;
    panel B: 5 equally spaced frames."""
    p = SOTParams.from_dict(params)
    image = normalised_background(backgrounds[0], p.background_max)
    trial = synthesize_chunk(image[None], np.random.default_rng(seed), 1, p)
    frames, positions, corners = trial.frames, trial.positions, trial.corners[0]

    fig = plt.figure(figsize=(13, 3.4), constrained_layout=True)
    grid = fig.add_gridspec(1, 7, width_ratios=[1.6, 1.6, 1, 1, 1, 1, 1])
    path_x, path_y = corners[:, 1] + p.window / 2, corners[:, 0] + p.window / 2
    ax = fig.add_subplot(grid[0])
    ax.imshow(image, cmap="gray", vmin=0, vmax=0.75)
    ax.plot(path_x, path_y, color="tab:orange", lw=1)
    r, c = corners[0]
    ax.add_patch(plt.Rectangle((c, r), p.window, p.window, fill=False, color="tab:red", lw=1))
    ax.set_title("A: background and window drift", fontsize=9)
    ax.axis("off")
    # A, zoomed: the drift path with the first and last windows and a scale bar
    ax = fig.add_subplot(grid[1])
    ax.imshow(image, cmap="gray", vmin=0, vmax=0.75)
    ax.plot(path_x, path_y, color="tab:orange", lw=1.2)
    for (r, c), colour in ((corners[0], "tab:red"), (corners[-1], "tab:blue")):
        ax.add_patch(plt.Rectangle((c, r), p.window, p.window, fill=False, color=colour, lw=1))
    pad = p.window
    x0, x1 = corners[:, 1].min() - pad / 2, corners[:, 1].max() + p.window + pad / 2
    y0, y1 = corners[:, 0].min() - pad / 2, corners[:, 0].max() + p.window + pad / 2
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    bar = 10
    ax.plot([x0 + 2, x0 + 2 + bar], [y1 - 3, y1 - 3], color="white", lw=2)
    ax.text(x0 + 2 + bar / 2, y1 - 5, f"{bar} px", color="white", ha="center", va="bottom", fontsize=7)
    ax.set_title(f"A, zoomed: drift over {p.n_frames} frames\n(red: first window, blue: last)", fontsize=8)
    ax.axis("off")
    edge = p.window - 1
    for k, t in enumerate(np.linspace(0, p.n_frames - 1, 5).round().astype(int)):
        ax = fig.add_subplot(grid[k + 2])
        ax.imshow(frames[0, t], cmap="gray", vmin=0, vmax=0.75)
        x, y = positions[0, t] * edge
        ax.add_patch(plt.Circle((x, y), 2.5, fill=False, color="red", lw=1.2))
        ax.set_title(f"B: frame {t}", fontsize=9)
        ax.axis("off")
    with atomic_path(dest, suffix=Path(dest).suffix) as tmp:
        fig.savefig(tmp, dpi=120, format=Path(dest).suffix.lstrip(".") or "png")
    plt.close(fig)
    return Path(dest)
