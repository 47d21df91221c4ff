"""How N independent models share one GPU: N processes (with or without MPS) against N threads of one process.

    python benchmarks/gpu_sharing.py --device cuda [--task sot] [--unit LIF] [--ways 1 2 4 8 16]
                                     [--modes processes mps streams] [--seconds 20] [--eager] [--pack K]

Each "way" is one model of the task's Table III CRNN training on its own batches (the
benchmark's random ones, batch and steps as ``training_step.py``'s SETUPS), its step captured as
a CUDA graph as a training job's is (``glifbench.training.steps.CapturedStep``; ``--eager``: the
eager step); with ``--pack K``, K models trained as one pack (``training.group: seeds``, the
pack's step captured as one graph likewise), so N ways are N x K models (``models`` in a row;
MPS with packs). For each N it reports the aggregate trials/s of the models stepping for
``--seconds`` at once, and per model:

* ``processes``: N processes, one model each -- what N training jobs sharing a card are today
  (Snakemake ``--cores N``, one CPU thread per job). Without MPS the GPU runs one process's
  work at a time (time-slicing), so N captured models may do no more than one (measured on an
  H100: 16 captured SOT LIF processes 1.02x one, docs/performance.md);
* ``mps``: the same N processes as clients of a CUDA MPS server (``nvidia-cuda-mps-control -d``,
  started by this script with its pipe and log folders in a temporary folder and quit after the
  measurement; it changes no setting of the card), under which the kernels of different
  processes can run at once (measured on an H200: 8 captured SOT LIF processes 3.28x the
  time-sliced aggregate; training jobs get the same from ``tools/with_mps.sh``). Where the
  control program is missing or does not start, the row says so (``error``) and the other modes run;
* ``streams``: N threads of one process, each model on its own CUDA stream, so that the kernels
  of different models can run at once on the GPU's SMs (a step at batch 16 fills a fraction of
  them). The threads warm up and capture one after the other (a capture must not see another
  thread's allocations), then all replay together.

The question it answers (issue 11, "how captured jobs share a card"): whether training N
single-seed jobs in one process on N streams, or as N processes under MPS (the answer so far:
MPS, which needs no change to the jobs), would fill the GPU better than N processes. It
decides whether glifbench should grow a runner of many jobs per process for studies whose
variants cannot be packed (``training.group: seeds`` packs only seeds). On a CPU it runs too
(eager steps; there the threads share the cores), to check the script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from training_step import SETUPS, _batch, bench_network, ready_pack, ready_pack_step, ready_step  # noqa: E402


def build_step(task: str, unit: str, seed: int, device: str, eager: bool, pack: int = 1):
    """One model and its step as a job runs it (``training_step.ready_step``: captured on CUDA
    unless ``eager``), warmed up and (captured) run; a call without arguments. With ``pack`` K > 1:
    K models (seeds ``seed * K`` to ``seed * K + K - 1``) as one pack, the step of a job with
    ``training.group: seeds`` (``training_step.ready_pack_step``; captured as one CUDA graph likewise)."""
    captured = device == "cuda" and not eager
    if pack == 1:
        steps = SETUPS[task]["steps"]
        net = bench_network(task, unit, seed, device, n_steps=steps)
        step = ready_step(net, task, _batch(task, SETUPS[task]["batch"], steps, seed=seed, device=device), device, captured)
    else:
        models, _, _, batches = ready_pack(task, unit, list(range(seed * pack, seed * pack + pack)), device)
        step = ready_pack_step(models, task, batches, captured)
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
    step = build_step(args.task, args.unit, args.seed, args.device, args.eager, args.pack)
    wait = args.start - time.time()
    if wait < 0:
        print(json.dumps({"seed": args.seed, "late_s": -wait}), flush=True)
    time.sleep(max(wait, 0))
    start = time.perf_counter()
    n = step_for(step, args.seconds, args.device)
    print(json.dumps({"seed": args.seed, "steps": n, "seconds": time.perf_counter() - start}), flush=True)


def run_processes(args: argparse.Namespace, ways: int, env: dict[str, str] | None = None) -> tuple[int, float]:
    """N worker processes started together (with ``env``, e.g. an MPS server's folders); returns
    (steps of all, the longest wall time)."""
    start = time.time() + args.startup
    cmd = [sys.executable, __file__, "--worker", "--task", args.task, "--unit", args.unit, "--device", args.device,
           "--seconds", str(args.seconds), "--start", str(start), "--pack", str(args.pack)] + \
        (["--eager"] if args.eager else [])  # fmt: skip
    procs = [subprocess.Popen(cmd + ["--seed", str(k)], stdout=subprocess.PIPE, text=True, env=env)
             for k in range(ways)]  # fmt: skip
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


MPS_CONTROL = "nvidia-cuda-mps-control"


@contextmanager
def mps_server() -> Iterator[dict[str, str]]:
    """A CUDA MPS control daemon of our own (pipe and log folders in a temporary folder), quit on
    leaving; yields the environment its clients need. Raises ``RuntimeError`` where the control
    program is missing or the daemon does not start."""
    control = shutil.which(MPS_CONTROL) or next(
        (str(p) for p in (Path("/usr/local/nvidia/bin") / MPS_CONTROL, Path("/usr/bin") / MPS_CONTROL) if p.exists()),
        None)  # fmt: skip
    if control is None:
        raise RuntimeError(f"{MPS_CONTROL} not found")
    with tempfile.TemporaryDirectory(prefix="mps-") as folder:
        env = {**os.environ, "CUDA_MPS_PIPE_DIRECTORY": f"{folder}/pipe", "CUDA_MPS_LOG_DIRECTORY": f"{folder}/log"}
        os.makedirs(env["CUDA_MPS_PIPE_DIRECTORY"])
        os.makedirs(env["CUDA_MPS_LOG_DIRECTORY"])
        started = subprocess.run([control, "-d"], env=env, capture_output=True, text=True, timeout=30)
        if started.returncode != 0:
            raise RuntimeError(f"{MPS_CONTROL} -d failed ({started.returncode}): {started.stderr.strip()[:200]}")
        try:
            yield env
        finally:
            subprocess.run([control], input="quit\n", env=env, capture_output=True, text=True, timeout=60)


def run_mps(args: argparse.Namespace, ways: int) -> tuple[int, float]:
    """:func:`run_processes` with the N processes as clients of an MPS server of their own."""
    if args.device != "cuda":
        raise RuntimeError("MPS shares a CUDA device: run with --device cuda")
    with mps_server() as env:
        return run_processes(args, ways, env)


def run_streams(args: argparse.Namespace, ways: int) -> tuple[int, float]:
    """N threads, each a model on its own CUDA stream (on a CPU: the default stream), built and
    captured one after the other, then stepping together."""
    torch.set_num_threads(1)
    streams = [torch.cuda.Stream() if args.device == "cuda" else None for _ in range(ways)]
    models = []
    for k, stream in enumerate(streams):
        with torch.cuda.stream(stream) if stream is not None else nullcontext():  # its graph on its stream
            models.append(build_step(args.task, args.unit, k, args.device, args.eager, args.pack))
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
    parser.add_argument("--modes", nargs="+", default=["processes", "mps", "streams"],
                        choices=["processes", "mps", "streams"])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=20.0, help="stepping time per measurement")
    parser.add_argument("--startup", type=float, default=40.0, help="seconds the processes get to build and capture")
    parser.add_argument("--eager", action="store_true", help="eager steps instead of captured ones")
    parser.add_argument("--pack", type=int, default=1,
                        help="models per way, trained as one pack (training.group: seeds); trials count all of them")
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
    if args.pack < 1:
        parser.error("--pack must be at least 1")
    batch = SETUPS[args.task]["batch"]
    rows, single = [], {}
    runners = {"processes": run_processes, "mps": run_mps, "streams": run_streams}
    for mode in args.modes:
        for ways in args.ways:
            row = {
                "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu", "task": args.task,
                "unit": args.unit, "batch": batch, "step": "eager" if args.eager or args.device == "cpu" else "captured",
                "mode": mode, "models": ways * args.pack, "ways": ways, "pack": args.pack,
            }  # fmt: skip
            try:
                steps, seconds = runners[mode](args, ways)
            except RuntimeError as error:
                if mode != "mps":
                    raise
                rows.append({**row, "error": str(error)})  # no MPS here: say so, measure the rest
                print(json.dumps(rows[-1]), flush=True)
                break
            rate = steps * batch * args.pack / seconds
            single.setdefault(mode, rate if ways == 1 else None)
            row.update({"seconds": round(seconds, 1), "trials_per_s_aggregate": round(rate, 1),
                        "trials_per_s_per_model": round(rate / (ways * args.pack), 1)})  # fmt: skip
            if single[mode]:
                row["aggregate_over_one"] = round(rate / single[mode], 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
