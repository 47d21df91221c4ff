"""Small-object-tracking (SOT) video synthesis, paper section II-A.

A trial is ``T`` frames of a ``W x W`` window (30x30) over an 800x800 background:

* **Sensor drift.** The window centre ``c_t`` (sub-pixel, per axis) moves with a velocity that
  follows a discrete Ornstein-Uhlenbeck process
  ``v_{t+1} = (1 - theta) v_t + sigma * xi_t``, ``xi_t ~ N(0, 1)``, ``c_{t+1} = c_t + v_t``,
  started from its stationary law ``v_0 ~ N(0, sigma^2 / (1 - (1 - theta)^2))`` and reflected
  at the background's border. The crop at a sub-pixel offset is sampled with cubic B-splines
  (exactly ``scipy.ndimage.map_coordinates(order=3)``), vectorised over all frames.
* **Target.** One target per trial on a ballistic path in frame coordinates,
  ``p(t) = p_0 + u t`` folded into ``[0, W-1]`` (elastic collisions with the frame's edges),
  speed ``|u| ~ U[(1 - s) m, (1 + s) m]`` with mean ``m = 1/3`` px/frame and a uniform
  direction. Its intensity 0.25 is added by a bilinear splat over the 4 nearest pixels.
* **Noise.** ``x <- x + 0.25 * x * n``, ``n ~ N(0, 1)`` per pixel and frame (standard deviation
  proportional to intensity), then ``x <- clip(x, 0, 1)``.
* **Labels.** ``(x, y) = (column, row) / (W - 1)`` in ``[0, 1]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple

import numpy as np
from scipy import ndimage

from glifbench.data.fetch import DataError

CHUNK_TRIALS = 32  # trials synthesised together: bounds memory, keeps numpy vectorised
PREFILTER_MARGIN = 12  # px of context for the local spline prefilter (error ~ 0.268**12)


@dataclass(frozen=True)
class SOTParams:
    """Stimulus parameters; defaults are the paper's values (section II-A) or documented choices."""

    window: int = 30
    n_frames: int = 100
    background_max: float = 0.5
    target_intensity: float = 0.25
    target_speed: float = 1.0 / 3.0
    target_speed_spread: float = 0.5
    noise_scale: float = 0.25
    ou_theta: float = 0.1
    ou_sigma: float = 0.065
    start_margin: int = 100

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SOTParams:
        """Build from a config mapping; unknown keys raise an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown SOT parameter(s) {unknown}; valid: {sorted(known)}")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fold(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect ``values`` into ``[low, high]`` (a path with elastic collisions at both ends)."""
    span = high - low
    q = np.mod(values - low, 2.0 * span)
    return low + np.where(q > span, 2.0 * span - q, q)


def bspline_weights(frac: np.ndarray) -> np.ndarray:
    """Cubic B-spline weights of the taps at offsets -1, 0, 1, 2 for fractional positions."""
    t = frac.astype(np.float32)
    t2, t3 = t * t, t * t * t
    return np.stack(
        [(1 - t) ** 3 / 6, (3 * t3 - 6 * t2 + 4) / 6, (-3 * t3 + 3 * t2 + 3 * t + 1) / 6, t3 / 6],
        axis=-1,
    )


def window_paths(rng: np.random.Generator, n: int, shape: tuple[int, int], p: SOTParams) -> np.ndarray:
    """Top-left corners ``(n, T, 2)`` (row, col) of the drifting window, in background pixels."""
    T = p.n_frames
    decay = 1.0 - p.ou_theta
    v_sd = p.ou_sigma / np.sqrt(max(1.0 - decay**2, 1e-12))
    v = np.empty((n, T, 2))
    v[:, 0] = rng.normal(0.0, v_sd, size=(n, 2))
    xi = rng.normal(0.0, p.ou_sigma, size=(n, T, 2))
    for t in range(1, T):
        v[:, t] = decay * v[:, t - 1] + xi[:, t]
    hi = np.array(shape, dtype=float) - p.window - 3.0  # keep the 4-tap stencil inside
    lo = 2.0
    margin = np.minimum(float(p.start_margin), (hi - lo) / 2.0)
    start = rng.uniform(lo + margin, hi - margin, size=(n, 2))
    corner = start[:, None, :] + np.cumsum(v, axis=1) - v[:, :1]
    return fold(corner, lo, hi)


