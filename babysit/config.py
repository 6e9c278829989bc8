"""One flat, serializable description of a run: data, model, optimization and monitoring."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from babysit import names
from babysit.errors import BabysitError

if TYPE_CHECKING:
    from babysit.nn import NetSpec


@dataclass(frozen=True)
class Config:
    """Every knob of `babysit train`; defaults train a 2-layer ReLU net on the spiral in seconds."""

    # data
    data: str = "spiral"
    # The number of classes, as in `babysit diagnose --classes`: the spiral has this many arms
    # (3 when unset); other data are checked against it.
    classes: int | None = None
    points: int = 100  # spiral points per arm
    label_column: str | None = None  # CSV label column; the last one when None
    val_fraction: float = 0.2  # held out when the data has no validation split
    subset: int | None = None  # train on only the first N training examples
    preprocess: str = "auto"
    # model
    hidden: tuple[int, ...] = (100,)
    activation: str = "relu"
    init: str = "he"  # He init suits ReLU (lecture: xavier halves ReLU variance per layer)
    init_std: float = 0.01  # for init "small"
    bias_init: float = 0.0  # e.g. 0.01 so ReLUs start active
    # Divide the first layer's Xavier / He draw by the inputs' RMS (an input-aware init, not
    # the lecture's): off, so that --init names the lecture's scheme and unscaled inputs show.
    scale_first_layer: bool = False
    batchnorm: bool = False
    dropout: float = 0.0  # probability of dropping a unit
    reg: float = 1e-4  # L2 strength: reg_loss = 0.5 * reg * sum(W^2)
    loss: str = "softmax"
    leaky_alpha: float = 0.01
    elu_alpha: float = 1.0
    maxout_pieces: int = 2
    # optimization
    optimizer: str = "adam"
    lr: float = 1e-2
    lr_schedule: str = "constant"
    lr_decay: float = 0.5  # step: factor per drop; exp / inv: rate per epoch
    lr_step: int = 10  # step: epochs between drops
    epochs: int = 100
    batch_size: int = 32
    dtype: str = "float64"
    seed: int = 0
    # monitoring
    stats_every: int = 10  # per-layer statistics every k iterations (and always at step 0)
    eval_samples: int = 1000  # training examples used for the per-epoch train accuracy
    # speed
    threads: int | None = None  # BLAS threads; None: babysit/training/threads.py decides

    def net_spec(self, input_dim: int, num_classes: int, input_scale: float = 1.0) -> NetSpec:
        """The architecture part of the config, for a given input width, class count and
        input scale (root mean square; used only with scale_first_layer)."""
        from babysit.nn import NetSpec

        return NetSpec(
            input_dim=input_dim, num_classes=num_classes, hidden=self.hidden,
            activation=self.activation, init=self.init, init_std=self.init_std,
            bias_init=self.bias_init, batchnorm=self.batchnorm, dropout=self.dropout,
            reg=self.reg, loss=self.loss, leaky_alpha=self.leaky_alpha, elu_alpha=self.elu_alpha,
            maxout_pieces=self.maxout_pieces, dtype=self.dtype,
            input_scale=input_scale if self.scale_first_layer else 1.0,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    def validated(self) -> Config:
        """self, or a BabysitError naming the first bad option."""
        choices = {
            "activation": names.ACTIVATIONS, "init": names.INITS, "loss": names.LOSSES,
            "optimizer": names.OPTIMIZERS, "lr_schedule": names.SCHEDULES, "dtype": names.DTYPES,
            "preprocess": names.PREPROCESS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise BabysitError(f"{_flag(name)} {getattr(self, name)!r} is not one of "
                                   f"{', '.join(allowed)}")
        # NaN and infinity pass every comparison below the wrong way (or train to NaN): refuse
        # them first, by name, so that no run "diverges" because of a typo.
        for name in ("lr", "reg", "init_std", "bias_init", "dropout", "leaky_alpha", "elu_alpha",
                     "lr_decay", "val_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BabysitError(f"{_flag(name)} must be a finite number, got {value}")
        positive = {"lr": self.lr, "epochs": self.epochs, "batch_size": self.batch_size,
                    "stats_every": self.stats_every, "init_std": self.init_std,
                    "eval_samples": self.eval_samples, "lr_step": self.lr_step}
        for name, value in positive.items():
            if not value > 0:
                raise BabysitError(f"{_flag(name)} must be positive, got {value}")
        if not 0 <= self.seed < 2**63:
            raise BabysitError(f"--seed must be between 0 and 2**63 - 1, got {self.seed}")
        if self.classes is not None and not 2 <= self.classes <= MAX_CLASSES:
            raise BabysitError(f"--classes must be between 2 and {MAX_CLASSES:,}, "
                               f"got {short_int(self.classes)}")
        if self.points < 1:
            raise BabysitError(f"--points must be at least 1, got {short_int(self.points)}")
        if not self.hidden or any(h <= 0 for h in self.hidden):
            raise BabysitError(f"--hidden needs one or more positive sizes, got {self.hidden}")
        if not 0.0 <= self.dropout < 1.0:
            raise BabysitError(f"--dropout is a drop probability in [0, 1), got {self.dropout}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise BabysitError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if self.reg < 0:
            raise BabysitError(f"--reg must be >= 0, got {self.reg}")
        if self.leaky_alpha < 0 or self.elu_alpha < 0:
            raise BabysitError("--leaky-alpha and --elu-alpha must be >= 0, got "
                               f"{self.leaky_alpha} and {self.elu_alpha}")
        if self.lr_schedule == "step" and not 0 < self.lr_decay <= 1:
            raise BabysitError(f"--lr-decay is the step schedule's factor per drop, in (0, 1], "
                               f"got {self.lr_decay}")
        if self.lr_schedule in ("exp", "inv") and self.lr_decay < 0:
            raise BabysitError(f"--lr-decay is the {self.lr_schedule} schedule's rate per epoch, "
                               f">= 0 (a negative rate makes the learning rate grow), got {self.lr_decay}")
        if self.maxout_pieces < 2:
            raise BabysitError(f"--maxout-pieces must be at least 2, got {self.maxout_pieces}")
        if self.threads is not None and not 1 <= self.threads <= 4096:
            raise BabysitError(f"--threads must be between 1 and 4096, got {short_int(self.threads)}")
        if self.subset is not None and self.subset < 1:
            raise BabysitError(f"--subset must be at least 1, got {self.subset}")
        return self


MAX_CLASSES = 1_000_000  # beyond any real classifier's label set (ImageNet-21k: 21,841)


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def short_int(value: int) -> str:
    """An integer as typed, unless it is absurdly long (then its digit count)."""
    text = str(value)
    return text if len(text) <= 20 else f"a {len(text)}-digit number"


def parse_hidden(text: str) -> tuple[int, ...]:
    """'100,50' -> (100, 50), or a BabysitError."""
    parts = [part.strip() for part in text.split(",")]
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:  # also an empty part: '100,,100' is a typo, not two layers
        raise BabysitError(f"--hidden expects comma-separated integers like 100,100, got {text!r}") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise BabysitError(f"--hidden needs one or more positive sizes, got {text!r}")
    return sizes


