#!/usr/bin/env bash
# Regenerate the committed CLadder comparison: the five CLadder generator test files in
# ../shared/external/cladder (or $CLADDER_DIR) imported as one item file with its label audit,
# scored by the truth and association oracles, always-yes and the two embedded models, one
# report per run. Usage: bash reports/make_cladder.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="${CLADDER_DIR:-../shared/external/cladder}"
OUT=reports/cladder
mkdir -p "$OUT/runs"
files=()
for variant in easy hard anti det non; do files+=("$SRC/test-generate-$variant.json"); done
ladder import cladder "${files[@]}" --models "$SRC/test-model-meta.json" \
  --out "$OUT/items.jsonl" --audit "$OUT/audit.md"
for model in truth-oracle association-oracle always-yes smollm2-135m-instruct gemma-3-270m; do
  dir="$OUT/runs/$model"
  if [ -f "$dir/results.json" ]; then
    ladder run --resume "$dir" --quiet
  else
    ladder run --model "$model" --items "$OUT/items.jsonl" --run-dir "$dir" --quiet
  fi
  # One shared item file instead of a copy per run (git stores the link).
  if [ ! -L "$dir/items.jsonl" ] && cmp -s "$OUT/items.jsonl" "$dir/items.jsonl"; then
    ln -sfn ../../items.jsonl "$dir/items.jsonl"
  fi
done
for dir in "$OUT"/runs/*/; do
  ladder report "$dir"
done
ladder leaderboard "$OUT"/runs/*/ --out "$OUT/leaderboard.md"
# CLadder beside ladder's own core subset: one column per suite, no test across them.
ladder leaderboard --suites reports/core600/runs/*/ "$OUT"/runs/*/ --out reports/leaderboard-suites.md
