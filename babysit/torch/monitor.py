"""babysit for PyTorch: one object that watches a model train and feeds babysit's engine.

    monitor = Monitor(model, optimizer, log="run.jsonl", num_classes=10)
    ... loss.backward(); optimizer.step(); monitor.step(loss)
    monitor.epoch(train_acc=..., val_acc=..., val_loss=...)
    monitor.close()

It writes babysit's own log format (docs/log-format.md) and runs the rules in-process, so
findings appear while training runs (`monitor.findings`, `on_finding`, `should_stop`) and
`babysit watch run.jsonl` shows the dashboard. Cost: on most steps it keeps the loss as a
detached tensor and, for the NaN origin, one on-device finiteness flag per layer; nothing is
copied to the host. Every `every` steps it computes the per-layer statistics on the device
and copies them and the pending losses to the host at once. Weights are copied (or sketched)
only before a sampled step's update. An internal error is reported once and switches the
monitor off; training goes on.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from babysit.diagnostics.engine import Engine
from babysit.diagnostics.rule import Finding
from babysit.diagnostics.sink import DiagnosticsSink, stops
from babysit.torch.layers import Watched, as_float, find_layers
from babysit.torch.records import header_record
from babysit.torch.stats import Before, layer_stats, sketch_index
from babysit.training.sinks import JsonlSink, Sink


class TrainingStopped(RuntimeError):
    """Raised by Monitor.step when `raise_on_stop` is set and a finding reaches `stop_on`."""


class Monitor:
    """Watches a PyTorch model and optimizer; see the module docstring for the loop."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None,
                 log: str | Path | None = None, num_classes: int | None = None, *,
                 every: int = 10, hist_every: int | None = None, layers: list[str] | None = None,
                 activation: str = "relu", loss_fn: str = "softmax",
                 stop_on: str | None = "error", raise_on_stop: bool = False,
                 on_finding: Callable[[dict[str, Any]], None] | None = None,
                 overwrite: bool = False, nan_origin: bool = True,
                 watched: list[Watched] | None = None) -> None:
        """Install the hooks, open the log and write its header (`watched`: the layers, for
        integrations whose layers are not torch's Linear/Conv modules)."""
        if stop_on not in (None, "error", "warning", "info"):
            raise ValueError(f"stop_on must be 'error', 'warning', 'info' or None, got {stop_on!r}")
        self.model, self.optimizer = model, optimizer
        self.layers: list[Watched] = watched if watched is not None else \
            find_layers(model, layers, activation)
        self.every = max(1, int(every))
        # Histograms cost as much as the other statistics together (a bincount per layer):
        # every fifth sample is plenty for the depth figure and the dashboard.
        self.hist_every = max(1, int(hist_every or 5 * self.every))
        self.stop_on, self.raise_on_stop, self.on_finding = stop_on, raise_on_stop, on_finding
        self.nan_origin_enabled = nan_origin
        self.should_stop = False
        self.nan_origin: str | None = None  # where the first non-finite value appeared
        self.enabled = True
        self.capturing = True  # integrations pause it while the trainer evaluates
        self.step_index = self.epoch_index = 0
        self._sampling = True  # step 0 is sampled: the state at initialization
        self._outputs: dict[str, torch.Tensor] = {}
        self._flags: dict[str, torch.Tensor] = {}
        self._grads: dict[str, torch.Tensor] | None = None
        self._grad_flags: dict[str, torch.Tensor] | None = None  # this step's, for the NaN origin
        self._prev_grad_flags: dict[str, torch.Tensor] | None = None  # the step before's
        self._before: dict[str, Before] = {}
        self._pending: list[tuple[dict[str, Any], dict[str, Any] | None, dict[str, torch.Tensor],
                                  dict[str, torch.Tensor] | None]] = []
        self._losses: list[torch.Tensor | None] = []
        self._stop_message: str | None = None
        self._diverged = False
        self._closed = False
        self._start = time.perf_counter()
        self._generator = torch.Generator().manual_seed(0)
        self._sketch: dict[str, torch.Tensor | None] = {}  # fixed coordinates per large tensor
        self._doctor = DiagnosticsSink(Engine(), listeners=[self._heard])
        self.sinks: list[Sink] = [self._doctor]
        if log is not None:
            self.sinks.insert(0, JsonlSink(Path(log), overwrite=overwrite))
        self._handles = self._install()
        self._emit(header_record(model, optimizer, self.layers, num_classes=num_classes,
                                 activation=activation, loss_fn=loss_fn, every=self.every))

    # --- hooks ---------------------------------------------------------------------------
    def _install(self) -> list[Any]:
        handles = []
        for layer in self.layers:
            handles.append(layer.module.register_forward_hook(self._layer_hook(layer)))
            if layer.act_module is not None and layer.activation is not None:
                handles.append(layer.act_module.register_forward_hook(self._act_hook(layer)))
        if self.optimizer is not None:
            handles.append(self.optimizer.register_step_pre_hook(self._before_update))
        return handles

    def _layer_hook(self, layer: Watched) -> Callable[..., None]:
        def hook(module: torch.nn.Module, _: Any, output: Any) -> None:
            if not (self.enabled and self.capturing and module.training
                    and isinstance(output, torch.Tensor)):
                return
            try:
                if self.nan_origin_enabled and layer.name not in self._flags:
                    # a sum is one read of the output; NaN and inf survive it
                    self._flags[layer.name] = output.detach().sum()
                if self._sampling and layer.act_module is None and layer.name not in self._outputs:
                    self._outputs[layer.name] = output.detach()
            except Exception as exc:  # never break the user's forward pass
                self._fail(exc)
        return hook

    def _act_hook(self, layer: Watched) -> Callable[..., None]:
        def hook(module: torch.nn.Module, _: Any, output: Any) -> None:
            if self.enabled and self.capturing and self._sampling and module.training and \
                    isinstance(output, torch.Tensor) and layer.name not in self._outputs:
                self._outputs[layer.name] = output.detach()
        return hook

    def _before_update(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        """Optimizer pre-hook: keep the weights of a sampled step for its update ratio."""
        self.snapshot_weights()

    def snapshot_weights(self) -> None:
        """Keep the weights before a sampled step's update (for trainers whose optimizer is
        not a torch one, call it before the update)."""
        if not (self.enabled and self._sampling):
            return
        try:
            if not self._sketch:
                self._sketch = {w.name: sketch_index(w.weight, self._generator) for w in self.layers}
            self._before = {w.name: Before(w.weight, self._sketch[w.name]) for w in self.layers}
        except Exception as exc:
            self._fail(exc)

    def capture_gradients(self) -> None:
        """Read the gradients now (for trainers that clear them before `step` is called)."""
        flags = self.nan_origin_enabled and self.nan_origin is None and self._grad_flags is None
        norms = self._sampling and self._grads is None
        if not (self.enabled and (flags or norms)):  # called every step: nothing to do is common
            return
        try:
            present = [w for w in self.layers if w.weight.grad is not None]
            if flags:
                # One on-device sum per layer (NaN and inf survive it), read only if a later
                # loss is non-finite: a gradient that goes non-finite while the loss is still
                # finite poisons the weights, and only the next step's loss shows it. Whole
                # gradients: 0.04 ms of an 11.6 ms MLP step; a coordinate sample was no cheaper.
                self._grad_flags = {w.name: w.weight.grad.detach().sum(dtype=torch.float32)  # type: ignore[union-attr]
                                    for w in present}
            if norms:
                sizes = torch._foreach_norm([w.weight.grad.detach() for w in present])  # type: ignore[union-attr]
                self._grads = {w.name: n for w, n in zip(present, sizes, strict=True)}
        except Exception as exc:
            self._fail(exc)

    # --- the training loop's calls ----------------------------------------------------------
    def step(self, loss: torch.Tensor | float | None) -> None:
        """Record one optimizer step (call it after optimizer.step()); `loss` None when the
        trainer does not hand it over (its logged loss then comes through `log`)."""
        if self.enabled:
            try:
                self._step(loss)
            except Exception as exc:
                self._fail(exc)
        if self._stop_message is not None and self.raise_on_stop:
            message, self._stop_message = self._stop_message, None
            raise TrainingStopped(message)

    def _step(self, loss: torch.Tensor | float | None) -> None:
        s = self.step_index
        value = None if loss is None else loss.detach().reshape(()) \
            if isinstance(loss, torch.Tensor) else torch.tensor(float(loss))
        layers = None
        self.capture_gradients()
        if self._sampling:
            layers = layer_stats(self.layers, self._outputs, self._grads or {}, self._before,
                                 hist=s % self.hist_every == 0)
        lr = self.optimizer.param_groups[0].get("lr") if self.optimizer is not None else None
        rec: dict[str, Any] = {"type": "step", "step": s, "epoch": self.epoch_index}
        if isinstance(lr, (int, float)):
            rec["lr"] = float(lr)
        self._losses.append(value)
        self._pending.append((rec, layers, self._flags, self._grad_flags))
        self._outputs, self._flags, self._grads, self._before = {}, {}, None, {}
        self._grad_flags = None
        self.step_index = s + 1
        self._sampling = self.step_index % self.every == 0
        if len(self._pending) >= self.every:
            self._flush()

    def log(self, **metrics: Any) -> None:
        """Record metrics another tool computed for the last step (a Hugging Face Trainer's
        loss, averaged over its logging interval) as a step record of their own."""
        if metrics:
            self._record("step", metrics)

    def epoch(self, **metrics: Any) -> None:
        """Record the end of an epoch: any of train_acc, val_acc, val_loss (numbers or tensors)."""
        if self._record("epoch", metrics):
            self.epoch_index += 1

    def _record(self, kind: str, metrics: dict[str, Any]) -> bool:
        """Emit a record of `kind` at the last step holding `metrics`; False if switched off."""
        if not self.enabled:
            return False
        try:
            self._flush()
            rec: dict[str, Any] = {"type": kind, "step": max(self.step_index - 1, 0),
                                   "epoch": self.epoch_index}
            rec.update({k: as_float(v) for k, v in metrics.items() if v is not None})
            self._emit(rec)
            return True
        except Exception as exc:
            self._fail(exc)
            return False

    def close(self, status: str | None = None) -> None:
        """Write what is pending and the summary, conclude the diagnosis, remove the hooks."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.enabled:
                self._flush()
                self._emit({"type": "summary",
                            "status": status or ("diverged" if self._diverged else "completed"),
                            "steps": self.step_index, "epochs": self.epoch_index,
                            "wall_time": round(time.perf_counter() - self._start, 3)})
        finally:
            self._remove_hooks()
            for sink in self.sinks:
                sink.close()

    def __enter__(self) -> Monitor:
        """`with Monitor(...) as monitor:` closes it at the end, interrupted or not."""
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        """Close with the status the block ended with."""
        status = None if kind is None else "interrupted" if issubclass(kind, KeyboardInterrupt) \
            else "stopped" if issubclass(kind, TrainingStopped) else "crashed"
        self.close(status)

    @property
    def findings(self) -> list[dict[str, Any]]:
        """The engine's findings so far, root cause first (as `babysit diagnose --json`)."""
        engine = self._doctor.report if self._doctor.report is not None else self._doctor.engine
        return [f.to_dict() for f in engine.findings]

    # --- internals ----------------------------------------------------------------------
    def _flush(self) -> None:
        """Copy the pending losses to the host in one transfer and emit their records."""
        if not self._pending:
            return
        given = [v for v in self._losses if v is not None]
        copied = iter(torch.stack(given).float().cpu().tolist() if given else [])
        values = [None if v is None else next(copied) for v in self._losses]
        pending, self._pending, self._losses = self._pending, [], []
        for (rec, layers, flags, grad_flags), value in zip(pending, values, strict=True):
            if value is not None:
                rec["loss"] = value
            if value is not None and (value != value or abs(value) == float("inf")):
                self._diverged = True
                if self.nan_origin is None:
                    self.nan_origin = self._origin(flags, self._prev_grad_flags, rec["step"])
                    rec["nan_origin"] = self.nan_origin
            self._prev_grad_flags = grad_flags
            if layers is not None:
                rec["layers"] = layers  # last: readers may cut it off unparsed
            self._emit(rec)

    def _origin(self, flags: dict[str, torch.Tensor], prev_grads: dict[str, torch.Tensor] | None,
                step: int) -> str:
        """Where a non-finite loss came from: a gradient that went non-finite on the step before
        (the layer nearest the output: backward reaches it first, and the layers below inherit
        it), else the first layer (in forward order) whose output was non-finite on this step,
        else non-finite weights, else the loss computation itself."""
        if prev_grads:
            finite = torch.isfinite(torch.stack(list(prev_grads.values()))).cpu().tolist()
            bad = [name for name, ok in zip(prev_grads, finite, strict=True) if not ok]
            if bad:
                return f"gradients of {bad[-1]} at step {step - 1} (the loss was still finite)"
        if flags:
            finite = torch.isfinite(torch.stack(list(flags.values()))).cpu().tolist()
            for name, ok in zip(flags, finite, strict=True):
                if not ok:
                    return f"activations of {name}"
        bad = [w.name for w in self.layers if not bool(torch.isfinite(w.weight.detach()).all())]
        if bad:
            return f"weights of {bad[0]}"
        return "the loss itself (every layer's output was finite)"

    def _emit(self, record: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.emit(record)

    def _heard(self, finding: Finding) -> None:
        """A new finding from the in-process engine: tell the user, stop if asked."""
        if self.on_finding is not None:
            try:
                self.on_finding(finding.to_dict())
            except Exception as exc:  # a user callback must not switch babysit off silently
                warnings.warn(f"babysit: on_finding raised {exc!r}", stacklevel=2)
        if self.stop_on and stops(finding, self.stop_on):
            self.should_stop = True
            if self._stop_message is None:
                self._stop_message = f"babysit: {finding.rule}: {finding.message}"

    def _fail(self, exc: BaseException) -> None:
        """Report an internal error once and switch the monitor off; training goes on."""
        if not self.enabled:
            return
        self.enabled = False
        self._remove_hooks()
        warnings.warn(f"babysit Monitor switched off after an internal error: {exc!r}",
                      RuntimeWarning, stacklevel=3)

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
