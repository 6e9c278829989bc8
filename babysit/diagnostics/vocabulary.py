"""A remedy said in the terms of the framework the run came from.

Remedies change babysit's options (lr, reg, init, bias_init, batchnorm, dropout, activation,
hidden, lr_schedule, optimizer, preprocess); `--fix` and `diagnose --json`'s "set" keep those
names. A PyTorch, Lightning, Keras or Hugging Face user cannot type `--bias-init 0.01`: this
says each change as that framework spells it, with the value ("weight_decay=1e-4 in the
optimizer", 'kernel_initializer="he_normal"'). Frameworks not known here get babysit's names.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import fields
from typing import Any

from babysit.config import Config
from babysit.diagnostics.remedy import show_value

# Run formats whose framework is certain (a CSV may be Keras or Lightning: sniffed by readers).
FORMAT_FRAMEWORK = {"trainer_state": "transformers"}

_INIT = {
    "torch": {"he": "nn.init.kaiming_normal_(weight)", "xavier": "nn.init.xavier_normal_(weight)",
              "small": "nn.init.normal_(weight, std=0.01)"},
    "keras": {"he": 'kernel_initializer="he_normal"', "xavier": 'kernel_initializer="glorot_normal"',
              "small": "kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)"},
}
_TORCH_ACT = {"relu": "nn.ReLU()", "leaky_relu": "nn.LeakyReLU(0.01)", "elu": "nn.ELU()",
              "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}


def _torch(key: str, value: Any) -> str | None:
    v = show_value(value)
    return {
        "lr": f"lr={v} in the optimizer",
        "reg": f"weight_decay={v} in the optimizer",
        "init": _INIT["torch"].get(str(value)),
        "bias_init": f"nn.init.constant_(bias, {v})",
        "batchnorm": "nn.BatchNorm1d / BatchNorm2d after each Linear / Conv" if value else None,
        "dropout": f"nn.Dropout({v})",
        "activation": _TORCH_ACT.get(str(value)),
        "hidden": f"hidden layers of {v} units",
        "lr_schedule": {"step": "torch.optim.lr_scheduler.StepLR",
                        "constant": "no lr scheduler (a constant rate)"}.get(str(value)),
        "optimizer": "torch.optim.Adam" if value == "adam" else None,
        "preprocess": "normalize the inputs with the training set's mean and std",
    }.get(key)


def _keras(key: str, value: Any) -> str | None:
    v = show_value(value)
    return {
        "lr": f"learning_rate={v} in the optimizer",
        "reg": f"kernel_regularizer=keras.regularizers.L2({v})",
        "init": _INIT["keras"].get(str(value)),
        "bias_init": f"bias_initializer=keras.initializers.Constant({v})",
        "batchnorm": "layers.BatchNormalization() after each Dense / Conv" if value else None,
        "dropout": f"layers.Dropout({v})",
        "activation": f'activation="{value}"',
        "hidden": f"Dense layers of {v} units",
        "lr_schedule": {"step": "keras.callbacks.ReduceLROnPlateau",
                        "constant": "no LearningRateScheduler (a constant rate)"}.get(str(value)),
        "optimizer": "keras.optimizers.Adam" if value == "adam" else None,
        "preprocess": "a layers.Normalization() adapted to the training data",
    }.get(key)


def _transformers(key: str, value: Any) -> str | None:
    v = show_value(value)
    return {
        "lr": f"learning_rate={v} in TrainingArguments",
        "reg": f"weight_decay={v} in TrainingArguments",
        "lr_schedule": {"step": 'lr_scheduler_type="linear" with warmup_ratio=0.1',
                        "constant": 'lr_scheduler_type="constant"'}.get(str(value)),
        "dropout": f"the model config's dropout ({v})",
    }.get(key)


def _babysit(key: str, value: Any) -> str | None:
    """babysit's own runs: the change as `babysit train` flags, to add to its command line."""
    if key not in _OPTIONS:
        return None
    flag = "--" + key.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else flag.replace("--", "--no-", 1)
    return f"{flag} {shlex.quote(show_value(value))}"


