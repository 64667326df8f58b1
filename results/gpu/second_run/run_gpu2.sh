#!/bin/bash
# Second prepared GPU run of tinyconv (run from the repository root): the figures that
# docs/protocol.rst listed as never measured on a GPU: the 15-epoch V5 run (eager and
# captured with --compile reduce-overhead), the full-length 5-seed stacked study, and
# trainer_variants.py's baseline / compile / captured rows.
# On the device machine: bash .gpu/run_gpu2.sh   (OUT is set there).
# Local dry run: OUT=/tmp/x PY=.venv/bin/python DEVICE=cpu EPOCH_ARGS="--epochs 1 --train-subset 512" TV_ARGS="--images 256 --rounds 1" bash .gpu/run_gpu2.sh
set -o pipefail
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
: "${OUT:?OUT must be set}"
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
DATA=${DATA:-/tmp/tinyconv-gpudata}
RUNS=${RUNS:-/tmp/tinyconv-runs}
export TINYCONV_DATA="$DATA"
# Extra options of the three studies (empty on the device: the recipe's 15 epochs, all
# 60,000 training images) and of trainer_variants.py (overridable for the local dry run).
EPOCH_ARGS=${EPOCH_ARGS:-}
TV_ARGS=${TV_ARGS:---images 10240 --rounds 3}
# Whole script's budget in seconds (the device call's own limit is a little above it);
# each step's timeout is its cap or what is left of the budget, whichever is smaller.
BUDGET=${BUDGET:-455}
T_EAGER=${T_EAGER:-110}
T_STACKED=${T_STACKED:-200}
T_CAPTURED=${T_CAPTURED:-140}
T_VARIANTS=${T_VARIANTS:-200}
START=$(date +%s)
TIMEFORMAT='time: real %3R s, user %3U s, sys %3S s'

step() {
    # step NAME CAP CMD...: print the exact command, run it under min(CAP, budget left),
    # print bash's `time` of it, its rc and its wall
    local name=$1 cap=$2
    shift 2
    local left=$((BUDGET - ($(date +%s) - START)))
    local limit=$((cap < left ? cap : left))
    echo
    if [ "$limit" -lt 15 ]; then
        echo "=== $name: skipped, only ${left} s of the budget left"
        return
    fi
    echo "=== $name: $(date -u +%FT%TZ)"
    echo "+ $*"
    local t0 t1 rc
    t0=$(date +%s.%N)
    time timeout "$limit" "$@"
    rc=$?
    t1=$(date +%s.%N)
    echo "=== $name: rc=$rc, wall $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s (timeout ${limit} s)"
}

main() {
    echo "=== start $(date -u +%FT%TZ) on $(hostname), $(nproc) CPUs, $(uname -m)"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    mkdir -p "$DATA/MNIST/raw" "$RUNS"
    for f in .gpudata/MNIST/raw/*.gz; do
        gunzip -c "$f" > "$DATA/MNIST/raw/$(basename "$f" .gz)" || echo "gunzip $f failed"
    done
    (cd "$DATA" && md5sum -c "$OLDPWD/.gpudata/MD5SUMS")
    if command -v nvidia-smi > /dev/null; then
        echo "+ nvidia-smi"
        nvidia-smi | tee "$OUT/nvidia-smi.txt"
        nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit \
            --format=csv
    else
        echo "no nvidia-smi here"
    fi
    "$PY" -c 'import sys, torch, torchvision, einops, tqdm
print("python", sys.version.split()[0], "| torch", torch.__version__, "| torch.version.cuda",
      torch.version.cuda, "| device", torch.cuda.get_device_name() if torch.cuda.is_available()
      else "(no CUDA device)", "| torchvision", torchvision.__version__, "| einops",
      einops.__version__, "| tqdm", tqdm.__version__, "| cudnn", torch.backends.cudnn.version(),
      "| threads", torch.get_num_threads())'

    # Most valuable first: the 15-epoch eager run, the 5-seed stacked study, the captured
    # run, then the interleaved variants.
    # shellcheck disable=SC2086
    step eager "$T_EAGER" "$PY" examples/mnist_v5.py --data-dir "$DATA" --device "$DEVICE" \
        --seeds 1 $EPOCH_ARGS --out "$RUNS/eager"
    # shellcheck disable=SC2086
    step stacked "$T_STACKED" "$PY" examples/mnist_v5.py --data-dir "$DATA" --device "$DEVICE" \
        --seeds 5 --stack 5 $EPOCH_ARGS --out "$RUNS/stacked"
    # shellcheck disable=SC2086
    step captured "$T_CAPTURED" "$PY" examples/mnist_v5.py --data-dir "$DATA" --device "$DEVICE" \
        --seeds 1 --compile reduce-overhead $EPOCH_ARGS --out "$RUNS/captured"
    # shellcheck disable=SC2086
    step trainer_variants "$T_VARIANTS" "$PY" benchmarks/trainer_variants.py --data-dir "$DATA" \
        --device "$DEVICE" $TV_ARGS --only baseline compile captured \
        --json "$OUT/trainer_variants.json"

    echo
    echo "+ results the studies wrote (models and checkpoints left out of the archive)"
    (cd "$RUNS" && find . -type f -printf '%p %s\n' | sort)
    (cd "$RUNS" && find . -type f \( -name '*.json' -o -name '*.csv' \) -print0 | sort -z \
        | tar --null -czf "$OUT/studies.tar.gz" -T -) || echo "archive failed"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu,memory.used \
            --format=csv
    fi
    echo "=== end $(date -u +%FT%TZ), $(($(date +%s) - START)) s after the start"
}

main 2>&1 | tee "$OUT/log.txt"
