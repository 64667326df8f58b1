#!/bin/bash
# One prepared run of tinyconv's GPU-capable benchmarks (run from the repository root).
# On the device machine: bash .gpu/run_gpu.sh   (OUT is set there).
# Local dry run: OUT=/tmp/x PY=.venv/bin/python DEVICE=cpu TS_ARGS=... bash .gpu/run_gpu.sh
set -o pipefail
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
: "${OUT:?OUT must be set}"
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
DATA=${DATA:-/tmp/tinyconv-gpudata}
export TINYCONV_DATA="$DATA"
# Settings of each benchmark (overridable for the local dry run).
TS_ARGS=${TS_ARGS:---rounds 5 --images 10240 --dropout-masks torch hash}
ST_ARGS=${ST_ARGS:---stack 5 --images 10240 --rounds 5}
SS_ARGS=${SS_ARGS:---stack 5 --images 10240 --rounds 1 --study --epochs 1 --workers 2}
DC_ARGS=${DC_ARGS:---images 5000 --epochs 2 --threads 1}
T_TS=${T_TS:-120}
T_ST=${T_ST:-60}
T_DC=${T_DC:-90}
T_SS=${T_SS:-120}

step() {
    # step NAME TIMEOUT CMD...: print the exact command, run it under a timeout, print rc and wall
    local name=$1 limit=$2
    shift 2
    echo
    echo "=== $name: $(date -u +%FT%TZ)"
    echo "+ $*"
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout "$limit" "$@"
    rc=$?
    t1=$(date +%s.%N)
    echo "=== $name: rc=$rc, wall $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s (timeout ${limit} s)"
}

main() {
    echo "=== start $(date -u +%FT%TZ) on $(hostname), $(nproc) CPUs, $(uname -m)"
    mkdir -p "$DATA/MNIST/raw"
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
    echo "+ $PY -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name())'"
    "$PY" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name())' \
        || echo "(no CUDA device name)"
    "$PY" -c 'import sys, torch, torchvision, einops, tqdm
print("python", sys.version.split()[0], "| torch", torch.__version__, "| torchvision",
      torchvision.__version__, "| einops", einops.__version__, "| tqdm", tqdm.__version__,
      "| cudnn", torch.backends.cudnn.version(), "| threads", torch.get_num_threads())'

    # shellcheck disable=SC2086
    step train_speed "$T_TS" "$PY" benchmarks/train_speed.py --data-dir "$DATA" --device "$DEVICE" \
        $TS_ARGS --json "$OUT/train_speed.json"
    # shellcheck disable=SC2086
    step stacked_speed "$T_ST" "$PY" benchmarks/stacked_speed.py --data-dir "$DATA" \
        --device "$DEVICE" $ST_ARGS --json "$OUT/stacked_speed.json"
    # distill_cost.py has no --device option: its fit runs with device="cpu" hard-coded, so
    # on the device machine it measures the host CPU (one thread), not the GPU.
    # shellcheck disable=SC2086
    step distill_cost_hostcpu "$T_DC" "$PY" benchmarks/distill_cost.py --data-dir "$DATA" \
        $DC_ARGS --out "$OUT/distill_cost_hostcpu.json"
    # shellcheck disable=SC2086
    step stacked_study "$T_SS" "$PY" benchmarks/stacked_speed.py --data-dir "$DATA" \
        --device "$DEVICE" $SS_ARGS --json "$OUT/stacked_study.json"

    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu,memory.used \
            --format=csv
    fi
    echo "=== end $(date -u +%FT%TZ)"
}

main 2>&1 | tee "$OUT/log.txt"
