"""Figure like the paper's Fig. 7: feed-forward and recurrent kernels of LIF and BLI networks.

Each kernel ``[C_out, C_in, 3, 3]`` is drawn as a ``C_out x C_in`` grid of 3x3 blocks; on the
recurrent kernels the diagonal blocks' centres are the autapses (outlined).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from glifbench.figures.save import save_figure  # noqa: E402
from glifbench.models.weights import LayerWeights  # noqa: E402


def tile(kernel: np.ndarray) -> np.ndarray:
    """``[C_out, C_in, k, k]`` (or ``[C_out, C_in, k]``) -> a 2-D image with 1-pixel NaN gaps."""
    if kernel.ndim == 3:
        kernel = kernel[:, :, None, :]
    c_out, c_in, kh, kw = kernel.shape
    image = np.full((c_out * (kh + 1) - 1, c_in * (kw + 1) - 1), np.nan)
    for o in range(c_out):
        for i in range(c_in):
            image[o * (kh + 1) : o * (kh + 1) + kh, i * (kw + 1) : i * (kw + 1) + kw] = kernel[o, i]
    return image


def autapse_pixels(kernel: np.ndarray) -> list[tuple[int, int]]:
    """(row, column) in :func:`tile`'s image of every autapse ``kernel[c, c, centre]``."""
    if kernel.ndim == 3:
        kernel = kernel[:, :, None, :]
    c_out, c_in, kh, kw = kernel.shape
    return [(c * (kh + 1) + kh // 2, c * (kw + 1) + kw // 2) for c in range(min(c_out, c_in))]


def plot_kernels(layers: Mapping[str, LayerWeights], dest: str | Path, title: str) -> Path:
    """One column per unit type (e.g. LIF, BLI): feed-forward kernel above, recurrent below.

    Each row shares one symmetric colour scale (the largest magnitude of the row), so signs and
    sizes compare across unit types; blocks are separated by blank lines and every autapse of the
    recurrent kernels is outlined.
    """
    fig, axes = plt.subplots(2, len(layers), figsize=(4.2 * len(layers), 8), constrained_layout=True, squeeze=False)
    for row, name in enumerate(("feed-forward", "recurrent")):
        kernels = {unit: (layer.feedforward if row == 0 else layer.recurrent).numpy() for unit, layer in layers.items()}
        bound = max(float(np.abs(k).max()) for k in kernels.values()) or 1.0
        for col, (unit, data) in enumerate(kernels.items()):
            ax = axes[row, col]
            image = ax.imshow(tile(data), cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
            if row == 1:
                for y, x in autapse_pixels(data):
                    ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="black", lw=0.9))
            ax.set_title(f"{unit}: {name} ({layers[unit].name})" + (", autapses outlined" if row == 1 else ""), fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(image, ax=list(axes[row]), shrink=0.7, label=f"{name} weight (shared scale)")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, dest)
