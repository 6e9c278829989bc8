"""Generated families of runs for the failure classes of issue 33: each fault beside its near
misses, over the cadences, lengths, noise levels and scales real logs come in.

A family is a generator, not a fixture: `loss_run(shape, cadence, scale, noise, seed)` draws
one run's records; the tests sweep the grid. Shapes (the loss level over the run, 1 at start):
- "stuck": the lecture's "loss not going down" (a rate of 1e-6): 2% down over the whole run.
- "stuck_noisy_first": stuck, with a first value 2.5 noise SDs high (a plausible first batch).
- "converged": falls to 60% of its start within the first fifth, then holds.
- "finetune": a pretrained model's slow steady decline, 13% over the run (T5's 1.996 -> 1.74).
Cadences: "step" (600 steps, each logged), "every25" (15,000 steps logged every 25), "epoch"
(40 rows of an epoch's mean each, with a validation loss: a Keras CSV).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Records = list[dict[str, Any]]
CADENCES = {"step": (600, 1), "every25": (600, 25), "epoch": (40, 1)}
SHAPES = ("stuck", "stuck_noisy_first", "converged", "finetune")
FIRST_HIGH_SDS = 2.5  # stuck_noisy_first's first value: high, but within a noisy batch's reach


def level(shape: str, n: int) -> np.ndarray:
    """The loss over n records, relative to its start (1.0)."""
    t = np.linspace(0.0, 1.0, n)
    if shape in ("stuck", "stuck_noisy_first"):
        return 1.0 - 0.02 * t
    if shape == "converged":
        return 0.6 + 0.4 * np.exp(-t / 0.05)
    if shape == "finetune":
        return 1.0 - 0.13 * t
    raise ValueError(shape)


def loss_run(shape: str, cadence: str, scale: float = 2.3, noise: float = 0.03,
             seed: int = 0) -> Records:
    """One run: `scale` the loss at the start, `noise` each record's relative SD."""
    n, every = CADENCES[cadence]
    rng = np.random.default_rng(seed)
    values = scale * level(shape, n) * (1 + noise * rng.standard_normal(n))
    if shape == "stuck_noisy_first":
        values[0] = scale * (1 + FIRST_HIGH_SDS * noise)
    out: Records = [{"type": "header"}]
    for i, v in enumerate(values):
        rec: dict[str, Any] = {"type": "step", "step": i * every, "loss": float(v)}
        if cadence == "epoch":
            rec.update(epoch=i, val_loss=float(v) * 1.05)
        out.append(rec)
    return out


