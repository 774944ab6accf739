#!/usr/bin/env bash
# Regenerate the committed positive controls (issue 12): three SmolLM2-135M-Instruct models
# fine-tuned on labels we choose, scored beside the base model and the baselines on the items
# they were trained on, on fresh seeds of the same specs, and on the committed core subset.
#   control-contamination  truth labels of control-small seed 11 (200 items), scored on
#                          those very items and on seed 12: the fresh-items guard at work
#   control-association    association labels of the 200 polarity +1 items of
#                          control-difference seed 1 (the observational contrast printed as
#                          one signed number): should track the association answer on the
#                          polarity +1 items of fresh seed 2. Earlier attempts did not learn
#                          (provenance/control-association-attempt1.json: the answer a sum
#                          over Z; control-association-stage1.json: two printed numbers to
#                          compare; both polarities: see below and docs/finetune.md)
#   control-truth          truth labels of the rung 1-2 polarity +1 items of control-difference
#                          seed 1 (134 items): in distribution on those of seed 2, out of it
#                          on seed 2 rung 3 (ett) and on the other item sets. Two attempts on
#                          the rung 1-2 items of control-association seed 1, where the truth
#                          needs sums over Z, did not learn (provenance/control-truth-attempt1
#                          and control-truth-lora.json)
# Training is resumable (rerun the script after an interruption). The trained model folders
# (reports/controls/models/, 540 MB each) are not committed; their provenance files are.
# Usage: bash reports/make_controls.sh   (after reports/make.sh, whose core600 items it uses)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=reports/controls
ITEMS=$OUT/items
MODELS=$OUT/models
mkdir -p "$ITEMS" "$MODELS" "$OUT/provenance"
gen() {  # spec seed n file
  [ -f "$ITEMS/$4" ] || ladder generate --spec "$1" --seed "$2" --n "$3" --out "$ITEMS/$4" --quiet
}
gen tasks/control_small.yaml 11 200 control-small-seed11.jsonl
gen tasks/control_small.yaml 12 200 control-small-seed12.jsonl
gen tasks/control_association.yaml 1 400 control-association-seed1.jsonl
gen tasks/control_association.yaml 2 400 control-association-seed2.jsonl
gen tasks/control_contrasts.yaml 1 400 control-contrasts-seed1.jsonl
gen tasks/control_contrasts.yaml 2 400 control-contrasts-seed2.jsonl
gen tasks/control_difference.yaml 1 400 control-difference-seed1.jsonl
gen tasks/control_difference.yaml 2 400 control-difference-seed2.jsonl
subset() {  # source-file target-file python-condition-on-r
  [ -f "$ITEMS/$2" ] || python3 -c "
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
keep = ''.join(json.dumps(r, separators=(',', ':')) + '\n' for r in rows if $3)
open(sys.argv[2], 'w').write(keep)
" "$ITEMS/$1" "$ITEMS/$2"
}
# The training file of the truth control's two earlier attempts (kept for their provenance).
subset control-association-seed1.jsonl control-association-seed1-rungs12.jsonl "r['rung'] in (1, 2)"
# One polarity only: with twins, neither the printed contrast nor the question's < / > alone
# predicts the label (only their combination does). The control-contrasts subset is the
# training file of a stage that did not learn (kept for its provenance, see below).
subset control-contrasts-seed1.jsonl control-contrasts-seed1-polarity1.jsonl \
  "r['query']['polarity'] == 1"
subset control-difference-seed1.jsonl control-difference-seed1-polarity1.jsonl \
  "r['query']['polarity'] == 1"
subset control-difference-seed2.jsonl control-difference-seed2-polarity1.jsonl \
  "r['query']['polarity'] == 1"
subset control-difference-seed1.jsonl control-difference-seed1-rungs12-polarity1.jsonl \
  "r['rung'] in (1, 2) and r['query']['polarity'] == 1"

train() {  # name items labels extra-args...
  local name=$1 items=$2 labels=$3
  shift 3
  ladder finetune --model smollm2-135m-instruct --items "$ITEMS/$items" \
    --labels "$labels" --out "$MODELS/$name" "$@"
  cp "$MODELS/$name/ladder_provenance.json" "$OUT/provenance/$name.json"
}
# The contamination control: full fine-tuning at 3e-5 (1e-4 collapsed to p_yes = 0.5 within
# two epochs); 30 min on the 2-core CPU.
train control-contamination control-small-seed11.jsonl truth \
  --full --lr 3e-5 --epochs 8 --batch-size 4 --checkpoint-every 50 --seed 0
# The association control: LoRA at 5e-4, one epoch (50 steps) on one polarity, where the
# printed sign alone gives the label. A second stage on both twins of seed 1 (LoRA 5e-4, 2
# epochs planned, from this model) sat at ln 2 for 109 steps and was stopped: the label is
# then the sign combined with the question's < or >. Earlier attempts, all full fine-tuning
# at 3e-5, sat at ln 2 and are not rerun here: association labels of control-association
# seed 1 (3 epochs), of control-contrasts seed 1 (both twins, stopped at 298 of 500 steps)
# and of its polarity +1 subset (250 steps; provenance control-association-stage1.json).
train control-association control-difference-seed1-polarity1.jsonl association \
  --lora --lr 5e-4 --epochs 1 --batch-size 4 --checkpoint-every 25 --seed 0
# The truth control: LoRA at 5e-4, 3 epochs (8 min). On control-association seed 1 rungs 1-2
# neither full fine-tuning at 3e-5 nor LoRA at 5e-4 (3 epochs each) left ln 2.
train control-truth control-difference-seed1-rungs12-polarity1.jsonl truth \
  --lora --lr 5e-4 --epochs 3 --batch-size 4 --checkpoint-every 25 --seed 0

score() {  # suite-dir items-file model (a name, or a model folder named after the model)
  local dir
  dir="$1/runs/$(basename "$3")"
  if [ -f "$dir/results.json" ]; then
    ladder run --resume "$dir" --quiet
  else
    ladder run --model "$3" --items "$2" --run-dir "$dir" --quiet
  fi
  if [ ! -L "$dir/items.jsonl" ] && cmp -s "$2" "$dir/items.jsonl"; then
    ln -sfn "$(realpath --relative-to="$dir" "$2")" "$dir/items.jsonl"
  fi
}
CONTROLS=("$MODELS/control-contamination" "$MODELS/control-association" "$MODELS/control-truth")
BASE=(truth-oracle association-oracle always-yes random smollm2-135m-instruct)
for suite in control-small-seed11 control-small-seed12 control-association-seed2 \
  control-difference-seed2-polarity1; do
  for model in "${BASE[@]}" "${CONTROLS[@]}"; do
    score "$OUT/$suite" "$ITEMS/$suite.jsonl" "$model"
  done
  for dir in "$OUT/$suite"/runs/*/; do ladder report "$dir"; done
  ladder leaderboard "$OUT/$suite"/runs/*/ --out "$OUT/$suite/leaderboard.md"
done
# The controls on the committed core subset, beside the base models in the main leaderboard.
for model in "${CONTROLS[@]}"; do
  score reports/core600 reports/core600/items.jsonl "$model"
  ladder report "reports/core600/runs/$(basename "$model")"
done
ladder leaderboard reports/core600/runs/*/ --out reports/leaderboard.md
python3 -m ladder.analysis.readme README.md reports/leaderboard.md reports/core600/runs/*/
ladder leaderboard --suites "$OUT"/control-*/runs/*/ reports/core600/runs/*/ \
  --out "$OUT/leaderboard.md"
