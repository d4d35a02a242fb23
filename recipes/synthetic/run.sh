#!/usr/bin/env bash
# Recipe "synthetic": see README.md here. Usage, from any folder:
#   recipes/synthetic/run.sh                                    # default config, all stages
#   CONF=conf/<name>.yaml STAGE=4 recipes/synthetic/run.sh      # one config, from stage 4 on
#   recipes/synthetic/run.sh model.pooling=noisy_or             # dotted overrides (use a new EXP=...)
set -euo pipefail
cd "$(dirname "$0")"
export CONF=${CONF:-conf/default.yaml}
exec ../run_stages.sh "$@"
