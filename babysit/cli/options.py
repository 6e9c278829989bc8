"""The option vocabulary shared by every command that builds a model (train, gradcheck, ...).

Declared once, from Config's defaults, and attached to a command with @run_options, which
hands the command a validated `config: Config` instead of thirty keyword arguments.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Annotated, Any, Literal

import typer

from babysit.config import Config, parse_hidden
from babysit.names import ACTIVATIONS, DTYPES, INITS, LOSSES, OPTIMIZERS, PREPROCESS, SCHEDULES

DEFAULTS = Config()
DATA, MODEL, OPTIM, SPEED = "Data", "Model", "Optimization", "Speed"


def _choice(values: Any) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


# name -> (type, help, panel). The order is the order shown by --help.
_SPEC: dict[str, tuple[Any, str, str]] = {
    "data": (str, "spiral (embedded), digits (needs scikit-learn), or a .npz / .csv file", DATA),
    "classes": (int | None, "Number of classes: the spiral's arms (3 when unset); other data "
                            "are checked against it", DATA),
    "points": (int, "Spiral: points per class", DATA),
    "label_column": (str | None, "CSV: name of the integer label column [default: last]", DATA),
    "val_fraction": (float, "Fraction held out for validation when the data has no val split", DATA),
    "subset": (int | None, "Train on only the first N training examples", DATA),
    "preprocess": (_choice(PREPROCESS), "Input preprocessing, fitted on the training split", DATA),
    "hidden": (str, "Hidden layer sizes, comma-separated, e.g. 100,100", MODEL),
    "activation": (_choice(ACTIVATIONS), "Hidden-layer nonlinearity", MODEL),
    "init": (_choice(INITS), "Weight init: zeros, small N(0, init_std^2), xavier, he", MODEL),
    "init_std": (float, "Std of the 'small' init", MODEL),
    "bias_init": (float, "Initial hidden bias (e.g. 0.01 so ReLUs start active)", MODEL),
    "scale_first_layer": (bool, "Divide the first layer's xavier / he init by the inputs' RMS "
                                "(input-aware; not the lecture's scheme)", MODEL),
    "batchnorm": (bool, "Batch norm between affine and nonlinearity", MODEL),
    "dropout": (float, "Dropout probability of hidden units (inverted dropout)", MODEL),
    "reg": (float, "L2 strength: reg_loss = 0.5 * reg * sum(W^2)", MODEL),
    "loss": (_choice(LOSSES), "Softmax cross-entropy or multiclass SVM (hinge)", MODEL),
    "leaky_alpha": (float, "Leaky ReLU slope for x < 0", MODEL),
    "elu_alpha": (float, "ELU alpha", MODEL),
    "maxout_pieces": (int, "Maxout: linear pieces per unit", MODEL),
    "optimizer": (_choice(OPTIMIZERS), "Update rule", OPTIM),
    "lr": (float, "Initial learning rate", OPTIM),
    "lr_schedule": (_choice(SCHEDULES), "constant, step, exp or inv (1/t) decay", OPTIM),
    "lr_decay": (float, "step: factor per drop; exp, inv: rate per epoch", OPTIM),
    "lr_step": (int, "step: epochs between drops", OPTIM),
    "epochs": (int, "Passes over the training data", OPTIM),
    "batch_size": (int, "Minibatch size", OPTIM),
    "dtype": (_choice(DTYPES), "Floating-point precision", OPTIM),
    "seed": (int, "Seed for data split, init, shuffling and dropout", OPTIM),
    "stats_every": (int, "Per-layer statistics every k iterations (always at step 0)", OPTIM),
    "threads": (int | None, "BLAS threads for training. Unset: one for small nets, else the "
                            "faster of one and all cores, measured as it trains; OMP_NUM_THREADS "
                            "and kin, when set, are obeyed", SPEED),
}

_CONFIG_FIELDS = {f.name for f in fields(Config)}
assert set(_SPEC) <= _CONFIG_FIELDS, set(_SPEC) - _CONFIG_FIELDS


def _parameter(name: str) -> inspect.Parameter:
    typ, help_text, panel = _SPEC[name]
    default = getattr(DEFAULTS, name)
    if name == "hidden":
        default = ",".join(str(h) for h in default)
    option = typer.Option(help=help_text, rich_help_panel=panel)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[typ, option])


RUN_PARAMETERS = [_parameter(name) for name in _SPEC]


def config_from_options(**values: Any) -> Config:
    """A validated Config from the shared options' values (raises BabysitError)."""
    values["hidden"] = parse_hidden(values["hidden"])
    return Config(**values).validated()


def run_options(command: Callable[..., Any] | None = None, *,
                defaults: dict[str, Any] | None = None) -> Any:
    """Give `command(config, ...)` the shared model options; it receives them as one Config.

    Use as @run_options, or @run_options(defaults={"epochs": 5}) for a command whose
    sensible default differs (a search's coarse trials are short).
    """
    if command is None:
        return lambda cmd: run_options(cmd, defaults=defaults)
    shared_params = [p.replace(default=defaults[p.name]) if defaults and p.name in defaults else p
                     for p in RUN_PARAMETERS]
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values()
           if p.name != "config"]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        shared = {p.name: kwargs.pop(p.name) for p in RUN_PARAMETERS}
        return command(config_from_options(**shared), **kwargs)

    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared_params
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__  # Typer must see the new signature, not the wrapped one
    return wrapper
