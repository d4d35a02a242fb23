#!/usr/bin/env bash
# The GPU check of issue 16 in one call: the batching tests on the GPU, then the GPU encoder benchmark.
#   bash benchmarks/gpu_check.sh            (on the device machine; carry .whl for the packages it lacks)
# Wheels in .whl (soundfile, cffi, pycparser, praat-parselmouth, librosa: imported by interview_mil but absent
# from the device image) are installed into /tmp/site first (NO_WHEELS=1: skip). Logs go to $OUT (or runs/gpu_check here).
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS="${OUT:-runs/gpu_check}"
mkdir -p "$LOGS"
if [ -z "${NO_WHEELS:-}" ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD"
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
timeout 120 "$PY" -m pytest -q -p no:cacheprovider tests/test_encoder_batching.py -k gpu 2>&1 | tee "$LOGS/gpu_tests.log"
timeout "${BENCH_TIMEOUT:-300}" "$PY" benchmarks/featurize.py --device "${DEVICE:-cuda}" \
  --speech-seconds "${SPEECH_SECONDS:-3600}" --repeats 2 --threads 8 --workdir /tmp/gpu_bench 2>&1 | tee "$LOGS/gpu_featurize.log"
