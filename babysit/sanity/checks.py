"""The sanity checks to run before a long training run, each usable on its own from Python.

Every check takes the run's Config and its (preprocessed) Dataset and returns a CheckResult:
PASS, WARN or FAIL, the measured numbers, and what to do. The lecture's order: look at the
data, check the loss at init and that regularization raises it, check gradients, overfit a
small subset, find a learning-rate range; plus two checks from Karpathy's recipe (an
input-independent baseline, batch independence).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from babysit.config import Config
from babysit.data import Dataset, input_stats
from babysit.diagnostics.engine import Engine
from babysit.diagnostics.inputs import init_adapts, judge_inputs
from babysit.diagnostics.sink import DiagnosticsSink
from babysit.diagnostics.thresholds import Overrides, threshold
from babysit.nn import MLP
from babysit.nn.gradcheck import check_net
from babysit.training import MemorySink, Trainer
from babysit.training.threads import BlasThreads, step_mflop

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"


@dataclass
class CheckResult:
    """The outcome of one check."""

    name: str
    status: str
    message: str
    advice: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    root: bool = False  # a cause later checks can fail of (a zero init, logits that start large)
    follows: str | None = None  # the earlier check this one's failure follows from

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


# Checks that train the net: when one fails after a root cause, it follows from that cause
# (its own guess, "learning rate too high" on a zero init, would send the user after a symptom).
TRAINED = ("overfit small subset", "learning-rate probe", "input-independent baseline")


Result = TypeVar("Result", bound=Any)  # a CheckResult, or babysit.torch.sanity's Check


def follow(result: Result, earlier: list[Any], consequences: tuple[str, ...] = TRAINED) -> Result:
    """`result`, marked as following from the first root cause among `earlier` when it failed
    or warned and is one of `consequences` (or of what that root `explains`). Shared by this
    recipe and babysit.torch.sanity_check, whose checks carry the same fields."""
    root = next((r for r in earlier if r.root and r.status in (FAIL, WARN)), None)
    if root is None or result.status not in (FAIL, WARN) or \
            result.name not in (*consequences, *getattr(root, "explains", ())):
        return result
    evidence = result.numbers.get("evidence", result.message)
    return replace(result, follows=root.name, message=f"{evidence}: follows from {root.name} above",
                   advice=f"Fix {root.name} first, then run the check again.")


def _net(config: Config, data: Dataset, **changes: Any) -> MLP:
    """The run's net, freshly initialized with its seed (with `changes` to the config)."""
    cfg = replace(config, dtype="float64", **changes)
    spec = cfg.net_spec(data.num_features, data.num_classes, data.input_scale)
    return MLP(spec, np.random.default_rng(config.seed))


