"""The cross-framework zoo's PyTorch-monitor runs: plain PyTorch loops on sklearn's digits watched
by babysit.torch.Monitor, so their logs carry per-layer statistics (format "torch").

The faults are those of issue 13's list: lr far too high / low, tiny init in a deep tanh net,
large sigmoid init on raw input, ReLUs dying after a high lr, a scaled-up last layer, a tiny
subset, a 2-unit net, a hockey-stick init; and healthy MLPs. bench/framework_zoo.py generates
and scores them with the other formats.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from bench.zoo_case import TOO_HIGH, Case, digits, mlp

MONITOR_CASES = [
    Case("torch-healthy", healthy=True),
    Case("torch-healthy-deep-tanh", hidden=(64, 64, 64), activation="tanh", epochs=10,
                healthy=True),
    Case("torch-lr-far-too-high", optimizer="sgd", lr=30.0, must_fire=[TOO_HIGH],
                root_cause=TOO_HIGH),
    Case("torch-lr-far-too-low", optimizer="sgd", lr=1e-6, batch=32,
                must_fire=[["loss-flat", "update-ratio-low"]], must_not_fire=["underfitting"],
                root_cause=["update-ratio-low", "loss-flat"]),
    Case("torch-tiny-init-deep-tanh", hidden=(64,) * 4, activation="tanh",
                optimizer="momentum", lr=0.01, init_std=0.01, epochs=15,
                must_fire=[["vanishing-activations"]], root_cause=["vanishing-activations"]),
    Case("torch-large-sigmoid-raw", activation="sigmoid", optimizer="sgd", lr=0.1,
                init_std=1.0, raw=True, must_fire=[["saturated-activations"], ["loss-at-init"]],
                root_cause=["saturated-activations", "loss-at-init"]),
    # The lecture's "stable at first, then suddenly decreasing": an init too small for three tanh
    # layers; the net sits at log(C) for ~7 epochs, then learns. The plateau is the consequence.
    Case("torch-hockey-stick-init", hidden=(64,) * 3, activation="tanh", optimizer="momentum",
                lr=0.03, init_std=0.03, epochs=20, must_fire=[["plateau-then-drop"]],
                must_not_fire=["loss-explosion"], root_cause=["vanishing-activations", "plateau-then-drop"]),
    Case("torch-relu-dying-high-lr", hidden=(128,), optimizer="sgd", lr=3.0,
                must_fire=[["dead-relu"]], root_cause=["dead-relu", "update-ratio-high"]),
    Case("torch-last-layer-x100", last_scale=100.0, must_fire=[["loss-at-init"]],
                root_cause=["loss-at-init"]),
    Case("torch-tiny-subset", subset=60, epochs=150, batch=20, lr=3e-3,
                must_fire=[["overfitting"]], must_not_fire=["underfitting"],
                root_cause=["overfitting"]),
    Case("torch-two-unit-net", hidden=(2,), epochs=40, batch=32,
                must_fire=[["underfitting"]], must_not_fire=["overfitting"],
                root_cause=["underfitting"]),
]


def train_monitor(case: Case, seed: int, out: Path) -> None:
    """Train `case` with a plain loop and babysit's Monitor, log to out/torch/<name>-s<seed>.jsonl.gz."""
    import torch

    from babysit.torch import Monitor

    torch.manual_seed(seed)
    xt, yt, xv, yv = digits(torch, seed, raw=case.raw)
    if case.subset:
        xt, yt = xt[: case.subset], yt[: case.subset]
    model = mlp(case, torch)
    opt = (torch.optim.Adam(model.parameters(), lr=case.lr) if case.optimizer == "adam" else
           torch.optim.SGD(model.parameters(), lr=case.lr,
                           momentum=0.9 if case.optimizer == "momentum" else 0.0))
    (out / "torch").mkdir(parents=True, exist_ok=True)
    log = out / "torch" / f"{case.name}-s{seed}.jsonl"
    with Monitor(model, opt, log=log, num_classes=10, overwrite=True) as monitor:
        for _ in range(case.epochs):
            perm = torch.randperm(len(yt))
            for i in range(0, len(yt), case.batch):
                idx = perm[i : i + case.batch]
                loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                monitor.step(loss)
            model.eval()
            with torch.no_grad():
                scores = model(xv)
                monitor.epoch(train_acc=(model(xt).argmax(1) == yt).float().mean(),
                              val_acc=(scores.argmax(1) == yv).float().mean(),
                              val_loss=torch.nn.functional.cross_entropy(scores, yv))
            model.train()
            if monitor.should_stop:
                break
    with log.open("rb") as src, gzip.GzipFile(log.with_suffix(".jsonl.gz"), "wb", mtime=0) as dst:
        shutil.copyfileobj(src, dst)  # babysit reads gzip; the fixtures are 5x smaller
    log.unlink()
