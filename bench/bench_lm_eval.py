"""ladder's scorer against lm-evaluation-harness on the same items and the same model.

Both run as whole processes (model load included) on the items exported by
``ladder export --format lm-eval``: lm-eval's HF backend scores " Yes"/" No" after
``<prompt>\\nAnswer:``, and ``ladder run --no-chat-template`` scores exactly that question.
The two are run in turn ``--rounds`` times; the script prints each wall time, items/s and
the median ratio, and checks the two agree on the answers.

    python bench/bench_lm_eval.py [--items FILE] [--lm-eval-python PATH] [--rounds 2]

lm-eval is optional: pass the interpreter of an environment that has it (e.g. a venv made
with ``--system-site-packages`` and ``pip install lm-eval``); without it the script says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _embedded_folder() -> Path:
    from ladder.harness.models.embedded import converted_dir, load_embedded

    load_embedded("smollm2-135m-instruct")  # makes sure the converted copy exists
    return converted_dir("smollm2-135m-instruct")


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=Path, default=None, help="item file (default: quick)")
    parser.add_argument(
        "--lm-eval-python", default=None, help="python with lm_eval installed (default: this one)"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8, help="lm-eval batch size")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ladder-bench-lmeval-"))
    items = args.items
    if items is None:
        items = work / "items.jsonl"
        subprocess.run(
            ["ladder", "generate", "--suite", "quick", "--out", str(items), "--quiet"], check=True
        )
    n = sum(1 for line in items.read_text().splitlines() if line.strip())
    folder = _embedded_folder()
    subprocess.run(
        [
            "ladder",
            "export",
            "--format",
            "lm-eval",
            "--items",
            str(items),
            "--out",
            str(work / "task"),
            "--task-name",
            "ladder_bench",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    py = args.lm_eval_python or sys.executable
    has_lm_eval = subprocess.run([py, "-c", "import lm_eval"], capture_output=True).returncode == 0
    if not has_lm_eval:
        print(f"lm_eval is not importable from {py}; pass --lm-eval-python. Only ladder is timed.")
    lm_out = work / "lm_out"
    lm_cmd = [
        py,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={folder},dtype=float32",
        "--tasks",
        "ladder_bench",
        "--include_path",
        str(work / "task"),
        "--batch_size",
        str(args.batch_size),
        "--device",
        "cpu",
        "--log_samples",
        "--output_path",
        str(lm_out),
    ]
    ladder_times, lm_times = [], []
    for r in range(args.rounds):
        run_dir = work / f"run{r}"
        ladder_cmd = [
            "ladder",
            "run",
            "--model",
            str(folder),
            "--no-chat-template",
            "--items",
            str(items),
            "--run-dir",
            str(run_dir),
            "--no-cache",
            "--quiet",
        ]
        ladder_times.append(_timed(ladder_cmd))
        print(
            f"round {r + 1}: ladder {ladder_times[-1]:.1f} s ({n / ladder_times[-1]:.2f} items/s)",
            end="",
        )
        if has_lm_eval:
            shutil.rmtree(lm_out, ignore_errors=True)
            lm_times.append(_timed(lm_cmd))
            print(
                f"; lm-eval {lm_times[-1]:.1f} s ({n / lm_times[-1]:.2f} items/s); "
                f"ratio {lm_times[-1] / ladder_times[-1]:.2f}x",
                end="",
            )
        print()
    print(f"\n{n} items, SmolLM2-135M-Instruct, whole processes (load included)")
    print(
        f"ladder  median {statistics.median(ladder_times):.1f} s = "
        f"{n / statistics.median(ladder_times):.2f} items/s"
    )
    if lm_times:
        print(
            f"lm-eval median {statistics.median(lm_times):.1f} s = "
            f"{n / statistics.median(lm_times):.2f} items/s"
        )
        ratios = [b / a for a, b in zip(ladder_times, lm_times, strict=True)]
        print(
            f"speed-up of ladder over lm-eval (per round, then median): "
            f"{', '.join(f'{x:.2f}' for x in ratios)} -> {statistics.median(ratios):.2f}x "
            "(target >= 2x)"
        )
        # Agreement: lm-eval's acc per item against ladder's correct flags.
        samples = sorted(lm_out.rglob("samples_ladder_bench*.jsonl"))
        if samples:
            rows = [json.loads(line) for line in samples[0].read_text().splitlines()]
            lm_acc = [r["acc"] for r in sorted(rows, key=lambda r: r["doc_id"])]
            ours = [
                json.loads(line)["correct"]
                for line in (work / "run0" / "samples.jsonl").read_text().splitlines()
            ]
            same = sum(int(bool(a) == b) for a, b in zip(lm_acc, ours, strict=False))
            print(
                f"per-item agreement of correctness: {same}/{len(ours)}; accuracy ladder "
                f"{sum(ours) / len(ours):.3f}, lm-eval {sum(lm_acc) / len(lm_acc):.3f}"
            )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