_SAY = {"torch": _torch, "lightning": _torch, "keras": _keras, "transformers": _transformers,
        "babysit": _babysit}
# The option's own name, for a change relative to a value the log does not give ("x0.1")
_TORCH_STEP = "the scheduler's step_size (StepLR) or T_max (CosineAnnealingLR)"
_NAMES = {"torch": {"reg": "weight_decay", "lr_step": _TORCH_STEP},
          "lightning": {"reg": "weight_decay", "lr_step": _TORCH_STEP},
          "keras": {"lr": "learning_rate", "reg": "the L2 factor",
                    "lr_step": "decay_steps (ExponentialDecay) or patience (ReduceLROnPlateau)"},
          "transformers": {"lr": "learning_rate", "reg": "weight_decay",
                           "lr_step": "the schedule's length (max_steps / num_train_epochs)"}}


def _relative(value: Any) -> bool:
    """A change relative to a value the log does not give: "x0.1", "x4 units" (not "xavier")."""
    return isinstance(value, str) and re.match(r"x\d", value) is not None


def say_chain(chain: list[dict[str, Any]], config: dict[str, Any],
              framework: str | None) -> list[str]:
    """Each change of a chain as `say` puts it, and why it follows the one before when both
    move the same number: a step back after a bigger move ("if that went too far"), or
    further ("if that was not enough"). lr=0.001 then lr=1e-08 for a run at 1e-9 read as
    nonsense without it; --fix tries each from the last configuration that helped."""
    out, moved = [], {}
    for changes in chain:
        text = say(changes, framework)
        why = ""
        for key, value in changes.items():
            base = config.get(key)
            if not (isinstance(value, (int, float)) and isinstance(base, (int, float))
                    and not isinstance(value, bool) and base > 0 and value > 0):
                continue
            factor = value / base
            before = moved.get(key)
            if before is not None and (factor > 1) == (before > 1):
                further = abs(math.log(factor)) > abs(math.log(before))
                why = " (if that was not enough)" if further else " (if that went too far)"
            moved[key] = factor
        out.append(text + why)
    return out


def say(changes: dict[str, Any], framework: str | None) -> str:
    """The changes as the framework spells them; babysit's own names where it has none."""
    spell = _SAY.get(framework or "")
    parts = []
    for key, value in changes.items():
        if key == "hidden" and isinstance(value, str):  # "x4 units", "one more layer"
            parts.append(f"{value} in each hidden layer" if value.startswith("x") else value)
            continue
        relative = _relative(value)  # "x0.1": the current value unknown
        text = spell(key, value) if spell is not None and not relative else None
        name = _NAMES.get(framework or "", {}).get(key, key)
        parts.append(text or (f"{name} {value}" if relative else f"{key}={show_value(value)}"))
    return ", ".join(parts) or "no change"


_DEFAULTS = Config()
_OPTIONS = [f.name for f in fields(Config) if f.name != "eval_samples"]  # `babysit train`'s


def babysit_command(config: dict[str, Any], changes: dict[str, Any]) -> str | None:
    """The `babysit train` command line that reruns a babysit run with `changes`, to paste: the
    run's options that differ from the defaults, then the changed ones; None when a change is
    relative to a value the log does not give ("x4 units")."""
    merged = {**config, **changes}
    if any(_relative(v) for v in changes.values()):
        return None
    words = ["babysit", "train"]
    for name in _OPTIONS:
        value = merged.get(name)
        default = getattr(_DEFAULTS, name)
        if isinstance(value, list):
            value = tuple(value)
        if value is None or (value == default and name not in changes):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else flag.replace("--", "--no-", 1))
        else:
            words += [flag, show_value(value)]
    return shlex.join(words)
