#!/usr/bin/env bash
# Recipe "e_daic": see README.md here. Usage, from any folder:
#   recipes/e_daic/run.sh                                    # default config, all stages
#   CONF=conf/<name>.yaml STAGE=4 recipes/e_daic/run.sh      # one config, from stage 4 on
#   recipes/e_daic/run.sh model.pooling=noisy_or             # dotted overrides (use a new EXP=...)
set -euo pipefail
cd "$(dirname "$0")"
export CONF=${CONF:-conf/default.yaml}
exec ../run_stages.sh "$@"