def target_paths(rng: np.random.Generator, n: int, p: SOTParams) -> np.ndarray:
    """Sub-pixel target positions ``(n, T, 2)`` as (x=column, y=row) in frame pixels."""
    edge = p.window - 1.0
    start = rng.uniform(0.0, edge, size=(n, 2))
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
    speed = p.target_speed * rng.uniform(1 - p.target_speed_spread, 1 + p.target_speed_spread, n)
    velocity = speed[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    t = np.arange(p.n_frames, dtype=float)
    return fold(start[:, None, :] + t[None, :, None] * velocity[:, None, :], 0.0, edge)


def _spline_regions(
    backgrounds: np.ndarray, index: np.ndarray, corners: np.ndarray, p: SOTParams
) -> tuple[np.ndarray, np.ndarray]:
    """B-spline coefficients of the part of each trial's background its window visits.

    Returns the coefficient regions padded to a common shape ``(n, Rh, Rw)`` and the integer
    origin ``(n, 2)`` of each region in background pixels.
    """
    n = len(index)
    base = np.floor(corners).astype(np.int64)
    low = base.min(axis=1) - 1
    high = base.max(axis=1) + p.window + 3
    size = (high - low).max(axis=0)
    regions = np.zeros((n, int(size[0]), int(size[1])), dtype=np.float32)
    H, W = backgrounds.shape[1:]
    for k in range(n):
        r0, c0 = low[k]
        r1, c1 = high[k]
        pr0, pc0 = max(r0 - PREFILTER_MARGIN, 0), max(c0 - PREFILTER_MARGIN, 0)
        pr1, pc1 = min(r1 + PREFILTER_MARGIN, H), min(c1 + PREFILTER_MARGIN, W)
        image = backgrounds[index[k]]
        peak = float(np.max(image))
        if peak <= 0:
            raise DataError(f"background {index[k]} is black: cannot normalise its maximum")
        scale = np.float32(p.background_max / peak)
        raw = np.asarray(image[pr0:pr1, pc0:pc1], dtype=np.float32)
        coeff = ndimage.spline_filter(raw * scale, order=3, mode="mirror", output=np.float32)
        regions[k, : r1 - r0, : c1 - c0] = coeff[r0 - pr0 : r1 - pr0, c0 - pc0 : c1 - pc0]
    return regions, low


def render_crops(regions: np.ndarray, origin: np.ndarray, corners: np.ndarray, window: int) -> np.ndarray:
    """Cubic B-spline samples ``(n, T, W, W)`` of each region at the sub-pixel window corners."""
    n, T, _ = corners.shape
    base = np.floor(corners).astype(np.int64)
    frac = corners - base
    offset = base - origin[:, None, :] - 1  # first tap of the stencil inside each region
    taps = np.arange(window + 3)
    rows = offset[:, :, 0, None] + taps  # (n, T, W+3)
    cols = offset[:, :, 1, None] + taps
    trial = np.arange(n)[:, None, None, None]
    patch = regions[trial, rows[:, :, :, None], cols[:, :, None, :]]  # (n, T, W+3, W+3)
    wy, wx = bspline_weights(frac[..., 0]), bspline_weights(frac[..., 1])  # (n, T, 4)
    horiz = sum(wx[:, :, None, None, j] * patch[:, :, :, j : j + window] for j in range(4))
    return sum(wy[:, :, None, None, i] * horiz[:, :, i : i + window, :] for i in range(4))


def splat_targets(frames: np.ndarray, positions: np.ndarray, intensity: float) -> None:
    """Add ``intensity`` at each sub-pixel (x, y) position by bilinear weights (in place)."""
    n, T, H, W = frames.shape
    x0 = np.minimum(np.floor(positions[..., 0]).astype(np.int64), W - 2)
    y0 = np.minimum(np.floor(positions[..., 1]).astype(np.int64), H - 2)
    fx = (positions[..., 0] - x0).astype(np.float32)
    fy = (positions[..., 1] - y0).astype(np.float32)
    nn, tt = np.meshgrid(np.arange(n), np.arange(T), indexing="ij")
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            frames[nn, tt, y0 + dy, x0 + dx] += intensity * wy * wx


def _as_stack(background: np.ndarray) -> np.ndarray:
    arr = background if isinstance(background, np.memmap) else np.asarray(background)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise DataError(f"background must be (H, W) or (n, H, W), got shape {arr.shape}")
    return arr


def iter_trials(
    background: np.ndarray, n_trials: int, seed: int, **params: Any
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(frames, positions)`` chunks of at most :data:`CHUNK_TRIALS` trials.

    Memory is bounded by the chunk size, whatever ``n_trials`` is. Each background is
    normalised to a maximum of ``background_max`` (paper: 0.5) before use.
    """
    p = SOTParams.from_dict(params)
    stack = _as_stack(background)
    need = p.window + 8
    if stack.shape[1] < need or stack.shape[2] < need:
        raise DataError(f"background of shape {stack.shape[1:]} is smaller than {need}x{need}")
    if n_trials < 0:
        raise ValueError(f"n_trials must be >= 0, got {n_trials}")
    for chunk, start in enumerate(range(0, n_trials, CHUNK_TRIALS)):
        n = min(CHUNK_TRIALS, n_trials - start)
        trials = synthesize_chunk(stack, np.random.default_rng([seed, chunk]), n, p)
        yield trials.frames, trials.positions


class Chunk(NamedTuple):
    frames: np.ndarray  # (n, T, W, W) float32 in [0, 1]
    positions: np.ndarray  # (n, T, 2) float32 (x, y) in [0, 1]
    corners: np.ndarray  # (n, T, 2) window top-left (row, col) in background pixels
    background: np.ndarray  # (n,) index of each trial's background


def synthesize_chunk(stack: np.ndarray, rng: np.random.Generator, n: int, p: SOTParams) -> Chunk:
    """Synthesise ``n`` trials from ``rng`` (one vectorised pass; see the module docstring)."""
    index = rng.integers(0, len(stack), size=n)
    corners = window_paths(rng, n, stack.shape[1:], p)
    targets = target_paths(rng, n, p)
    regions, origin = _spline_regions(stack, index, corners, p)
    frames = render_crops(regions, origin, corners, p.window)
    splat_targets(frames, targets, p.target_intensity)
    noise = rng.standard_normal(frames.shape, dtype=np.float32)
    frames += np.float32(p.noise_scale) * frames * noise
    np.clip(frames, 0.0, 1.0, out=frames)
    positions = (targets / (p.window - 1)).astype(np.float32)
    return Chunk(frames.astype(np.float32, copy=False), positions, corners, index)


def synthesize_trials(
    background: np.ndarray, n_trials: int, seed: int, **params: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Synthesise SOT trials: frames ``(N, T, W, W)`` and positions ``(N, T, 2)``, float32 in [0, 1].

    ``background`` is one image ``(H, W)`` or a stack ``(n, H, W)`` (each trial draws one
    uniformly); ``params`` override :class:`SOTParams`. Same arguments, same bytes.
    """
    p = SOTParams.from_dict(params)
    frames = np.empty((n_trials, p.n_frames, p.window, p.window), dtype=np.float32)
    positions = np.empty((n_trials, p.n_frames, 2), dtype=np.float32)
    at = 0
    for f, pos in iter_trials(background, n_trials, seed, **params):
        frames[at : at + len(f)], positions[at : at + len(f)] = f, pos
        at += len(f)
    return frames, positions
