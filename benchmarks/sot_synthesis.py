"""Benchmark SOT synthesis: throughput (trials/s of 100 frames) and peak memory.

    python benchmarks/sot_synthesis.py [--trials 512] [--threads 1]

Reports (1) the vectorised generator's trials/s against a straightforward baseline run in the
same process (each trial's background prefiltered once, then one ``map_coordinates`` call per frame;
everything else identical), and
(2) the peak resident memory of streaming N and 4N trials in fresh subprocesses, which must not
grow with N.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from scipy import ndimage


def _stack() -> np.ndarray:
    from glifbench.data.backgrounds import builtin_image

    return np.stack([builtin_image(n) for n in ("grass", "gravel", "brick", "camera", "moon")])


def baseline_trials(stack: np.ndarray, n: int, seed: int) -> None:
    """A plain loop: prefilter each trial's background once, one ``map_coordinates`` per frame."""
    from glifbench.data import sot

    p = sot.SOTParams()
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[0 : p.window, 0 : p.window]
    for _ in range(n):
        image = stack[rng.integers(len(stack))].astype(np.float32)
        image *= p.background_max / image.max()
        coeff = ndimage.spline_filter(image, order=3, mode="mirror")
        corners = sot.window_paths(rng, 1, image.shape, p)[0]
        targets = sot.target_paths(rng, 1, p)
        frames = np.stack(
            [
                ndimage.map_coordinates(coeff, [rr + r, cc + c], order=3, mode="mirror", prefilter=False)
                for r, c in corners
            ]
        )[None]
        sot.splat_targets(frames, targets, p.target_intensity)
        frames += p.noise_scale * frames * rng.standard_normal(frames.shape, dtype=np.float32)
        np.clip(frames, 0, 1, out=frames)


def vectorised_trials(stack: np.ndarray, n: int, seed: int) -> None:
    from glifbench.data.sot import iter_trials

    for _ in iter_trials(stack, n, seed):
        pass


def _timed(func, *args) -> float:
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


def peak_memory(n: int) -> dict:
    """Stream ``n`` trials in a fresh interpreter; report its peak RSS (MiB)."""
    code = (
        "import resource, sys; sys.path.insert(0, 'benchmarks');"
        f"import sot_synthesis as b; s = b._stack(); b.vectorised_trials(s, {n}, 0);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {"trials": n, "peak_rss_mib": round(float(out.stdout.strip().splitlines()[-1]), 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=512)
    parser.add_argument("--baseline-trials", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    stack = _stack()
    vectorised_trials(stack, 32, 99)  # warm-up
    fast = args.trials / _timed(vectorised_trials, stack, args.trials, 0)
    slow = args.baseline_trials / _timed(baseline_trials, stack, args.baseline_trials, 0)
    report = {
        "trials_per_s": round(fast, 1),
        "baseline_trials_per_s": round(slow, 1),
        "speedup_vs_baseline": round(fast / slow, 2),
        "memory": [peak_memory(args.trials), peak_memory(4 * args.trials)],
        "self_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
