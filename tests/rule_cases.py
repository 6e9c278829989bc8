"""Synthetic metric sequences: for each rule, runs that must fire it and near misses that must not."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tests.families import schedule_run

Records = list[dict[str, Any]]


def header(**kw: Any) -> dict[str, Any]:
    base = {"type": "header", "num_classes": 3, "activation": "relu", "loss_fn": "softmax"}
    return {**base, **kw}


def curve(values: list[float] | np.ndarray, layers: Callable[[int], dict] | None = None,
          every: int = 10, **extra: Any) -> Records:
    """Step records with the given losses; layer stats every `every` steps if `layers` given."""
    out = []
    for i, v in enumerate(values):
        rec: dict[str, Any] = {"type": "step", "step": i, "loss": float(v), **extra}
        if layers is not None and i % every == 0:
            rec["layers"] = layers(i)
        out.append(rec)
    return out


def sparse(values: np.ndarray, every: int) -> Records:
    """Step records of every `every`-th loss only, at their true steps (a sparse logger)."""
    return [{"type": "step", "step": i, "loss": float(v)} for i, v in enumerate(values) if i % every == 0]


def noisy(level: np.ndarray, rel_noise: float = 0.05, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return level * (1 + rel_noise * rng.standard_normal(len(level)))


def healthy_loss(n: int = 600, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    return noisy(math.log(3) * np.exp(-t / 150) + 0.05, 0.05, seed)


def epochs(train: list[float], val: list[float] | None = None, val_loss: list[float] | None = None,
           loss: list[float] | None = None, per_epoch: int = 10) -> Records:
    """Step records, per_epoch per epoch, the last of each carrying the epoch-end metrics."""
    out = []
    step = 0
    for e, acc in enumerate(train):
        for i in range(per_epoch):
            level = loss[e] if loss is not None else 1.0 - 0.5 * acc
            rec: dict[str, Any] = {"type": "step", "step": step, "epoch": e, "loss": level}
            if i == per_epoch - 1:
                rec["train_acc"] = acc
                if val is not None:
                    rec["val_acc"] = val[e]
                if val_loss is not None:
                    rec["val_loss"] = val_loss[e]
            out.append(rec)
            step += 1
    return out


def layer_stats(**per_layer: dict[str, float]) -> Callable[[int], dict]:
    return lambda i: {name: dict(stats) for name, stats in per_layer.items()}


HEALTHY_LAYERS = layer_stats(
    fc1={"weight_norm": 10.0, "grad_norm": 0.5, "update_ratio": 1e-3, "act_mean": 0.4,
         "act_std": 0.8, "dead_frac": 0.05},
    fc2={"weight_norm": 5.0, "grad_norm": 0.4, "update_ratio": 2e-3, "act_mean": 0.3,
         "act_std": 0.6, "dead_frac": 0.1},
    fc3={"weight_norm": 2.0, "grad_norm": 0.3, "update_ratio": 3e-3},
)


def with_layer(field: str, fc1: float, fc2: float | None = None) -> Callable[[int], dict]:
    def make(i: int) -> dict:
        layers = HEALTHY_LAYERS(i)
        layers["fc1"][field] = fc1
        if fc2 is not None:
            layers["fc2"][field] = fc2
        return layers
    return make


def loss_then(values: list[float], n: int) -> np.ndarray:
    return np.concatenate([np.asarray(values, dtype=float), np.full(n, values[-1])])


flat = noisy(np.full(400, 1.1), 0.03)
plateau_drop = np.concatenate([noisy(np.full(300, 1.1), 0.01), np.linspace(1.1, 0.3, 60),
                               noisy(np.full(200, 0.3), 0.05)])
square = np.concatenate([np.full(10, v) for v in [1.4, 0.6] * 15])
osc_low = np.concatenate([np.full(10, v) for v in [0.07, 0.03] * 15])  # converged: wiggles only
t300 = np.arange(300)

# Adam at 50x its rate: the loss falls to ~0.02, then jumps back to ~1 now and then.
unstable = noisy(np.concatenate([np.geomspace(1.1, 0.02, 200), np.full(600, 0.02)]), 0.3, seed=4)
unstable[[300, 390, 470, 560, 650]] = 1.0

one_bad_batch = noisy(np.concatenate([np.geomspace(1.1, 0.02, 200), np.full(600, 0.02)]), 0.3, seed=4)
one_bad_batch[470] = 1.0

spiky_but_low = noisy(np.full(600, 0.02), 0.3, seed=5)
spiky_but_low[[300, 390, 470, 560]] = 0.1

# rule id -> (must fire, must not fire), each a list of records (header first)
CASES: dict[str, tuple[Records, Records]] = {
    "loss-at-init": ([header()] + curve([8.0, 6.0, 4.0]),
                     [header()] + curve([4.9, 3.5, 2.2])),  # log(3) + 3.8: within limit
    "loss-nan": ([header()] + curve(list(healthy_loss(50)) + ["NaN"]),
                 [header()] + curve(healthy_loss(400))),
    "loss-explosion": ([header()] + curve(np.concatenate([healthy_loss(100), np.geomspace(0.5, 50, 100)])),
                       [header()] + curve(np.concatenate([np.linspace(1.1, 1.8, 20),
                                                          np.linspace(1.8, 0.2, 200)]))),
    "loss-flat": ([header()] + curve(flat),
                  [header()] + curve(noisy(1.1 - 0.15 * t300 / 300, 0.03))),  # 15% in 300 steps
    "plateau-then-drop": ([header()] + curve(plateau_drop),
                          [header()] + curve(noisy(np.linspace(1.1, 0.3, 600), 0.02))),  # slow decline
    "loss-oscillation": ([header()] + curve(np.concatenate([np.full(10, 1.1), square])),
                         [header()] + curve(np.concatenate([np.full(10, 1.1), osc_low]))),
    "training-unstable": ([header()] + curve(unstable), [header()] + curve(healthy_loss(800))),
    "overfitting": ([header()] + epochs([0.7, 0.85, 0.95, 0.99, 1.0, 1.0], [0.65, 0.7, 0.72, 0.71, 0.7, 0.7]),
                    [header()] + epochs([0.7, 0.85, 0.95, 0.99, 1.0, 1.0], [0.68, 0.8, 0.9, 0.93, 0.93, 0.94])),
    "underfitting": ([header()] + epochs([0.35, 0.40, 0.41, 0.41, 0.40, 0.41, 0.41, 0.41],
                                         [0.34, 0.39, 0.40, 0.40, 0.40, 0.40, 0.40, 0.41],
                                         loss=[1.1, 0.98] + [0.95] * 6),
                     [header()] + epochs([0.35, 0.40, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7],
                                         [0.34, 0.39, 0.44, 0.49, 0.54, 0.59, 0.64, 0.69])),
    "val-plateau": ([header()] + epochs([0.9] * 15, [0.5, 0.6, 0.7] + [0.7] * 12),
                    [header()] + epochs([0.9] * 15, [0.5 + 0.02 * i for i in range(15)])),
    "update-ratio-high": ([header()] + curve(flat, with_layer("update_ratio", 0.3)),
                          [header()] + curve(flat, with_layer("update_ratio", 0.05))),
    "update-ratio-low": ([header()] + curve(flat, with_layer("update_ratio", 1e-7)),
                         [header()] + curve(flat, with_layer("update_ratio", 1e-4))),
    "dead-relu": ([header()] + curve(healthy_loss(), with_layer("dead_frac", 0.8)),
                  [header()] + curve(healthy_loss(), with_layer("dead_frac", 0.3))),
    "saturated-activations": ([header(activation="tanh")] + curve(healthy_loss(), with_layer("sat_frac", 0.9)),
                              [header(activation="tanh")] + curve(healthy_loss(), with_layer("sat_frac", 0.2))),
    "symmetric-init": ([header()] + curve(healthy_loss(), with_layer("weight_norm", 0.0)),
                       [header()] + curve(healthy_loss(), HEALTHY_LAYERS)),
    "vanishing-activations": ([header()] + curve(healthy_loss(), with_layer("act_std", 1.0, 0.005)),
                              [header()] + curve(healthy_loss(), with_layer("act_std", 1.0, 0.5))),
    "vanishing-gradients": ([header()] + curve(healthy_loss(), with_layer("grad_norm", 1e-5)),
                            [header()] + curve(healthy_loss(), with_layer("grad_norm", 0.05))),
    "exploding-gradients": ([header()] + curve(healthy_loss(), with_layer("grad_norm", 5e3)),
                            [header()] + curve(healthy_loss(), with_layer("grad_norm", 50.0))),
    "input-not-centered": ([header(input_stats={"mean_abs_mean": 120.0, "std_mean": 60.0})] + curve(healthy_loss()),
                           [header(input_stats={"mean_abs_mean": 0.13, "std_mean": 0.3})] + curve(healthy_loss())),
    # raw 0..16 digit pixels (RMS 7.7) against the same pixels in [0, 1] (RMS 0.48)
    "input-not-scaled": ([header(input_stats={"rms": 7.7})] + curve(healthy_loss()),
                         [header(input_stats={"rms": 0.48})] + curve(healthy_loss())),
    "sigmoid-hidden": ([header(activation="sigmoid")] + curve(healthy_loss()),
                       [header(activation="relu")] + curve(healthy_loss())),
}



def with_fields(records: Records, every: int = 10, **fields: Callable[[int], Any]) -> Records:
    """`records` with fields set on every `every`-th step (a sampled step) by fn(step)."""
    for rec in records:
        if rec.get("type") == "step" and rec["step"] % every == 0:
            for name, fn in fields.items():
                value = fn(rec["step"])
                if value is not None:
                    rec[name] = value
    return records


def amp_run(skip_every: int | None, scale: Callable[[int], float], n: int = 400) -> Records:
    """A run under a GradScaler: a skipped step every `skip_every` steps, the scale on samples."""
    recs = curve(healthy_loss(n))
    for rec in recs:
        if skip_every and rec["step"] % skip_every == 3:
            rec["skipped"] = True
    return [header()] + with_fields(recs, amp_scale=scale)


def clipped_run(frac: float, n: int = 400) -> Records:
    """Cumulative clipped-step counts on sampled steps: `frac` of the steps so far."""
    return [header(clip_norm=1.0)] + with_fields(curve(healthy_loss(n)),
                                                 clipped_steps=lambda s: int(frac * (s + 1)))


def ranks_at(step: int, **ranks: Any) -> Records:
    recs = curve(healthy_loss(200))
    recs[step]["ranks"] = {"world_size": 2, **ranks}
    return [header(world_size=2)] + recs


WARMED_UP_BUT_FLAT = [header()] + [{**r, "lr": 1e-5 * min(1.0, (r["step"] + 1) / 100)}
                                   for r in curve(noisy(np.full(600, 1.1), 0.03))]

CASES.update({
    # StepLR(step_size=1 epoch, gamma=0.1) against x0.1 at 50% and 75% of the run
    "lr-decay-too-fast": ([header()] + schedule_run("step_fast", "step"),
                          [header()] + schedule_run("step_healthy", "step")),
    "rank-nonfinite": (ranks_at(20, loss_nonfinite=[{"rank": 1, "step": 17}]), ranks_at(20)),
    "rank-desync": (ranks_at(30, desync=[{"layer": "fc2", "ranks": [1], "rel_diff": 0.02}]),
                    [header(world_size=2)] + curve(healthy_loss(200))),
    "amp-scale-collapse": (amp_run(None, lambda s: 65536.0 / 2 ** (s // 10)),  # halves every 10
                           amp_run(None, lambda s: 65536.0 if s < 20 else 8192.0)),
    "amp-skipped-steps": (amp_run(20, lambda s: 4096.0), amp_run(None, lambda s: 4096.0)),
    "clipping-always": (clipped_run(0.97), clipped_run(0.3)),
    # digits with shuffled labels: the net memorizes its training labels, validation at chance
    "val-at-chance": ([header(num_classes=10)] + epochs([0.15, 0.25, 0.35, 0.45, 0.55, 0.65],
                                                         [0.09, 0.10, 0.08, 0.09, 0.10, 0.09]),
                      [header(num_classes=10)] + epochs([0.5, 0.7, 0.8, 0.9, 0.95, 0.97],
                                                        [0.5, 0.68, 0.78, 0.86, 0.9, 0.91])),
    # NLLLoss on raw scores: the loss crosses zero and falls without bound
    "loss-unbounded": ([header()] + curve(np.concatenate([np.linspace(2.0, -30.0, 40),
                                                         -30.0 * 1.25 ** np.arange(60)])),
                       [header()] + curve(healthy_loss(200))),
    # lr 1e-6 on 10 classes: both accuracies at chance for five epochs
    "not-learning": ([header(num_classes=10)] + epochs([0.1, 0.11, 0.1, 0.12, 0.1],
                                                        [0.1, 0.09, 0.1, 0.11, 0.1]),
                     [header(num_classes=10)] + epochs([0.2, 0.4, 0.6, 0.7, 0.75],
                                                       [0.2, 0.4, 0.55, 0.6, 0.62])),
    # model.eval() for validation after epoch 1, and no model.train() after it
    "eval-mode": ([header()] + [{**r, "eval_mode": True} if r["step"] >= 100 else r
                                for r in curve(healthy_loss(300))],
                  [header()] + curve(healthy_loss(300))),
    # no model.eval() before the validation loop: every evaluation ran with dropout on
    "eval-in-train-mode": ([header()] + [{**r, "eval_train_mode": ["dropout"]} if "val_acc" in r
                                         else r for r in epochs([0.5, 0.7, 0.8], [0.5, 0.6, 0.7])],
                           [header()] + epochs([0.5, 0.7, 0.8], [0.5, 0.6, 0.7])),
    # `babysit train --reg 1.0`: the L2 term 78x the data loss at the first step
    "reg-dominant": ([header()] + curve(healthy_loss(), data_loss=1.27, reg_loss=99.1),
                     [header()] + curve(healthy_loss(), data_loss=1.1, reg_loss=0.01)),
})

# Near misses that must not fire, beyond the "good" half of CASES.
NEAR_MISSES: dict[str, list[Records]] = {
    "loss-at-init": [[header()] + curve([1.1] * 3), [header(loss_fn="svm")] + curve([2.5] * 3),
                     [header()] + [{"type": "step", "step": 50, "loss": 5.0}],  # not at init
                     [header(pretrained=True)] + curve([0.1] * 3)],  # a fine-tune starts low
    "plateau-then-drop": [[header()] + curve(np.concatenate([np.full(100, 1.1),
                                                               np.linspace(1.1, 0.3, 40),
                                                               np.full(200, 0.3)]))],  # short plateau
    "loss-flat": [[header()] + curve(healthy_loss(800)),
                  [header()] + curve(noisy(np.full(150, 1.1), 0.01)),  # too short to judge
                  [header()] + sparse(healthy_loss(800), 10),  # logged every 10 steps, healthy
                  [header()] + sparse(noisy(np.full(150, 1.1), 0.05), 10)],  # 15 records: too few
    "update-ratio-low": [[header()] + curve(np.concatenate([[1.1] * 20, np.full(300, 0.05)]),
                                            with_layer("update_ratio", 1e-7))],  # converged
    "overfitting": [[header(dataset={"X_val": [20, 2]})]  # 20 val examples: a 0.2 gap is noise
                    + epochs([0.9] * 6, [0.7] * 6)],
    "input-not-centered": [[header(input_stats={"mean_abs_mean": 4.9, "std_mean": 4.7,
                                                "channel_mean_over_std_max": 0.0})]
                           + curve(healthy_loss())],  # images centred per channel: fine
    "input-not-scaled": [
        [header(input_stats={"rms": 2.9})],  # just inside the line: 2.9^2 = 8.4x the variance
        [header(input_stats={"rms": 0.11})],  # small, inside: a factor 9 below unit scale
        # babysit's input-aware init divides the first layer by the RMS: nothing to judge
        [header(input_stats={"rms": 120.0}, config={"scale_first_layer": True, "init": "he"})]],
    "underfitting": [[header()] + epochs([0.95] * 8, [0.94] * 8),  # high and flat is converged
                     # above chance by the init's luck, but the loss never moved: not a net that
                     # learned and stalled (a learning rate far too low)
                     [header()] + epochs([0.41] * 8, [0.40] * 8, loss=[1.1] * 8)],
    "training-unstable": [[header()] + curve(np.concatenate([noisy(np.geomspace(1.1, 0.02, 200), 0.3),
                                                             spiky_but_low])),  # 5x jumps, still low
                          [header()] + curve(one_bad_batch)],  # one jump back to the start
    # the scaler's calibration: the first 16 steps all skipped, then one per 2000-step interval
    "amp-skipped-steps": [[header()] + with_fields(
        [{**r, "skipped": True} if r["step"] < 16 else r for r in curve(healthy_loss(400))],
        amp_scale=lambda s: 1.0 if s < 16 else 2.0)],
    "amp-scale-collapse": [amp_run(None, lambda s: 1.0)],  # settled at 1: low, not collapsed
    "clipping-always": [clipped_run(0.97, n=60),  # too few steps to judge
                        clipped_run(0.85)],  # often, not always
    "rank-nonfinite": [ranks_at(20, desync=[{"layer": "fc2", "ranks": [1], "rel_diff": 0.02}])],
    "val-at-chance": [
        # nothing learned on either side: loss-flat's or underfitting's case, not labels
        [header(num_classes=10)] + epochs([0.1, 0.11, 0.1, 0.12, 0.1, 0.11], [0.1, 0.09, 0.1, 0.11, 0.1, 0.1]),
        # at chance for two epochs, then validation follows training
        [header(num_classes=10)] + epochs([0.3, 0.45, 0.6, 0.7, 0.8, 0.85], [0.1, 0.1, 0.4, 0.6, 0.7, 0.8]),
        # 0.17 on 400 validation examples: above chance by more than 3 standard errors
        [header(num_classes=10, dataset={"X_val": [400, 64]})]
        + epochs([0.4, 0.5, 0.6, 0.65, 0.7, 0.75], [0.12, 0.15, 0.17, 0.16, 0.17, 0.17])],
    "loss-unbounded": [
        # a Gaussian negative log-likelihood: negative, falling, bounded (-0.5 to -4)
        [header()] + curve(np.concatenate([np.linspace(2.0, -0.5, 50), np.linspace(-0.5, -4.0, 150)])),
        # negative from the start and 1,000x further, but never past -1,000
        [header()] + curve(-0.5 * 1.05 ** np.arange(140))],
    "not-learning": [
        # two epochs at chance: too soon to say
        [header(num_classes=10)] + epochs([0.1, 0.11], [0.1, 0.09]),
        # validation at chance while training learns: val-at-chance's label problem
        [header(num_classes=10)] + epochs([0.15, 0.25, 0.35, 0.45, 0.55], [0.09, 0.1, 0.08, 0.09, 0.1]),
        # 0.13 after three epochs on 10 classes: past the 0.12 band, it has started
        [header(num_classes=10)] + epochs([0.1, 0.11, 0.13, 0.13], [0.1, 0.1, 0.13, 0.13]),
        # no class count anywhere: chance is unknown, nothing is judged
        [{k: v for k, v in r.items() if k != "loss"} for r in epochs([0.1, 0.11, 0.1, 0.12, 0.1])]],
    "eval-mode": [[header()] + [{**r, "eval_mode": True} if r["step"] == 100 else r
                                for r in curve(healthy_loss(300))]],  # one step: a toggle
    # the Monitor found nothing in training mode: an empty list
    "eval-in-train-mode": [[header()] + [{**r, "eval_train_mode": []} if "val_acc" in r else r
                                         for r in epochs([0.5, 0.7, 0.8], [0.5, 0.6, 0.7])]],
    # the terms nearly equal at the start; and a fitted run whose data loss fell under its L2
    "reg-dominant": [[header()] + curve(healthy_loss(), data_loss=1.1, reg_loss=1.0),
                     [header()] + [{"type": "step", "step": s, "loss": 1.0, "data_loss": d,
                                    "reg_loss": 0.05} for s, d in enumerate(np.geomspace(1.1, 0.01, 300))]],

}
# a 400-step warmup: flat while the rate is tiny, then falling once it is not
NEAR_MISSES["loss-flat"].append([header()] + [
    {**r, "lr": 1e-2 * min(1.0, (r["step"] + 1) / 400)}
    for r in curve(noisy(np.concatenate([np.full(350, 1.1), np.geomspace(1.1, 0.6, 450)]), 0.03))])