def _batch(data: Dataset, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.default_rng(seed).permutation(len(data.X_train))[:n]
    return data.X_train[idx], data.y_train[idx]


def _short_run(config: Config, data: Dataset, steps: int) -> tuple[dict[str, Any], list[dict]]:
    """Train for `steps` iterations; (summary, step records) with the engine's findings."""
    per_epoch = math.ceil(len(data.X_train) / config.batch_size)
    cfg = replace(config, epochs=max(1, math.ceil(steps / per_epoch)))
    memory = MemorySink()
    trainer = Trainer(cfg, data, [memory])

    class StopAt:
        def emit(self, rec: dict[str, Any]) -> None:
            if rec.get("type") == "step" and rec["step"] + 1 >= steps:
                trainer.request_stop("probe length reached", status="completed")

        def close(self) -> None:
            pass

    trainer.sinks.append(StopAt())
    summary = trainer.run()
    return summary, [r for r in memory.records if r.get("type") == "step"]


def _tail_loss(steps: list[dict], fraction: float = 0.2) -> float:
    """Mean loss over the last `fraction` of the steps (inf if it blew up)."""
    losses = [r["loss"] for r in steps]
    if not losses or not all(math.isfinite(v) for v in losses):
        return math.inf
    tail = losses[-max(1, int(len(losses) * fraction)):]
    return float(np.mean(tail))


def _head_loss(steps: list[dict], fraction: float = 0.2) -> float:
    """Mean loss over the first `fraction` of the steps: one minibatch is too noisy a start."""
    losses = [r["loss"] for r in steps[: max(1, int(len(steps) * fraction))]]
    finite = [v for v in losses if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


# --- 1. data ------------------------------------------------------------------------------
MIN_CLASS_RATIO = 0.1  # smallest class at least a tenth of the largest


def _adapted(config: Config) -> bool:
    """Whether the first layer's init adapts to the inputs' scale (--scale-first-layer)."""
    return init_adapts(config.scale_first_layer, config.init)


def check_data(config: Config, data: Dataset, overrides: Overrides | None = None) -> CheckResult:
    """Inputs after preprocessing: centred and scaled (babysit.diagnostics.inputs, the rules'
    lines); class balance."""
    st = input_stats(data.X_train, data.image_shape)
    verdict = judge_inputs(st)
    counts = np.bincount(data.y_train, minlength=data.num_classes)
    ratio = verdict.mean_over_std if verdict.mean_over_std is not None else math.inf
    numbers = {**st, "class_counts": counts.tolist(), "mean_abs_over_std": ratio}
    problems = verdict.problems(
        threshold("input-not-centered", "max_mean_over_std", overrides),
        (threshold("input-not-scaled", "min_rms", overrides),
         threshold("input-not-scaled", "max_rms", overrides)))
    if _adapted(config):  # --scale-first-layer: the init divides by the inputs' RMS
        problems = [p for p in problems if not p.startswith("not scaled")]
    nonzero = counts[counts > 0]
    if len(nonzero) and nonzero.min() < MIN_CLASS_RATIO * nonzero.max():
        problems.append(f"imbalanced classes ({nonzero.min()} vs {nonzero.max()})")
    balance = "/".join(str(c) for c in counts)
    summary = (f"{data.X_train.shape[0]} x {data.num_features}, |mean|/std {ratio:.2f}, "
               f"RMS {st['rms']:.2g}, classes {balance}")
    if problems:
        scaling = any(p.startswith(("not centered", "not scaled")) for p in problems)
        how = "image" if data.image_shape is not None else "standardize"
        return CheckResult("data", WARN, f"{summary}: {'; '.join(problems)}",
                           f"Use --preprocess {how}; weight or "
                           "resample rare classes.", numbers, root=scaling)
    return CheckResult("data", PASS, summary, numbers=numbers)


# --- 2. loss at init ----------------------------------------------------------------------
INIT_PASS_EXCESS = 1.0  # nats above log(C): what He/Xavier inits typically give (<= ~1)
INIT_WARN_EXCESS = 4.0  # the loss-at-init rule's limit: beyond any variance-preserving init
INIT_BATCH = 256


def _expected_init_loss(config: Config, classes: int) -> tuple[float, float, float]:
    """(expected, pass limit, warn limit) for the configured loss."""
    if config.loss == "svm":
        return classes - 1.0, 2.0 * (classes - 1), 4.0 * (classes - 1)
    c = math.log(classes)
    return c, c + INIT_PASS_EXCESS, c + INIT_WARN_EXCESS


def check_init_loss(config: Config, data: Dataset) -> CheckResult:
    """With regularization off, the initial loss is near log(C) (softmax) or C - 1 (SVM)."""
    net = _net(config, data, reg=0.0, dropout=0.0)
    x, y = _batch(data, INIT_BATCH, config.seed)
    loss = net.total_loss(x, y)
    expected, ok, warn = _expected_init_loss(config, data.num_classes)
    numbers = {"loss": loss, "expected": expected, "pass_below": ok, "warn_below": warn}
    what = f"initial loss {loss:.3f}, expected {expected:.3f} for {data.num_classes} classes"
    advice = ("Scale the init to the layer (Xavier / He); make the last layer's weights small; "
              "check the labels are 0..C-1.")
    if not _adapted(config) and judge_inputs({"rms": data.input_scale}).too_large and loss > ok:
        # The lecture's inits assume unit-scale inputs; only --scale-first-layer adapts to others.
        advice = (f"The inputs are not scaled (RMS {data.input_scale:.3g}) and the "
                  f"'{config.init}' init assumes they are: scale them (--preprocess standardize, "
                  "or image for images: pixels / their std), or use --scale-first-layer with "
                  "--init he / xavier.")
    if not math.isfinite(loss) or loss > warn or loss < 0.5 * expected:
        return CheckResult("loss at init", FAIL, what, advice, numbers, root=True)
    if loss > ok:
        return CheckResult("loss at init", WARN, what + " (logits start large)", advice, numbers,
                           root=True)
    return CheckResult("loss at init", PASS, what, numbers=numbers)


# --- 3. regularization raises the loss ----------------------------------------------------
DEFAULT_CHECK_REG = 1e-3


# The L2 term's share of the data loss at initialization, below which it does nothing: in
# bench/reg_zoo.py the useful strengths put it at 5e-4 .. 0.13; 1e-5 is 50x under the weakest.
REG_NEGLIGIBLE = 1e-5


def check_reg_raises_loss(config: Config, data: Dataset,
                          overrides: Overrides | None = None) -> CheckResult:
    """The same initial net has a higher loss with regularization on than off, by a share of
    the data loss that is neither negligible nor (reg-dominant's threshold) dominant."""
    reg = config.reg if config.reg > 0 else DEFAULT_CHECK_REG
    x, y = _batch(data, INIT_BATCH, config.seed)
    plain = _net(config, data, reg=0.0, dropout=0.0)
    if not any(np.any(w) for name, w in plain.params.items() if name.startswith("W")):
        return CheckResult("regularization raises loss", FAIL, f"every weight starts at 0 (--init "
                           f"{config.init}): L2 adds nothing, and every unit of a layer computes "
                           "the same thing and gets the same update, so they never differ",
                           "Use --init he (ReLU family) or --init xavier (tanh, sigmoid).",
                           root=True)
    off = plain.total_loss(x, y)
    on = _net(config, data, reg=reg, dropout=0.0).total_loss(x, y)
    share = (on - off) / off if off > 0 else math.nan
    numbers = {"loss_reg_off": off, "loss_reg_on": on, "reg": reg, "share": share}
    what = f"loss {off:.4f} without regularization, {on:.4f} with L2 {reg:g}"
    dominant = threshold("reg-dominant", "max_ratio", overrides)
    if on > off and config.reg > 0 and share < REG_NEGLIGIBLE:
        return CheckResult("regularization raises loss", WARN, what + f" (+{on - off:.3g}, "
                           f"{share:.1e} of the data loss): too weak to do anything",
                           "Raise --reg (10-1000x) or set it to 0; useful strengths put the L2 "
                           "term at 5e-4 .. 0.1 of the data loss at the start.", numbers)
    if on > off and config.reg > 0 and share > dominant:
        return CheckResult("regularization raises loss", WARN, what + f" (the L2 term is "
                           f"{share:.3g}x the data loss): it will dominate training",
                           "Lower --reg so its term starts well below the data loss "
                           "(reg-dominant).", numbers)
    if on > off:
        return CheckResult("regularization raises loss", PASS, what + f" (+{on - off:.3g})",
                           numbers=numbers)
    return CheckResult("regularization raises loss", FAIL, what,
                       "The regularization term is not added to the loss (or the weights are "
                       "all zero: check the init).", numbers)


# --- 4. gradient check --------------------------------------------------------------------
GRAD_TOL = 1e-7
GRAD_EXAMPLES = 8
GRAD_ENTRIES = 50


def check_gradients(config: Config, data: Dataset) -> CheckResult:
    """Backprop against a centred numerical gradient for every parameter (float64)."""
    net = _net(config, data)
    x, y = _batch(data, GRAD_EXAMPLES, config.seed)
    results = check_net(net, x, y, dropout_seed=config.seed, max_entries=GRAD_ENTRIES,
                        rng=np.random.default_rng(config.seed))
    worst_name, (worst, _, _) = max(results.items(), key=lambda kv: kv[1][0])
    numbers = {name: err for name, (err, _, _) in results.items()}
    what = f"max relative error {worst:.1e} ({worst_name}) over {len(results)} parameters"
    if worst < GRAD_TOL:
        return CheckResult("gradient check", PASS, what, numbers=numbers)
    return CheckResult("gradient check", FAIL, what + f", above {GRAD_TOL:g}",
                       "A backward pass does not match its forward pass: check the layer "
                       f"behind {worst_name}.", numbers, root=True)


# --- 5. overfit a small subset ------------------------------------------------------------
OVERFIT_EXAMPLES = 20
OVERFIT_STEPS = 1000  # full-batch iterations allowed to memorize the subset
OVERFIT_LOSS = 0.05  # "loss near zero": data loss below this (nats, or hinge units)


def _memorize(config: Config, data: Dataset, n: int) -> tuple[dict[str, Any], list[dict], set[str]]:
    """Full-batch training on the first n examples, reg and dropout off, until memorized.

    Returns the summary, the step records and the rule ids the engine found on the run.
    """
    cfg = replace(config, subset=n, batch_size=n, reg=0.0, dropout=0.0, epochs=OVERFIT_STEPS,
                  lr_schedule="constant", stats_every=10)
    doctor = DiagnosticsSink(Engine())
    memory = MemorySink()
    trainer = Trainer(cfg, data, [memory, doctor])

    class StopWhenMemorized:
        def emit(self, rec: dict[str, Any]) -> None:
            if rec.get("train_acc") == 1.0 and rec.get("data_loss", math.inf) < OVERFIT_LOSS:
                trainer.request_stop("memorized", status="completed")

        def close(self) -> None:
            pass

    trainer.sinks.append(StopWhenMemorized())
    summary = trainer.run()
    steps = [r for r in memory.records if r.get("type") == "step"]
    fired = {f.rule for f in (doctor.report.findings if doctor.report else [])}
    return summary, steps, fired


def _memorized(summary: dict[str, Any]) -> bool:
    return summary.get("train_acc") == 1.0 and summary.get("train_loss", math.inf) < OVERFIT_LOSS


def check_overfit(config: Config, data: Dataset, gradients_ok: bool | None = None) -> CheckResult:
    """With regularization and dropout off, a net must memorize 20 examples: 100%, loss ~0.

    When it cannot, the evidence decides between the lecture's causes, in this order: a
    failed gradient check -> likely a bug; NaN or an exploding loss (the rules engine's
    findings on the run) -> learning rate too high; a flat loss or tiny updates -> learning rate too
    low; then two experiments that change one thing each: 4x the hidden units memorizes ->
    too little capacity; 10x or 100x the learning rate memorizes -> learning rate too low;
    neither, while the loss still falls at the end -> learning rate too low; else likely a bug.
    """
    n = min(OVERFIT_EXAMPLES, len(data.X_train))
    summary, steps, fired = _memorize(config, data, n)
    acc, loss = summary.get("train_acc") or 0.0, summary.get("train_loss", math.inf)
    numbers: dict[str, Any] = {"examples": n, "steps": summary["steps"], "train_acc": acc,
                               "loss": loss, "findings": sorted(fired)}
    what = f"{n} examples: {100 * acc:.0f}% accuracy, loss {loss:.3g} after {summary['steps']} steps"
    if _memorized(summary):
        return CheckResult("overfit small subset", PASS, what, numbers=numbers)
    cause, advice = _overfit_cause(config, data, n, summary, steps, fired, gradients_ok)
    numbers.update({"cause": cause, "evidence": what})
    return CheckResult("overfit small subset", FAIL, f"{what}: {cause}", advice, numbers)


def _overfit_cause(config: Config, data: Dataset, n: int, summary: dict[str, Any],
                   steps: list[dict], fired: set[str], gradients_ok: bool | None) -> tuple[str, str]:
    if gradients_ok is False:  # with a wrong gradient, no reading of the loss curve is reliable
        return "likely a bug (the gradient check failed)", "Fix the backward pass first."
    if summary["status"] == "diverged" or not math.isfinite(_tail_loss(steps)):
        return "learning rate too high (NaN)", "Lower the learning rate (try 10x lower)."
    if fired & {"loss-nan", "loss-explosion"}:
        return "learning rate too high", "Lower the learning rate (try 10x lower)."
    # Tiny updates after a loss that shot up, or after the ReLUs died, are the aftermath of a
    # rate too high (sgd --lr 20 read as "too low": its dead units update by nothing).
    start = steps[0]["loss"] if steps else math.nan
    if "dead-relu" in fired or max((r["loss"] for r in steps), default=0.0) > PROBE_EXPLODE * start:
        return ("learning rate too high (the loss shot up or the ReLUs died)",
                "Lower the learning rate (try 10x lower).")
    if fired & {"loss-flat", "update-ratio-low"}:
        return "learning rate too low", "Raise the learning rate (try 10x)."
    wider = tuple(max(4 * h, 100) for h in config.hidden)
    if _memorized(_memorize(replace(config, hidden=wider), data, n)[0]):
        return ("too little capacity", f"Add hidden units or layers: --hidden "
                f"{','.join(map(str, wider))} memorizes the subset.")
    for factor in (10, 100):
        faster = config.lr * factor
        if _memorized(_memorize(replace(config, lr=faster), data, n)[0]):
            return ("learning rate too low",
                    f"Raise the learning rate: --lr {faster:g} memorizes the subset.")
    head, tail = _head_loss(steps), _tail_loss(steps)
    last = [r["loss"] for r in steps[-max(2, len(steps) // 5):]]
    if tail < 0.8 * head and last[-1] < 0.99 * last[0]:
        return ("learning rate too low", "The loss still falls at the end of the budget: raise "
                "the learning rate or use an adaptive optimizer (Adam).")
    return ("likely a bug", "Neither more capacity nor a higher learning rate lets the net fit 20 "
            "examples: check the loss and its gradient, the labels, and that the optimizer "
            "updates the right parameters.")


# --- 6. learning-rate probe ---------------------------------------------------------------
PROBE_RATES = tuple(10.0 ** k for k in range(-6, 2))  # 1e-6 .. 1e1, as in the lecture
PROBE_STEPS = 100
PROBE_FLAT = 0.05  # less than 5% change of the loss: "barely changing" (the loss-flat rule)
PROBE_EXPLODE = 2.0  # loss above twice its start, or NaN: "exploded" (the loss-explosion rule)
# Flat or learning compares the first and the last fifth of each probe (means over 20
# minibatches), so minibatch noise does not pass for learning. Exploded: NaN, or either fifth
# above twice the loss at initialization. A loss that ends more than PROBE_FLAT above where it
# started is "rising": too high as well.


def probe_verdict(start: float, first: float, tail: float, diverged: bool = False) -> str:
    """One probe run's verdict from its first loss, its first and last fifths' mean losses:
    exploded, rising, flat or learning (shared with babysit.torch.sanity_check)."""
    if diverged or not math.isfinite(tail) or max(first, tail) > PROBE_EXPLODE * start:
        return "exploded"
    if tail > (1 + PROBE_FLAT) * first:
        return "rising"
    if (first - tail) / first < PROBE_FLAT:
        return "flat"
    return "learning"


def check_lr_probe(config: Config, data: Dataset) -> CheckResult:
    """Short runs at log-spaced learning rates: where the loss barely moves, where it explodes."""
    rows = []
    for lr in PROBE_RATES:
        summary, steps = _short_run(replace(config, lr=lr, lr_schedule="constant"), data,
                                    PROBE_STEPS)
        start = steps[0]["loss"] if steps else math.nan
        first, tail = _head_loss(steps), _tail_loss(steps)
        verdict = probe_verdict(start, first, tail, summary["status"] == "diverged")
        rows.append({"lr": lr, "initial_loss": start, "first_fifth": first, "final_loss": tail,
                     "verdict": verdict})
    learning = [r for r in rows if r["verdict"] == "learning"]
    too_low = [r["lr"] for r in rows if r["verdict"] == "flat" and
               (not learning or r["lr"] < learning[0]["lr"])]
    too_high = [r["lr"] for r in rows if r["verdict"] in ("exploded", "rising")]
    numbers: dict[str, Any] = {"probe": rows}
    table = " ".join(f"{r['lr']:.0e}:{r['verdict'][0]}" for r in rows)
    if not learning:
        return CheckResult("learning-rate probe", FAIL, f"no rate learns ({table})",
                           "Check the data and the model: the loss falls at no learning rate.",
                           numbers)
    best = min(learning, key=lambda r: r["final_loss"])
    lo, hi = learning[0]["lr"], learning[-1]["lr"]
    numbers.update({"range": [lo, hi], "best": best["lr"], "too_low_up_to":
                    max(too_low) if too_low else None,
                    "explodes_from": min(too_high) if too_high else None})
    what = (f"flat up to {max(too_low):.0e}, " if too_low else "") + \
        (f"rises or explodes from {min(too_high):.0e}, " if too_high else "") + \
        f"learns at {lo:.0e}..{hi:.0e} (best {best['lr']:.0e})"
    if lo <= config.lr <= hi * 3:
        return CheckResult("learning-rate probe", PASS, what + f"; --lr {config.lr:g} is inside",
                           numbers=numbers)
    return CheckResult("learning-rate probe", WARN, what + f"; --lr {config.lr:g} is outside",
                       f"Start from --lr {best['lr']:g} and search around it (random search on "
                       "a log scale).", numbers)


# --- 7. input-independent baseline --------------------------------------------------------
BASELINE_STEPS = 200
BASELINE_MARGIN = 0.9  # the real run's final loss must be below 90% of the zeroed run's


def check_input_baseline(config: Config, data: Dataset,
                         probe: CheckResult | None = None) -> CheckResult:
    """The same short run with all inputs zeroed must end clearly worse than with real ones.

    Both runs train without L2 or dropout at the learning-rate probe's best rate when it found
    one: the check asks whether the net uses its input, and at a rate or an L2 too strong to
    learn (--lr 1e-6, --reg 10) neither run would move, which says nothing about the input."""
    best = (probe.numbers.get("best") if probe is not None else None)
    if probe is not None and best is None:
        return CheckResult("input-independent baseline", WARN, "not run: no learning rate made "
                           "the loss go down in the probe, so there is no run to compare",
                           "Fix the failing checks above first.")
    settings = replace(config, reg=0.0, dropout=0.0, lr=best if best is not None else config.lr,
                       lr_schedule="constant")
    note = f" (at the probe's best --lr {best:g}, without L2 or dropout)" if best is not None else ""
    _, real = _short_run(settings, data, BASELINE_STEPS)
    zeroed = replace(data, X_train=np.zeros_like(data.X_train), X_val=np.zeros_like(data.X_val))
    _, blind = _short_run(settings, zeroed, BASELINE_STEPS)
    real_loss, blind_loss = _tail_loss(real), _tail_loss(blind)
    what = f"final loss {real_loss:.3g} with real inputs, {blind_loss:.3g} with zeroed inputs{note}"
    numbers = {"loss_real_inputs": real_loss, "loss_zero_inputs": blind_loss, "lr": settings.lr,
               "evidence": what}
    if real_loss < BASELINE_MARGIN * blind_loss:
        return CheckResult("input-independent baseline", PASS, what, numbers=numbers)
    start = real[0]["loss"] if real else math.nan
    if not math.isfinite(real_loss) or real_loss > PROBE_EXPLODE * start:
        # A run that blew up says nothing about whether the net uses its input.
        return CheckResult("input-independent baseline", WARN, what + ": the run with real "
                           "inputs diverged, so the comparison says nothing",
                           "Lower the learning rate (the learning-rate probe says where it "
                           "explodes), then run the check again.", numbers)
    return CheckResult("input-independent baseline", FAIL, what + ": the net is not using its input",
                       "Check that the inputs reach the model (preprocessing, feeding the "
                       "right array).", numbers)


# --- 8. batch independence ----------------------------------------------------------------
INDEPENDENCE_BATCH = 8


def check_batch_independence(config: Config, data: Dataset) -> CheckResult:
    """With batch norm off, example i's loss has a gradient only on input row i."""
    net = _net(config, data, batchnorm=False, dropout=0.0)
    x, y = _batch(data, INDEPENDENCE_BATCH, config.seed)
    scores, cache = net.forward(x, train=True)
    _, dscores = net.loss_fn(scores, y)
    leaks = []
    for i in range(len(x)):
        only_i = np.zeros_like(dscores)
        only_i[i] = dscores[i]
        _, dx = net.backward(only_i, cache, input_grad=True)
        assert dx is not None
        others = np.delete(np.abs(dx), i, axis=0)
        if others.size and others.max() > 0:
            leaks.append(i)
    numbers = {"examples": len(x), "leaking": leaks}
    note = " (checked with batch norm off: it mixes examples by design)" if config.batchnorm else ""
    if not leaks:
        return CheckResult("batch independence", PASS,
                           f"each of {len(x)} examples' gradients stays on its own row{note}",
                           numbers=numbers)
    return CheckResult("batch independence", FAIL,
                       f"{len(leaks)} of {len(x)} examples leak gradient to other rows{note}",
                       "Something mixes examples across the batch (a reduction over axis 0, "
                       "a wrong reshape or broadcast).", numbers)


CHECKS: tuple[tuple[str, Callable[..., CheckResult]], ...] = (
    ("data", check_data),
    ("loss at init", check_init_loss),
    ("regularization raises loss", check_reg_raises_loss),
    ("gradient check", check_gradients),
    ("overfit small subset", check_overfit),
    ("learning-rate probe", check_lr_probe),
    ("input-independent baseline", check_input_baseline),
    ("batch independence", check_batch_independence),
)


def run_checks(config: Config, data: Dataset,
               on_result: Callable[[CheckResult], None] | None = None,
               overrides: Overrides | None = None) -> list[CheckResult]:
    """Run every check in order; on_result is called as each one finishes. `overrides`: the
    rules' thresholds as --set / --rules-config give them (checks that judge by a rule's line
    read it from there)."""
    spec = config.net_spec(data.num_features, data.num_classes, data.input_scale)
    with BlasThreads(step_mflop(spec, config.batch_size), config.threads):
        return _run_checks(config, data, on_result, overrides)


def _run_checks(config: Config, data: Dataset, on_result: Callable[[CheckResult], None] | None,
                overrides: Overrides | None) -> list[CheckResult]:
    results: list[CheckResult] = []
    for _, check in CHECKS:
        if check is check_overfit:
            grads = next((r for r in results if r.name == "gradient check"), None)
            result = check(config, data, gradients_ok=None if grads is None else grads.status == PASS)
        elif check in (check_data, check_reg_raises_loss):
            result = check(config, data, overrides)
        elif check is check_input_baseline:  # at a rate that learns: the probe's
            result = check(config, data, next((r for r in results if r.name == "learning-rate probe"), None))
        else:
            result = check(config, data)
        result = follow(result, results)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
