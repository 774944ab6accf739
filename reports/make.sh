#!/usr/bin/env bash
# Regenerate the committed results: a fixed subset of the `core` suite (its first N items at
# seed 0: whole item families of every graph family, N = 600 by default), scored by the
# baselines (the four standard ones and two mixture baselines that validate the analysis) and
# the two embedded models, one report per run, the Granger quick grid on the default model,
# the leaderboard, and the README quote. Usage: bash reports/make.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-600}"
OUT=reports/core${N}
mkdir -p "$OUT/runs"
[ -f "$OUT/items.jsonl" ] || ladder generate --suite core --n "$N" --seed 0 --out "$OUT/items.jsonl"
MODELS=(truth-oracle association-oracle always-yes random mixture-0.7 biased-0.9
  smollm2-135m-instruct gemma-3-270m)
for model in "${MODELS[@]}"; do
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
# The quick grid is 2.46M tokens (1.4 h on a quiet 2-core CPU: `ladder granger --grid quick --dry-run`
# measures it), so it runs only when asked: GRANGER=1 bash reports/make.sh.
if [ "${GRANGER:-0}" = 1 ]; then
  dir="$OUT/runs/smollm2-135m-instruct"
  if [ -f "$dir/granger.json" ]; then
    ladder granger --out "$dir" --resume
  else
    ladder granger --grid quick --out "$dir"
  fi
fi
for dir in "$OUT"/runs/*/; do
  ladder report "$dir"
done
ladder leaderboard "$OUT"/runs/*/ --out reports/leaderboard.md
python3 -m ladder.analysis.readme README.md reports/leaderboard.md "$OUT"/runs/*/
