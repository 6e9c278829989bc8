#!/usr/bin/env bash
# The checks that need a GPU, in one short run (a GPU machine is lent to some sessions only):
#   1. the CUDA tests: non-sampled Monitor steps under set_sync_debug_mode("error"), single
#      process and 2 DDP ranks on the one GPU (tests/test_torch_monitor.py, test_torch_ddp.py);
#   2. the Monitor's torch and DDP tests as a whole on that machine's torch;
#   3. bench/torch_overhead.py --device cuda (MLP, CNN, bf16 autocast, 2 DDP ranks).
# Run from the repository root: bash bench/gpu_check.sh [OUT_DIR]. Python packages babysit needs
# and the machine lacks can be put in .whl/ as wheels (installed into /tmp/site first).
set -uo pipefail
out=${1:-gpu-check}
mkdir -p "$out"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
{
    nvidia-smi -L
    python3 -c "import torch, sys; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'python', sys.version.split()[0], torch.cuda.get_device_name(0))"
} 2>&1 | tee "$out/machine.txt"
python3 -m pytest -q -p no:cacheprovider -rs tests/test_torch_monitor.py tests/test_torch_ddp.py \
    tests/test_torch_setups.py 2>&1 | tee "$out/tests.txt" | tail -n 30
python3 bench/torch_overhead.py --device cuda --steps "${STEPS:-200}" --repeats "${REPEATS:-3}" \
    2>&1 | tee "$out/overhead.txt"
