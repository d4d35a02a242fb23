#!/usr/bin/env bash
# Shared stage runner of the recipes: each stage is one `interview-mil` command on the experiment folder.
#   CONF=conf/X.yaml EXP=exp/X STAGE=1 STOP_STAGE=6 ./run.sh [KEY=VALUE overrides...]
# Stages: 1 prepare, 2 segment, 3 featurize, 4 train, 5 evaluate, 6 explain (dev split, with HTML report).
# Stage 1 writes the resolved config into EXP; stages 2 and 3 read it from there (`--exp EXP`) and write
# exactly what `train` checks, so stage 4 reuses their work instead of redoing it. Each stage's facts go
# to EXP/meta.json. Overrides (e.g. model.pooling=noisy_or) go to `prepare` and `train`; use a new EXP
# for a new setting (changed data settings are refused in an existing EXP).
set -euo pipefail
IMIL=${IMIL:-interview-mil}
CONF=${CONF:?set CONF to an experiment config}
EXP=${EXP:-exp/$(basename "$CONF" .yaml)}
STAGE=${STAGE:-1}
STOP_STAGE=${STOP_STAGE:-6}
WORKERS=${WORKERS:-2}
EXPLAIN_SPLIT=${EXPLAIN_SPLIT:-dev}
run() { [ "$STAGE" -le "$1" ] && [ "$STOP_STAGE" -ge "$1" ]; }

if run 1; then echo "stage 1: prepare";   $IMIL prepare "$CONF" "$@" --out "$EXP"; fi
if run 2; then echo "stage 2: segment";   $IMIL segment --exp "$EXP"; fi
if run 3; then echo "stage 3: featurize"; $IMIL featurize --exp "$EXP" --workers "$WORKERS"; fi
if run 4; then echo "stage 4: train";     $IMIL train "$CONF" "$@" --out "$EXP" --workers "$WORKERS"; fi
if run 5; then echo "stage 5: evaluate";  $IMIL evaluate "$EXP"; fi
if run 6; then echo "stage 6: explain";   $IMIL explain "$EXP" --split "$EXPLAIN_SPLIT" --html; fi
