"""One rank of a 2-process DDP run on CPU (gloo) with babysit's Monitor, for tests/test_torch_ddp.py
and bench/torch_overhead.py.

    python tests/ddp_worker.py MODE LOG INIT_FILE   (env RANK, WORLD_SIZE)

MODE: healthy | nan (rank 1's loss is NaN at step 7) | desync (rank 1 changes a layer's
weights on its own at step 15) | kill (rank 1 kills itself at step 25) | garbage (rank 1 hands
its Monitor a bad loss at steps 3-6 and a bad epoch metric; rank 0 a string loss at step 12).
Each rank writes `LOG.rank<r>.json` with the step it stopped at and its monitor's state.
With DEVICE=cuda both ranks train on the one GPU (gloo: NCCL refuses two ranks on one GPU),
and SYNC_CHECK=1 runs every unsampled `monitor.step` under
`torch.cuda.set_sync_debug_mode("error")`: a synchronising call there would make the monitor
switch itself off, which the state file shows.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from babysit.torch import Monitor


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)


GARBAGE = {3: torch.tensor([1.0, 2.0]), 4: "2.0", 5: 3 + 1j, 6: torch.empty((), device="meta")}


def main() -> None:
    mode, log, init = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    torch.manual_seed(0)  # the same init on every rank (DDP also broadcasts rank 0's)
    device = os.environ.get("DEVICE", "cpu")
    sync_check = os.environ.get("SYNC_CHECK") == "1"
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10)).to(device)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    x, y = digits()
    x, y = x.to(device), y.to(device)
    xt, yt = x[rank:1400:world], y[rank:1400:world]  # each rank its own shard
    xv, yv = x[1400:], y[1400:]
    every = int(os.environ.get("BABYSIT_EVERY", "10"))
    steps = stopped_at = 0
    with Monitor(ddp, opt, log=log, num_classes=10, every=every) as monitor:
        start = time.perf_counter()
        for _ in range(int(os.environ.get("EPOCHS", "4"))):
            for i in range(0, len(yt) - 31, 32):
                loss = torch.nn.functional.cross_entropy(ddp(xt[i:i + 32]), yt[i:i + 32])
                if mode == "nan" and rank == 1 and steps == 7:
                    loss = loss * float("nan")
                opt.zero_grad()
                loss.backward()
                opt.step()
                if mode == "desync" and rank == 1 and steps == 15:
                    with torch.no_grad():
                        model[2].weight.add_(0.5)
                if mode == "kill" and rank == 1 and steps == 25:
                    os.kill(os.getpid(), signal.SIGKILL)
                if sync_check and steps % every:
                    torch.cuda.set_sync_debug_mode("error")
                given: object = loss
                if mode == "garbage" and rank == 1 and steps in GARBAGE:
                    given = GARBAGE[steps]
                if mode == "garbage" and rank == 0 and steps == 12:
                    given = "high"
                try:
                    monitor.step(given)  # type: ignore[arg-type]
                finally:
                    if sync_check:
                        torch.cuda.set_sync_debug_mode(0)
                steps += 1
                if monitor.should_stop:
                    break
            if monitor.should_stop:
                stopped_at = steps
                break
            with torch.no_grad():
                model.eval()
                acc = (model(xv).argmax(1) == yv).float().mean()
                model.train()
            monitor.epoch(val_acc="high" if mode == "garbage" and rank == 1 else acc)
        seconds = time.perf_counter() - start
    state = {"rank": rank, "steps": steps, "stopped_at": stopped_at, "seconds": seconds,
             "should_stop": monitor.should_stop, "enabled": monitor.enabled,
             "nan_origin": monitor.nan_origin, "findings": [f.rule for f in monitor.findings]}
    Path(f"{log}.rank{rank}.json").write_text(json.dumps(state))
    dist.barrier()  # no rank tears the group down while another still uses it
    dist.destroy_process_group()
    # Everything this test reads is written. The interpreter's own teardown can still abort in
    # gloo's threads ("terminate called without an active exception", SIGABRT; pytorch#179291),
    # once in ~30 runs here: a torch exit race, not what these tests check, so skip it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
