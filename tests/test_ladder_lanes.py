"""docs/study/sot_ladder/lanes.sh: lanes share one queue, each line runs once, a spec's data are
built under its lock before its job, blank, comment and malformed lines are dropped, and a job's
small files land where table.py reads them. Snakemake is replaced by a stand-in that records its
calls and writes the files a finished job would."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "docs" / "study" / "sot_ladder" / "lanes.sh"

FAKE_SNAKEMAKE = """#!/usr/bin/env bash
# stand-in: record the call; for a run's metrics.csv write the files a finished job writes
dir=; targets=; configs=
while [ $# -gt 0 ]; do
  case $1 in
    --directory) dir=$2; shift 2 ;;
    --) shift; targets="$*"; break ;;
    *) shift ;;
  esac
done
echo "$dir|$targets" >> "$CALLS"
for t in $targets; do
  case $t in
    */metrics.csv)
      run=$dir/$(dirname "$t"); mkdir -p "$run"
      for f in config.json metrics.csv timing.csv test.json; do echo "$t" > "$run/$f"; done
      [ -z "${FAIL_UNIT:-}" ] || case $t in *"/$FAIL_UNIT/"*) exit 1 ;; esac ;;
  esac
done
"""


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    ladder = root / "docs" / "study" / "sot_ladder"
    ladder.mkdir(parents=True)
    shutil.copy(SCRIPT, ladder / "lanes.sh")
    for overlay in ("calibrate=0.05", "input=first_frame"):
        (ladder / f"{overlay}.yaml").write_text("{}\n")
    (root / "config.yaml").write_text("{}\n")
    return root


def test_lanes_run_each_line_once_and_copy_its_results(tmp_path):
    root = _repo(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "snakemake"
    fake.write_text(FAKE_SNAKEMAKE)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    queue = tmp_path / "queue.txt"
    queue.write_text("\n# a comment\npaper+calibrate=0.05 LIF 0\r\npaper+calibrate=0.05 LIF 1\n"
                     "paper+nosuch=1 LIF 0\npaper LIF\npaper+input=first_frame BLI 2 CNN\n"
                     "paper+calibrate=0.05 BA 0\n")  # fmt: skip
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls.txt"),
           "WORK": str(tmp_path / "work"), "FAIL_UNIT": "BA"}  # fmt: skip
    lanes = [subprocess.Popen(["bash", str(root / "docs/study/sot_ladder/lanes.sh"), str(queue)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]  # fmt: skip
    for lane in lanes:
        out, _ = lane.communicate(timeout=60)
        assert lane.returncode == 0, out
    assert queue.read_text() == ""
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    trained = sorted(c for c in calls if c.endswith("metrics.csv"))
    work = tmp_path / "work" / "sot-ladder"
    assert trained == sorted([
        f"{work}/paper+calibrate=0.05|results/runs/sot/CRNN/LIF/seed0/metrics.csv",
        f"{work}/paper+calibrate=0.05|results/runs/sot/CRNN/LIF/seed1/metrics.csv",
        f"{work}/paper+calibrate=0.05|results/runs/sot/CRNN/BA/seed0/metrics.csv",
        f"{work}/paper+input=first_frame|results/runs/sot/CNN/BLI/seed2/metrics.csv",
    ])  # fmt: skip
    for job in trained:  # every job's data and settings were built (under the spec's lock) before it
        spec = job.split("|")[0]
        assert calls.index(f"{spec}|results/data/sot/train.json results/data/sot/val.json settings") < calls.index(job)
    runs = root / "docs" / "study" / "sot_ladder"
    for spec, arch, unit, seed in (("paper+calibrate=0.05", "CRNN", "LIF", 0), ("paper+calibrate=0.05", "CRNN", "LIF", 1),
                                   ("paper+input=first_frame", "CNN", "BLI", 2)):  # fmt: skip
        copied = runs / spec / "runs" / "sot" / arch / unit / f"seed{seed}"
        assert sorted(p.name for p in copied.iterdir()) == ["config.json", "metrics.csv", "test.json", "timing.csv"]
    assert not (runs / "paper+calibrate=0.05" / "runs" / "sot" / "CRNN" / "BA").exists()  # its job failed
    log = Path(f"{queue}.log").read_text()
    assert "skipped 'paper+nosuch=1 LIF 0': no docs/study/sot_ladder/nosuch=1.yaml" in log
    assert "skipped 'paper LIF': not '<spec> <unit> <seed> [arch]'" in log
    assert "done paper+calibrate=0.05 CRNN BA 0: exit 1" in log and log.count(": exit 0") == 3


def test_a_missing_queue_is_refused_without_touching_the_repository(tmp_path):
    root = _repo(tmp_path)
    run = subprocess.run(["bash", str(root / "docs/study/sot_ladder/lanes.sh"), str(tmp_path / "none.txt")],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert run.returncode == 2 and "usage" in run.stderr
    assert not list(root.glob("*.lock"))
