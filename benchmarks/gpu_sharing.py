"""How N independent models share one GPU: N processes against N threads of one process.

    python benchmarks/gpu_sharing.py --device cuda [--task sot] [--unit LIF] [--ways 1 2 4 8 16]
                                     [--modes processes streams] [--seconds 20] [--eager]

Each "way" is one model of the task's Table III CRNN training on its own batches (the
benchmark's random ones, batch and steps as ``training_step.py``'s SETUPS), its step captured as
a CUDA graph as a training job's is (``glifbench.training.steps.CapturedStep``; ``--eager``: the
eager step). For each N it reports the aggregate trials/s of N models stepping for ``--seconds``
at once, and per model:

* ``processes``: N processes, one model each -- what N training jobs sharing a card are today
  (Snakemake ``--cores N``, one CPU thread per job). Without MPS the GPU runs one process's
  work at a time (time-slicing), so N captured models may do no more than one;
* ``streams``: N threads of one process, each model on its own CUDA stream, so that the kernels
  of different models can run at once on the GPU's SMs (a step at batch 16 fills a fraction of
  them). The threads warm up and capture one after the other (a capture must not see another
  thread's allocations), then all replay together.

The question it answers (issue 11, "how captured jobs share a card"): whether training N
single-seed jobs in one process on N streams would fill the GPU better than N processes. It
decides whether glifbench should grow a runner of many jobs per process for studies whose
variants cannot be packed (``training.group: seeds`` packs only seeds). On a CPU it runs too
(eager steps; there the threads share the cores), to check the script.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from training_step import SETUPS, _batch, ready_step  # noqa: E402

from glifbench.models import build_network  # noqa: E402


def build_step(task: str, unit: str, seed: int, device: str, eager: bool):
    """One model and its step as a job runs it (``training_step.ready_step``: captured on CUDA
    unless ``eager``), warmed up and (captured) run; a call without arguments."""
    torch.manual_seed(seed)
    steps = SETUPS[task]["steps"]
    net = build_network(task, "CRNN", unit, n_steps=steps, init_gain=1.0 if unit == "Real" else 4.0)
    batch = _batch(task, SETUPS[task]["batch"], steps, seed=seed, device=device)
    step = ready_step(net.to(device).record_activity(False), task, batch, device, device == "cuda" and not eager)
    _sync(device)
    return step


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def step_for(step, seconds: float, device: str) -> int:
    """Steps until ``seconds`` have passed (checked every step; the queue drained at the end)."""
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        step()
        n += 1
        if device == "cuda" and n % 8 == 0:
            torch.cuda.current_stream().synchronize()  # keep the queue short: time is work done
    _sync(device)
    return n


def worker(args: argparse.Namespace) -> None:
    """One process's model: ready, then step from ``--start`` (a shared wall-clock time) for ``--seconds``."""
    torch.set_num_threads(1)
    step = build_step(args.task, args.unit, args.seed, args.device, args.eager)
    wait = args.start - time.time()
    if wait < 0:
        print(json.dumps({"seed": args.seed, "late_s": -wait}), flush=True)
    time.sleep(max(wait, 0))
    start = time.perf_counter()
    n = step_for(step, args.seconds, args.device)
    print(json.dumps({"seed": args.seed, "steps": n, "seconds": time.perf_counter() - start}), flush=True)


def run_processes(args: argparse.Namespace, ways: int) -> tuple[int, float]:
    """N worker processes started together; returns (steps of all, the longest wall time)."""
    start = time.time() + args.startup
    cmd = [sys.executable, __file__, "--worker", "--task", args.task, "--unit", args.unit, "--device", args.device,
           "--seconds", str(args.seconds), "--start", str(start)] + (["--eager"] if args.eager else [])  # fmt: skip
    procs = [subprocess.Popen(cmd + ["--seed", str(k)], stdout=subprocess.PIPE, text=True) for k in range(ways)]
    rows = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=args.startup + 4 * args.seconds + 120)
            lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            late = [r for r in lines if "late_s" in r]
            if late or proc.returncode != 0:
                raise RuntimeError(f"a worker was late or failed ({late}, exit {proc.returncode}): raise --startup")
            rows.append(lines[-1])
    finally:
        for proc in procs:
            proc.kill()
    return sum(r["steps"] for r in rows), max(r["seconds"] for r in rows)


def run_streams(args: argparse.Namespace, ways: int) -> tuple[int, float]:
    """N threads, each a model on its own CUDA stream (on a CPU: the default stream), built and
    captured one after the other, then stepping together."""
    torch.set_num_threads(1)
    streams = [torch.cuda.Stream() if args.device == "cuda" else None for _ in range(ways)]
    models = []
    for k, stream in enumerate(streams):
        with torch.cuda.stream(stream) if stream is not None else nullcontext():  # its graph on its stream
            models.append(build_step(args.task, args.unit, k, args.device, args.eager))
    counts = [0] * ways
    errors: list[BaseException] = []
    barrier = threading.Barrier(ways + 1)

    def run(k: int) -> None:
        step = models[k]
        with torch.cuda.stream(streams[k]) if streams[k] is not None else nullcontext():
            barrier.wait()
            try:
                counts[k] = step_for(step, args.seconds, args.device)
            except BaseException as error:  # noqa: BLE001 - re-raised below: a failed model must not count as idle
                errors.append(error)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(ways)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} of {ways} models failed while stepping") from errors[0]
    return sum(counts), time.perf_counter() - start


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sot", choices=list(SETUPS))
    parser.add_argument("--unit", default="LIF")
    parser.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    parser.add_argument("--ways", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--modes", nargs="+", default=["processes", "streams"], choices=["processes", "streams"])
    parser.add_argument("--seconds", type=float, default=20.0, help="stepping time per measurement")
    parser.add_argument("--startup", type=float, default=40.0, help="seconds the processes get to build and capture")
    parser.add_argument("--eager", action="store_true", help="eager steps instead of captured ones")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.device == "cuda":  # the precision training jobs run with (float32, no TF32)
        from glifbench.training.trainer import pick_device

        pick_device("cuda")
    if args.worker:
        worker(args)
        return []
    batch = SETUPS[args.task]["batch"]
    rows, single = [], {}
    for mode in args.modes:
        for ways in args.ways:
            steps, seconds = (run_processes if mode == "processes" else run_streams)(args, ways)
            rate = steps * batch / seconds
            single.setdefault(mode, rate if ways == 1 else None)
            row = {
                "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu", "task": args.task,
                "unit": args.unit, "batch": batch, "step": "eager" if args.eager or args.device == "cpu" else "captured",
                "mode": mode, "models": ways, "seconds": round(seconds, 1),
                "trials_per_s_aggregate": round(rate, 1), "trials_per_s_per_model": round(rate / ways, 1),
            }  # fmt: skip
            if single[mode]:
                row["aggregate_over_one"] = round(rate / single[mode], 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