def start_run(shape: str, every: int, noise: float, seed: int = 0) -> Records:
    """The start of a run, 3,000 steps logged every `every` steps (at most 600 records), per-batch
    `noise` (relative SD):
    - "hockey_stick": at ln 10 for the first 40% of the records, then a fast fall to 0.1
      (the lecture's bad initialization);
    - "fast_start": falls from ln 10 to a fifth of it within its first five records, then
      noisy per-batch losses around that (a healthy run logged sparsely: MNIST every 50 steps);
    - "fast_start_one_high": that, with the first record after the first window a hard batch
      at 1.1x the first window's mean (wild2's AIOPS_mnist v18: 0.53 after a mean of 0.41).
    """
    rng = np.random.default_rng(seed)
    n = min(600, 3000 // every)
    t = np.arange(n)
    if shape == "hockey_stick":
        flat = int(0.4 * n)
        base = np.where(t < flat, np.log(10), 0.1 + (np.log(10) - 0.1) * np.exp(-(t - flat) / 3.0))
    elif shape in ("fast_start", "fast_start_one_high"):
        base = np.log(10) * (0.2 + 0.8 * np.exp(-t / 1.5))
    else:
        raise ValueError(shape)
    values = base * np.exp(noise * rng.standard_normal(n))  # per-batch noise is multiplicative
    if shape == "fast_start_one_high":
        values[10] = 1.1 * values[:10].mean()
    return [{"type": "header"}] + [{"type": "step", "step": i * every, "loss": float(v)}
                                   for i, v in enumerate(values)]


def spiky_run(kind: str, noise: float = 0.3, seed: int = 0, n: int = 540) -> Records:
    """A fine-tune logged every 10 steps of batch 8 (80 examples a loss, as the header says):
    - "hard_examples": converged at ~3e-4 per record, one record in ten jumps to 0.05-0.3
      (one or two confidently wrong examples among 80: CodeBERT's log);
    - "forgetting": converged at ~3e-4, then thrown back to 0.3-0.6 for whole windows, again and
      again (every example's loss up: a rate too high).
    """
    rng = np.random.default_rng(seed)
    values = 3e-4 * np.exp(noise * rng.standard_normal(n))
    if kind == "hard_examples":
        hit = rng.random(n) < 0.1
        values[hit] = rng.uniform(0.05, 0.3, hit.sum())
    elif kind == "forgetting":
        for start in (200, 320, 440):
            values[start:start + 15] = rng.uniform(0.3, 0.6, 15)
    else:
        raise ValueError(kind)
    values[:20] = np.linspace(0.7, 3e-4, 20)  # the fine-tune's first descent
    out: Records = [{"type": "header", "batch_size": 8, "log_every": 10}]
    return out + [{"type": "step", "step": 10 * i, "loss": float(v)} for i, v in enumerate(values)]


def epoch_rows(kind: str, scale: float, seed: int = 0, n: int = 25) -> Records:
    """A classifier's per-epoch log (a Keras CSV) whose first epoch's mean is `scale`:
    - "came_back": the first epoch blew up, then the loss sits near ln 4 at chance (lr 30);
    - "rising": above the line and climbing (still blowing up);
    - "custom_scale": a loss on its own scale (a custom loss, a sum), falling 15% over the run
      while the accuracy climbs.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    if kind == "came_back":
        loss, acc = np.log(4) * (1 + 0.03 * rng.standard_normal(n)), np.full(n, 0.25)
        loss[0] = scale
    elif kind == "rising":
        loss, acc = scale * 1.5 ** t, np.full(n, 0.25)
    elif kind == "custom_scale":
        loss = scale * (1 - 0.15 * t / n) * (1 + 0.005 * rng.standard_normal(n))
        acc = 0.45 + 0.1 * t / n
    else:
        raise ValueError(kind)
    return [{"type": "step", "step": e, "epoch": e, "loss": float(v), "train_acc": float(a),
             "val_acc": float(a), "val_loss": float(v)} for e, (v, a) in enumerate(zip(loss, acc, strict=True))]


# --- learning-rate schedules (issue 35): the loss follows the rate it is trained at ----------
EPOCH_STEPS, SCHEDULE_STEPS, PEAK = 40, 1200, 0.01


def schedule_lr(kind: str, step: int, loss_history: list[float]) -> float:
    """The rate at `step` for a schedule: too fast (x0.1 every epoch; x0.5 every epoch), or
    healthy (x0.1 at 50% and 75%; x0.95 every epoch; cosine and linear to 0; x0.1 on a plateau)."""
    epoch, frac = step // EPOCH_STEPS, step / SCHEDULE_STEPS
    if kind in ("step_fast", "stuck_step_fast"):
        return PEAK * 0.1 ** epoch
    if kind == "exp_fast":
        return PEAK * 0.5 ** epoch
    if kind == "step_healthy":
        return PEAK * 0.1 ** ((frac >= 0.5) + (frac >= 0.75))
    if kind == "exp_healthy":
        return PEAK * 0.95 ** epoch
    if kind == "cosine":
        return PEAK * 0.5 * (1 + np.cos(np.pi * frac))
    if kind == "linear":
        return PEAK * (1 - frac)
    if kind in ("plateau", "plateau_early"):  # ReduceLROnPlateau: x0.1 after a stretch of
        every = 100 if kind == "plateau" else 60  # patience that gained under 0.5%
        drops = sum(1 for t in range(2 * every, step, every)
                    if loss_history[t - every] - loss_history[t] < 0.005 * loss_history[t - every])
        return PEAK * 0.1 ** drops
    raise ValueError(kind)


def schedule_run(kind: str, cadence: str, scale: float = 2.3, noise: float = 0.03,
                 seed: int = 0) -> Records:
    """A run whose loss closes its gap to a floor at a rate proportional to the lr (0.008 of the
    gap a step at the peak: about a 125-step time constant), logged per step, every 25 steps or
    once an epoch (the epoch's mean, the lr at its end). A "stuck" run never moves."""
    rng = np.random.default_rng(seed)
    floor, loss, clean, lrs = 0.3 * scale, scale, [], []
    for step in range(SCHEDULE_STEPS):
        lr = float(schedule_lr(kind, step, clean))
        clean.append(loss)
        lrs.append(lr)
        if not kind.startswith("stuck"):  # plateau_early: converged by step ~200, then cut often
            loss -= (4.0 if kind == "plateau_early" else 0.8) * lr * (loss - floor)
    values = np.array(clean) * (1 + noise * rng.standard_normal(SCHEDULE_STEPS))
    if cadence == "epoch":
        return [{"type": "step", "step": e * EPOCH_STEPS + EPOCH_STEPS - 1, "epoch": e,
                 "loss": float(values[e * EPOCH_STEPS:(e + 1) * EPOCH_STEPS].mean()),
                 "lr": lrs[(e + 1) * EPOCH_STEPS - 1]} for e in range(SCHEDULE_STEPS // EPOCH_STEPS)]
    every = {"step": 1, "every25": 25}[cadence]
    return [{"type": "step", "step": s, "loss": float(values[s]), "lr": lrs[s]}
            for s in range(0, SCHEDULE_STEPS, every)]
