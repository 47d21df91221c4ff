"""Weight statistics of paper IV-B/IV-C: LIF vs BLI weights and autapses (Wilcoxon rank-sum),
and the mean-squared amplitude of recurrent weights.

Sets compared, pooled over seeds and recurrent layers (documented choice, docs/analysis.md):
``feedforward`` = every element of the feed-forward kernels; ``recurrent`` = every element of the
recurrent kernels except the autapses; ``autapses`` = ``W_rec[c, c, centre]`` of every channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from glifbench.models.weights import LayerWeights

SETS = ("feedforward", "recurrent", "autapses")


def weight_sets(layers: Iterable[LayerWeights]) -> dict[str, np.ndarray]:
    """Pool the three weight sets of some layers (of one or several models)."""
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in SETS}
    for layer in layers:
        rec = layer.recurrent.numpy()
        c = rec.shape[0]
        centre = tuple(k // 2 for k in rec.shape[2:])
        mask = np.ones_like(rec, dtype=bool)
        mask[(np.arange(c), np.arange(c)) + centre] = False
        pooled["feedforward"].append(layer.feedforward.numpy().ravel())
        pooled["recurrent"].append(rec[mask])
        pooled["autapses"].append(layer.autapses.numpy())
    return {k: np.concatenate(v) if v else np.empty(0) for k, v in pooled.items()}


def compare(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], names: tuple[str, str], alpha: float = 0.05) -> pd.DataFrame:
    """Wilcoxon rank-sum test of ``a`` vs ``b`` for every weight set."""
    rows = []
    for name in SETS:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if len(x) == 0 or len(y) == 0:
            raise ValueError(f"no {name} weights to compare ({names[0]}: {len(x)}, {names[1]}: {len(y)})")
        test = stats.ranksums(x, y)
        rows.append({
            "set": name, "statistic": float(test.statistic), "p_value": float(test.pvalue),
            "significant": bool(test.pvalue < alpha), f"n_{names[0]}": len(x), f"n_{names[1]}": len(y),
            f"median_{names[0]}": float(np.median(x)), f"median_{names[1]}": float(np.median(y)),
            f"positive_{names[0]}": float(np.mean(x > 0)), f"positive_{names[1]}": float(np.mean(y > 0)),
        })  # fmt: skip
    return pd.DataFrame(rows)


def mean_squared(values: np.ndarray) -> float:
    """Mean-squared amplitude ``mean(w^2)``."""
    return float(np.mean(np.square(values)))


def recurrent_amplitude(layers: Iterable[LayerWeights]) -> float:
    """Mean-squared amplitude of every recurrent kernel element of ``layers`` (autapses
    included), pooled over the layers (of one or several models): ``mean(W_rec^2)``."""
    return mean_squared(np.concatenate([layer.recurrent.numpy().ravel() for layer in layers]))
