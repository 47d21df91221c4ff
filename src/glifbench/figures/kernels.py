"""Figure like the paper's Fig. 7: feed-forward and recurrent kernels of LIF and BLI networks.

Each kernel ``[C_out, C_in, 3, 3]`` is drawn as a ``C_out x C_in`` grid of 3x3 blocks; on the
recurrent kernels the diagonal blocks' centres are the autapses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glifbench.io import atomic_path  # noqa: E402
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


def plot_kernels(layers: Mapping[str, LayerWeights], dest: str | Path, title: str) -> Path:
    """One column per unit type (e.g. LIF, BLI): feed-forward kernel above, recurrent below."""
    fig, axes = plt.subplots(2, len(layers), figsize=(4.2 * len(layers), 8), constrained_layout=True, squeeze=False)
    for col, (unit, layer) in enumerate(layers.items()):
        for row, (name, kernel) in enumerate((("feed-forward", layer.feedforward), ("recurrent", layer.recurrent))):
            data = kernel.numpy()
            bound = float(np.abs(data).max()) or 1.0
            image = axes[row, col].imshow(tile(data), cmap="RdBu_r", vmin=-bound, vmax=bound)
            axes[row, col].set_title(f"{unit}: {name} ({layer.name})", fontsize=9)
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
            fig.colorbar(image, ax=axes[row, col], shrink=0.7)
    fig.suptitle(title, fontsize=10)
    with atomic_path(dest, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(dest)
