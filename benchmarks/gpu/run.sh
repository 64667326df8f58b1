#!/bin/bash
# The prepared GPU run: one call of the device tool (at most 10 minutes) that records the
# device and versions, measures the training-speed table (benchmarks/gpu_training.py:
# eager against the captured step with one seed, 5 and 20 eager seeds stacked, 5 captured
# seeds in 5 processes) and trains the frontier grid (each candidate x 5 seeds: in 5
# captured processes if the captured row ran, else stacked) into result files the
# repository can commit.
#
# Before the call, from the repository root (the data travels compressed in the ignored
# folder .gpudata, which the call carries):
#   mkdir -p .gpudata/MNIST/raw .gpudata/FashionMNIST/raw
#   for d in MNIST FashionMNIST; do for f in ../shared/data/$d/raw/*-ubyte; do
#     gzip -c "$f" > ".gpudata/$d/raw/$(basename "$f").gz"; done; done
# The call: run(command="bash benchmarks/gpu/run.sh", carry=[".gpudata"], timeout_s=600)
# Local dry run on the CPU (a minute):
#   OUT=/tmp/gpu DEVICE=cpu DATA=../shared/data SPEED_ARGS="--epochs 1 --train-subset 512 \
#     --rows eager:1 captured:1" GRID_ARGS="--epochs 1 --train-subset 512" \
#     GRID="mnist_v5" bash benchmarks/gpu/run.sh
set -o pipefail
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
: "${OUT:?OUT must be set (the device tool sets it)}"
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
DATA=${DATA:-/tmp/tinyconv-gpudata}
export TINYCONV_DATA="$DATA"
# The speed table's options and the grid's (empty on the device: the recipes' epochs, all
# 60,000 training images); the grid's candidates (declared before scoring, see
# docs/frontier.rst) and the whole run's budget in seconds.
SPEED_ARGS=${SPEED_ARGS:---workers 5}
GRID_ARGS=${GRID_ARGS:-}
GRID=${GRID:-mnist_wide_onecycle mnist_4k_onecycle mnist_2k_onecycle mnist_v5}
BUDGET=${BUDGET:-540}
T_SPEED=${T_SPEED:-260}
T_STUDY=${T_STUDY:-70}
START=$(date +%s)
TIMEFORMAT='time: real %3R s, user %3U s, sys %3S s'

step() {
    # step NAME CAP CMD...: run CMD under min(CAP, budget left); print its time and rc
    local name=$1 cap=$2
    shift 2
    local left=$((BUDGET - ($(date +%s) - START)))
    local limit=$((cap < left ? cap : left))
    echo
    if [ "$limit" -lt 15 ]; then
        echo "=== $name: skipped, only ${left} s of the budget left"
        return 1
    fi
    echo "=== $name: $(date -u +%FT%TZ), limit ${limit} s"
    echo "+ $*"
    time timeout "$limit" "$@"
    local rc=$?
    echo "=== $name: rc=$rc"
    return $rc
}

unpack_data() {
    [ -d .gpudata ] || { echo "no .gpudata: using DATA=$DATA as it is"; return; }
    [ "$DATA" = /tmp/tinyconv-gpudata ] || { echo "DATA=$DATA given: not unpacking"; return; }
    for gz in .gpudata/*/raw/*.gz; do
        local target="$DATA/${gz#.gpudata/}"
        mkdir -p "$(dirname "$target")"
        gunzip -c "$gz" > "${target%.gz}" || echo "gunzip $gz failed"
    done
}

main() {
    echo "=== start $(date -u +%FT%TZ) on $(hostname), $(nproc) CPUs"
    unpack_data
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi | tee "$OUT/nvidia-smi.txt"
    fi
    "$PY" -c 'import torch, tinyconv; print("torch", torch.__version__, "cuda", torch.version.cuda,
"device", torch.cuda.get_device_name() if torch.cuda.is_available() else "(none)",
"tinyconv", tinyconv.__version__)' | tee "$OUT/versions.txt"

    # shellcheck disable=SC2086
    step speed "$T_SPEED" "$PY" benchmarks/gpu_training.py --device "$DEVICE" \
        --data-dir "$DATA" --json "$OUT/gpu_training.json" $SPEED_ARGS
    # the grid trains 5 captured processes if the speed table's captured row ran, else
    # 5 seeds stacked as one network
    local how="--workers 5 --capture"
    if [ "${DEVICE#cuda}" = "$DEVICE" ]; then
        how="--stack 5"  # no CUDA graphs to record: tinyconv study refuses --capture
    elif ! "$PY" -c 'import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
sys.exit(0 if "train_seconds" in rows.get("captured:1", {}) else 1)' "$OUT/gpu_training.json"; then
        echo "the captured row failed or did not run: the grid trains stacked, uncaptured"
        how="--stack 5"
    fi
    for recipe in $GRID; do
        # shellcheck disable=SC2086
        step "study $recipe" "$T_STUDY" "$PY" -m tinyconv study "$recipe" --seeds 5 \
            $how --device "$DEVICE" --quiet --out "$OUT/frontier" $GRID_ARGS
    done
    echo "=== end $(date -u +%FT%TZ), $(($(date +%s) - START)) s"
}

main 2>&1 | tee "$OUT/log.txt"
