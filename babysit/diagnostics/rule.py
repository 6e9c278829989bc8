"""What a rule is, what it sees, and what it reports.

A rule is a small class: a stable `id`, a `severity`, the record fields it `needs`, its
`thresholds` (documented defaults, overridable by keyword), its `advice`, and one or more of
the hooks below. The docstring is its user documentation. Rules never see the trainer: only
records, and the engine's window summaries of the loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from babysit.diagnostics.records import Evaluation, Header
from babysit.diagnostics.remedy import Remedy
from babysit.text import visible, visible_all

Record = dict[str, Any]
SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass
class Window:
    """The loss over `count` consecutive step records (the engine's unit of smoothing)."""

    index: int  # 0 for the first window of the run
    first_step: int
    last_step: int
    count: int
    first: float  # the window's first loss (for window 0: the loss at initialization)
    mean: float
    min: float
    max: float


@dataclass
class LayerSample:
    """One record's per-layer statistics, cleaned once by the engine for every layer rule.

    `layers` keeps the log's order; each entry holds only the finite numeric fields (so a rule
    reads entry.get("dead_frac") and gets a float or None). Non-finite values are listed in
    `nonfinite` as "layer.field".
    """

    step: int
    loss: float | None
    layers: list[tuple[str, dict[str, float]]]
    nonfinite: list[str] = field(default_factory=list)
    lr: float | None = None  # the record's learning rate, when logged (a schedule's)

    @property
    def hidden(self) -> list[tuple[str, dict[str, float]]]:
        """The hidden layers: those with activation statistics, else all but the last."""
        with_acts = [(n, e) for n, e in self.layers if "act_std" in e or "act_mean" in e]
        return with_acts if with_acts else self.layers[:-1]


@dataclass
class Finding:
    """One diagnosed problem: where it starts, the evidence in numbers, what to do."""

    rule: str
    severity: str
    step: int
    message: str
    advice: str
    evidence: dict[str, Any] = field(default_factory=dict)
    end_step: int | None = None
    caused_by: str | None = None  # the rule whose finding explains this one (its root cause)

    def __str__(self) -> str:
        """One line: 'WARNING dead-relu at step 40 (caused by ...): what -> what to do'."""
        cause = f" (caused by {self.caused_by})" if self.caused_by else ""
        return (f"{self.severity.upper()} {self.rule} at step {self.step}{cause}: "
                f"{self.message} -> {self.advice}")

    @property
    def steps(self) -> str:
        """Where it was seen: 'step 120' or 'steps 120-480'."""
        if self.end_step is None or self.end_step == self.step:
            return f"step {self.step}"
        return f"steps {self.step}-{self.end_step}"

    def __repr__(self) -> str:
        """Short enough to read in a list: severity, rule, step and what was seen."""
        return f"<Finding {self.severity} {self.rule} at step {self.step}: {self.message}>"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers become strings)."""
        ev = {k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v)
              for k, v in self.evidence.items()}
        return {"rule": self.rule, "severity": self.severity, "step": self.step,
                "end_step": self.end_step, "message": self.message, "advice": self.advice,
                "evidence": ev, "caused_by": self.caused_by}


class Rule:
    """Base class: subclasses set the class attributes and implement the hooks they need.

    Hooks (all optional): on_header(header) with the run's Header (diagnostics/records.py),
    on_first_step(record) for the first step record,
    on_step(record) for every step record, on_nonfinite((record, field, value)) when the loss,
    data_loss or val_loss of a record is NaN or infinite,
    on_window(window) for every closed loss window, on_layers(sample) with the per-layer
    statistics of a record (a LayerSample, at most one per engine layer stride),
    on_epoch(evaluation) for records with epoch-end metrics, as an Evaluation (with
    `recent_loss`, the mean of the last 1-10 logged training losses, and `epoch_at`, the
    run's epoch clock), finish(). Step records are dicts whose `step` and `loss` the engine
    has normalized (an int; a float or None).
    A hook returns a Finding to report, or None. A rule reports at most one finding; it may
    extend its end_step, or withdraw it (self.finding = None) when later evidence contradicts it.
    A rule listed in another's `supersedes` is not reported while that other rule has a finding
    (a diverged run's "underfitting" is not news). A rule listed in another's `explains` is
    reported as that one's consequence (`caused_by`), after it, with its advice pointing to the
    cause's: a net that never started learning because the learning rate is 1e-6 shows low
    training accuracy, but "increase capacity" would be the wrong advice.
    `facts` (set by the engine) are what the log says of the run that several rules need: the
    task, the class count and where it came from, the normalized header (`facts.header`: the
    validation size, the loss function, the examples behind each logged loss), the epoch clock
    (diagnostics/facts.py); read them when judging, as they
    may be settled only after the first records.
    `remedies` are the advice as config changes (diagnostics/remedy.py), in the order to try
    them. A `provisional` rule may withdraw its finding later, so whoever acts on findings
    while a run trains (--stop-on, --fix) waits for the run's end before acting on it.
    """

    id: ClassVar[str]
    severity: ClassVar[str]
    needs: ClassVar[tuple[str, ...]]  # e.g. ("loss",), ("layers.dead_frac",), ("train_acc|val_loss",): any of
    thresholds: ClassVar[dict[str, float]] = {}
    advice: ClassVar[str]
    supersedes: ClassVar[tuple[str, ...]] = ()
    explains: ClassVar[tuple[str, ...]] = ()
    remedies: ClassVar[tuple[Remedy, ...]] = ()
    provisional: ClassVar[bool] = False
    # A symptom (not-learning: accuracy at chance) is what many causes lead to, and the accuracy
    # often shows it before the cause's own evidence is in (a flat loss needs its windows): a
    # rule that explains a symptom is its cause whenever the two are found, not only when the
    # cause started first.
    symptom: ClassVar[bool] = False
    # What the finding says of the learning rate, when a rate change produced it: "high" (a rate
    # too high: divergence, instability, updates too large) or "low" (learning too little).
    # The fix chain uses it to tell a cut that went too far from one that did not go far enough.
    lr_symptom: ClassVar[str | None] = None
    # The hidden activations the rule is about (empty: any). With a log that names another one,
    # a rule that saw none of its fields is not applicable, rather than "not checked".
    activations: ClassVar[tuple[str, ...]] = ()
    facts: Any  # a RunFacts, shared by the engine's rules
    # False once the rule's on_step has nothing left to do: the engine then stops calling it
    # (checked once per loss window; a call per record costs ~130 ns on a million-line log).
    wants_steps: bool = True

    def __init__(self, **overrides: float) -> None:
        """Thresholds are the class defaults, updated by `overrides` (unknown names rejected)."""
        unknown = set(overrides) - set(self.thresholds)
        if unknown:
            raise KeyError(f"rule {self.id} has no threshold {', '.join(sorted(unknown))}; "
                           f"it has {', '.join(sorted(self.thresholds)) or 'none'}")
        for name, value in overrides.items():
            # Every threshold is a count, a ratio or a level: NaN would silently switch the
            # rule off (every comparison false), and a negative one means nothing.
            if not (math.isfinite(value) and value >= 0):
                raise KeyError(f"{self.id}.{name} must be a finite number >= 0, got {value}")
        self.t: dict[str, float] = {**self.thresholds, **overrides}
        self.finding: Finding | None = None

    def report(self, step: int, message: str, **evidence: Any) -> Finding:
        """Record (once) and return this rule's finding; later calls extend its step range."""
        if self.finding is None:
            # messages and evidence quote names from the log: never raw control characters
            self.finding = Finding(self.id, self.severity, step, visible(message), self.advice,
                                   visible_all(evidence), end_step=step)
        else:
            self.finding.end_step = step
        return self.finding

    @property
    def fired(self) -> bool:
        """True once the rule has a finding."""
        return self.finding is not None

    # Hooks; the engine only calls the ones a subclass overrides.
    def on_header(self, header: Header) -> Finding | None:
        """The run's header, normalized."""
        return None

    def on_first_step(self, record: Record) -> Finding | None:
        """The first step record of the stream."""
        return None

    def on_step(self, record: Record) -> Finding | None:
        """Every step record (keep this cheap: it runs once per iteration)."""
        return None

    def on_nonfinite(self, event: tuple[Record, str, float]) -> Finding | None:
        """(record, field, value) for a record whose loss, data_loss or val_loss is not finite."""
        return None

    def on_window(self, window: Window) -> Finding | None:
        """Every closed window of the loss."""
        return None

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Per-layer statistics of a step record, cleaned (see LayerSample)."""
        return None

    def on_epoch(self, evaluation: Evaluation) -> Finding | None:
        """Records with any of train_acc, val_acc, val_loss."""
        return None

    def finish(self) -> Finding | None:
        """The stream ended."""
        return None
