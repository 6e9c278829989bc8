"""plateau-then-drop: a long flat start, then a sudden fall (the "hockey stick")."""

from __future__ import annotations

from collections import deque

from babysit.diagnostics.records import Evaluation, Header
from babysit.diagnostics.remedy import BATCHNORM, InitForActivation
from babysit.diagnostics.rule import Finding, Record, Rule, Window

RECENT = 32  # records kept: the engine's last three windows of 10


class PlateauThenDrop(Rule):
    """The loss stays above (1 - `band`) x its starting level for a long plateau, then falls
    `drop` below that level within `max_drop_span` x the plateau's length. Long: `min_plateau`
    steps, or `plateau_epochs` epochs when that is shorter (but at least `min_steps` steps).

    Why: the lecture: "if your loss curves are stable at first and then suddenly start to
    decrease -> bad initialization". The net spends the plateau escaping a poor starting point
    (vanishing activations, saturated units). Healthy runs leave the band within tens of steps;
    a slow steady decline is not a hockey stick, so the fall must be quick compared with the
    plateau. The start level is the first window's average. A run's time scale is its epoch:
    on 18 steps per epoch, the lecture's deep tanh net at std 0.01 sits at log(10) for ten
    epochs (180 steps), far longer than any healthy start, yet under 200 steps. So when the
    log says how long an epoch is (the header's steps_per_epoch, or the steps between epoch
    ends), three epochs on the plateau are enough; `min_steps` (50) keeps tiny data sets,
    whose epochs are a few steps, from calling a normal start of a few dozen steps a plateau.
    Windows of 10 records are coarse on a sparse log (every 25 steps: 250 steps a window), so
    the plateau's end and the fall are timed on the records themselves: the plateau ends at
    its last record still in the band when every later record of that window is below it
    (else at the window before, as on a noisy per-step log), and the fall at the first record
    `drop` below the level (a hockey stick at step 380 logged every 25 steps was "a slow
    decline" of 250 steps). A plateau needs records on it after the first window, whose mean
    is the level itself: a first window that spans 450 steps of a sparse log is no evidence of
    a flat start; and two of them, not one noisy batch. A first window whose first loss is
    `drop` above its mean is no plateau either: it fell within the window as much as a hockey
    stick falls (MNIST logged every 50 steps: 1.08 -> 0.26 in its first window, a mean of 0.41,
    then one batch at 0.53 read as "stayed near 0.41 for 500 steps").
    """

    id = "plateau-then-drop"
    severity = "warning"
    needs = ("loss",)
    remedies = (InitForActivation("init scaled to the activation"), BATCHNORM)
    thresholds = {"band": 0.05, "min_plateau": 200, "drop": 0.3, "max_drop_span": 0.5,
                  "plateau_epochs": 3, "min_steps": 50}
    advice = ("Fix the initialization: Xavier (tanh) or He (ReLU) init scaled to each layer, or "
              "batch norm; initialize the output bias to the class prior for imbalanced data.")
    explains = ("underfitting",)
    supersedes = ("loss-flat", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Follows the first window's level until the loss leaves the band."""
        super().__init__(**overrides)
        self.level: float | None = None
        self.start_step = 0
        self.plateau_end = 0  # last step of the last window still on the plateau
        self.done = False
        self.steps_per_epoch: float | None = None
        self.last_epoch_end: int | None = None
        self.recent: deque[tuple[int, float]] = deque(maxlen=RECENT)  # (step, loss)
        self.refined = False
        self.evidenced = False  # records after the first window stayed on the plateau

    def on_header(self, header: Header) -> Finding | None:
        """The epoch's length, when babysit's header gives it."""
        if header.steps_per_epoch is not None:
            self.steps_per_epoch = float(header.steps_per_epoch)
        return None

    def on_epoch(self, ev: Evaluation) -> Finding | None:
        """The epoch's length from the steps between epoch ends, when no header gave it."""
        step = ev.step
        if self.last_epoch_end is not None and step > self.last_epoch_end and self.steps_per_epoch is None:
            self.steps_per_epoch = float(step - self.last_epoch_end)
        self.last_epoch_end = step
        return None

    @property
    def wants_steps(self) -> bool:  # type: ignore[override]
        """Records are kept only until the plateau is judged."""
        return not self.done

    def on_step(self, record: Record) -> Finding | None:
        """Keep the last records' losses: a sparse log's window is too coarse to time a fall."""
        loss = record.get("loss")
        if loss.__class__ is float:
            self.recent.append((record["step"], loss))
        return None

    def _long(self, plateau: int) -> bool:
        needed = self.t["min_plateau"]
        if self.steps_per_epoch is not None:
            needed = min(needed, max(self.t["min_steps"], self.t["plateau_epochs"] * self.steps_per_epoch))
        return plateau >= needed

    def on_window(self, window: Window) -> Finding | None:
        """Extend the plateau, or time the fall once the loss has left it."""
        if self.done:
            return None
        if self.level is None:
            self.level, self.start_step, self.plateau_end = (window.mean, window.first_step,
                                                             window.last_step)
            # a first window that starts `drop` above its own mean is already falling
            self.done = self.level <= 0 or window.first - self.level > self.t["drop"] * self.level
            return None
        fall = (self.level - window.mean) / self.level
        if fall < self.t["band"]:
            self.plateau_end = window.last_step  # rises count as plateau: explosion is elsewhere
            self.evidenced = True
            return None
        if not self.refined:  # the window that left the band: where in it did the plateau end?
            self.refined = True
            inside = [step for step, loss in self.recent
                      if self.plateau_end < step <= window.last_step
                      and loss >= (1 - self.t["band"]) * self.level]
            leaving = [step for step, loss in self.recent if self.plateau_end < step <= window.last_step
                       and loss < (1 - self.t["band"]) * self.level]
            if len(inside) >= 2 and leaving and max(inside) < min(leaving):
                self.plateau_end = max(inside)  # every record before the fall still on it
                self.evidenced = True
        if not self.evidenced:  # only the first window, whose own mean is the level: no plateau
            self.done = True
            return None
        plateau = self.plateau_end - self.start_step
        fallen = [step for step, loss in self.recent
                  if step > self.plateau_end and loss <= (1 - self.t["drop"]) * self.level]
        span = (min(fallen) if fallen and fall >= self.t["drop"] else window.last_step) - self.plateau_end
        if not self._long(plateau) or span > self.t["max_drop_span"] * plateau:
            self.done = True  # a normal start, or a slow decline
            return None
        if fall >= self.t["drop"]:
            self.done = True
            return self.report(self.plateau_end, f"loss stayed near {self.level:.4g} for "
                               f"{plateau} steps, then fell {100 * fall:.0f}% in {span} steps",
                               plateau_steps=plateau, level=self.level, drop=fall,
                               drop_steps=span)
        return None
