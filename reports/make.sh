#!/usr/bin/env bash
# Regenerate the committed results: a fixed subset of the version-1 core suite (its first N
# items at seed 0, which visits every (family, query) cell round-robin; the spec is frozen
# as tests/data/core_v1.yaml until the committed runs are regenerated on item families),
# scored by the four baselines and the two embedded models, one report per run, the Granger quick grid
# on the default model, and the leaderboard. Usage: bash reports/make.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
OUT=reports/core${N}
mkdir -p "$OUT/runs"
[ -f "$OUT/items.jsonl" ] || ladder generate --spec tests/data/core_v1.yaml --n "$N" --seed 0 --out "$OUT/items.jsonl"
for model in truth-oracle association-oracle always-yes random smollm2-135m-instruct gemma-3-270m; do
  dir="$OUT/runs/$model"
  if [ -f "$dir/results.json" ]; then
    ladder run --resume "$dir" --quiet
  else
    ladder run --model "$model" --items "$OUT/items.jsonl" --run-dir "$dir" --quiet
  fi
  # `ladder run --items` copies the item file into the run directory; the committed runs
  # share one file instead, so swap an identical copy for a relative link (git stores it).
  if [ ! -L "$dir/items.jsonl" ] && cmp -s "$OUT/items.jsonl" "$dir/items.jsonl"; then
    ln -sfn ../../items.jsonl "$dir/items.jsonl"
  fi
done
# The Granger probes of the default model sit in its run directory, so its report has them.
ladder granger --grid quick --out "$OUT/runs/smollm2-135m-instruct" --resume
for dir in "$OUT"/runs/*/; do
  ladder report "$dir"
done
ladder leaderboard "$OUT"/runs/*/ --out reports/leaderboard.md
python3 -m ladder.analysis.readme README.md reports/leaderboard.md "$OUT"/runs/*/
