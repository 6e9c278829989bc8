"""babysit for PyTorch: one object that watches a model train and feeds babysit's engine.

    monitor = Monitor(model, optimizer, num_classes=10)   # log: runs/<date>-<time>.jsonl
    ... loss.backward(); optimizer.step(); monitor.step(loss)
    monitor.epoch(train_acc=..., val_acc=..., val_loss=...)
    monitor.close()

It writes babysit's own log format (docs/log-format.md) and runs the rules in-process, so
findings appear while training runs (printed as one line each unless verbose=False;
`monitor.findings`, `on_finding`, `should_stop`), close() prints what the run comes to, and
`babysit watch LOG` shows the dashboard. Cost: on most steps it keeps the loss as a
detached tensor and, for the NaN origin, one on-device finiteness flag per layer; nothing is
copied to the host. Every `every` steps (the sampled steps) it computes the per-layer
statistics on the device and copies them and the pending numbers to the host at once. Weights
are copied (or sketched) only before a sampled step's update. Under torch.distributed only
rank 0 writes the log and runs the rules; on sampled steps the ranks exchange what only each
can see (babysit/torch/ranks.py). An internal error is reported once and switches the
monitor off; training goes on.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from babysit.config import MAX_CLASSES
from babysit.dashboard.plain import FindingPrinter, closing_line
from babysit.diagnostics.engine import Engine, Report
from babysit.diagnostics.rule import Finding
from babysit.diagnostics.sink import DiagnosticsSink, stops
from babysit.notebook import in_notebook
from babysit.torch import exit as exit_watch
from babysit.torch.layers import MAX_LAYERS, Watched, find_layers, spread
from babysit.torch.mode_watch import ModeWatch
from babysit.torch.optim_watch import OptimizerWatch, group_lrs
from babysit.torch.pending import Pending
from babysit.torch.ranks import RankSync, distributed_group, unwrap
from babysit.torch.records import first_layer_weights, header_record, tensor_input_stats
from babysit.torch.stats import Before, dense_values, layer_stats, sketch_index
from babysit.torch.values import loss_tensor, metric_value, short_error
from babysit.training.sinks import JsonlSink, Sink, new_run_id, open_new_log, open_numbered


def _no_hook(*_: Any) -> None:
    """What a Monitor's hook becomes in a pickled or copied model: nothing."""


def _unwatched() -> Callable[..., None]:
    return _no_hook


class _Hook:
    """A forward hook bound to a Monitor. Pickled or deep-copied along with its module it
    becomes a no-op: `torch.save(model)` works while a Monitor is attached, and a copy of the
    model (an EMA model, a sanity check's) is not watched."""

    def __init__(self, fn: Callable[[torch.nn.Module, Any, Any], None]) -> None:
        self.fn = fn

    def __call__(self, module: torch.nn.Module, inputs: Any, output: Any) -> None:
        self.fn(module, inputs, output)

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_unwatched, ())


class TrainingStopped(RuntimeError):
    """Raised by Monitor.step when `raise_on_stop` is set and a finding reaches `stop_on`."""


class Monitor:
    """Watches a PyTorch model and optimizer; see the module docstring for the loop."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None,
                 log: str | Path | bool | None = None, num_classes: int | None = None, *,
                 every: int = 10, hist_every: int | None = None, layers: list[str] | None = None,
                 activation: str = "relu", loss_fn: str = "softmax",
                 stop_on: str | None = "error", raise_on_stop: bool = False,
                 on_finding: Callable[[dict[str, Any]], None] | None = None,
                 overwrite: bool = False, append: bool = False, nan_origin: bool = True,
                 scaler: Any = None, clip_norm: float | None = None, process_group: Any = None,
                 max_layers: int | None = MAX_LAYERS, verbose: bool = True,
                 total_steps: int | None = None, live: bool | None = None,
                 inputs: Any = None, framework: str = "torch", task: str | None = None,
                 pretrained: bool | None = None, batch_size: int | None = None,
                 log_every: int | None = None, val_size: int | None = None,
                 watched: list[Watched] | None = None) -> None:
        """Install the hooks, open the log and write its header (`log`: a path, None for
        runs/<date>-<time>.jsonl, False for none; an existing log is kept, and this run logs
        beside it to <name>-2.jsonl, -3 ... (said on start), unless `overwrite` (replace it)
        or `append` (add this run after it: diagnose reads each run on its own);
        `verbose`: print each finding as it appears, and a closing line; `total_steps`: the
        optimizer steps planned, for the dashboard's ETA; `live`: a notebook cell that updates
        in place, default on in Jupyter (it shows the findings instead of a line each);
        `inputs`: a batch (or the dataset) of the model's inputs, whose statistics go in the
        header so that off-center inputs are found; `framework`: whose terms advice uses
        (the callbacks pass lightning, transformers, keras); `task`: "classification",
        "sequence" (a language, translation or speech model: its loss gives no class count) or
        "regression"; `pretrained`: True for a fine-tune (its first loss is not the loss at
        initialization, so loss-at-init does not judge it); `batch_size`: examples per optimizer
        step and `log_every`: how many steps each recorded loss averages (1 for step(loss); the
        Hugging Face callback's is logging_steps), so that a loss jump a few hard examples
        explain is not read as instability; `val_size`: the validation examples behind val_acc,
        so that an accuracy within noise of chance is told from one that learned (without it
        the band is 2 points); `scaler`: the AMP GradScaler;
        `clip_norm`: the max_norm given to clip_grad_norm_; `process_group`: the DDP group when
        not the default one; `max_layers`: past this many layers, watch this many spread evenly
        through depth (first and last always; None: all); `watched`: the layers, for
        integrations whose layers are not torch's Linear/Conv modules)."""
        if overwrite and append:
            raise ValueError("pass overwrite=True or append=True, not both")
        if task not in (None, "classification", "sequence", "regression"):
            raise ValueError(f"task must be 'classification', 'sequence', 'regression' or None, "
                             f"got {task!r}")
        whole = isinstance(num_classes, int) and not isinstance(num_classes, bool)
        if num_classes is not None and not (whole and 2 <= num_classes <= MAX_CLASSES):
            raise ValueError(f"num_classes must be a whole number from 2 to {MAX_CLASSES:,} or None, "
                             f"got {num_classes!r}")
        if val_size is not None and not (isinstance(val_size, int) and not isinstance(val_size, bool)
                                         and val_size > 0):
            raise ValueError(f"val_size must be a positive whole number or None, got {val_size!r}")
        if stop_on not in (None, "error", "warning", "info"):
            raise ValueError(f"stop_on must be 'error', 'warning', 'info' or None, got {stop_on!r}")
        # Before anything is opened or hooked: bad inputs must leave nothing behind.
        stats = tensor_input_stats(inputs) if inputs is not None else None
        model = unwrap(model)  # DDP's wrapper: layers are named as in the user's module
        self.model, self.optimizer = model, optimizer
        found = watched if watched is not None else find_layers(model, layers, activation)
        # Statistics are for real floating weights: a complex or quantized layer is not
        # watched (said in the header), the rest of the model still is.
        self.unmeasured = {w.name: f"{w.weight.dtype} weights" for w in found
                           if not w.weight.is_floating_point()}
        found = [w for w in found if w.name not in self.unmeasured]
        self.layers: list[Watched] = found if layers is not None else spread(found, max_layers)
        self.every = max(1, int(every))
        # Histograms cost as much as the other statistics together (a scatter per layer):
        # every fifth sample is plenty for the depth figure and the dashboard.
        self.hist_every = max(1, int(hist_every or 5 * self.every))
        self.stop_on, self.raise_on_stop, self.on_finding = stop_on, raise_on_stop, on_finding
        self.num_classes = num_classes
        self.nan_origin_enabled = nan_origin
        self.should_stop = False
        self.enabled = True
        self._warned: set[str] = set()  # bad values already warned about
        self._failure: str | None = None  # the internal error that switched the monitor off
        self.capturing = True  # integrations pause it while the trainer evaluates
        self.step_index = self.epoch_index = 0
        group = distributed_group(process_group)
        self.ranks = RankSync(group, model, [w.name for w in self.layers]) if group is not None else None
        self.lead = self.ranks is None or self.ranks.rank == 0  # the rank that logs and diagnoses
        self._sampling = True  # step 0 is sampled: the state at initialization
        self._outputs: dict[str, torch.Tensor] = {}
        self._flags: dict[str, torch.Tensor] = {}
        self._grads: dict[str, torch.Tensor] | None = None
        self._grad_flags: dict[str, torch.Tensor] | None = None  # this step's, for the NaN origin
        self._grad_total: torch.Tensor | None = None  # the total norm before clipping, if told
        self._clipped_bit: torch.Tensor | None = None  # whether clipping bit, if told
        self._before: dict[str, Before] = {}
        self._pending = Pending(self.layers)  # records waiting for their numbers
        self._stop_wanted: str | None = None  # rank 0's stop, waiting for the next exchange
        self._stop_message: str | None = None
        self._closed = False
        self._start = time.perf_counter()
        self._generator = torch.Generator().manual_seed(0)
        self._sketch: dict[str, torch.Tensor | None] = {}  # fixed coordinates per large tensor
        self._printer: FindingPrinter | None = FindingPrinter(sys.stderr, prefix="babysit: ")
        self._doctor = DiagnosticsSink(Engine(), listeners=[self._heard])
        self.sinks: list[Sink] = [self._doctor] if self.lead else []
        self.verbose = verbose and self.lead
        self.log_path: Path | None = None
        self.in_cell = self.lead and (live if live is not None else in_notebook())
        moved = ""  # where a rerun's log went, said once
        if log is not False and self.lead:
            if log is None or log is True:
                sink = open_new_log(new_run_id())
            elif overwrite or append:
                sink = JsonlSink(Path(log), overwrite=overwrite, append=append)
            else:  # a script run again keeps the earlier run's log and says where this one goes
                sink = open_numbered(Path(log))
                if sink.path != Path(log):
                    moved = (f"{log} holds an earlier run; this run logs to {sink.path} "
                             "(overwrite=True replaces it, append=True adds to it)")
            self.log_path = sink.path
            self.sinks.insert(0, sink)
        if self.in_cell:
            from babysit.notebook import LiveCell

            self.sinks.append(LiveCell(self.report, f"babysit: {type(model).__name__}", moved))
            self._printer = None  # the cell shows each finding as it appears
        elif moved and verbose:
            print(f"babysit: {moved}", file=sys.stderr, flush=True)
        self.optim = OptimizerWatch(optimizer, scaler, clip_norm)
        self._handles = self._install()
        self.modes = ModeWatch(model)  # evaluations run with dropout / batch norm in train mode
        exit_watch.watch(self)  # the summary is written at exit or on SIGTERM if close() is not
        self._emit(header_record(model, optimizer, self.layers, num_classes=num_classes,
                                 activation=activation, loss_fn=loss_fn, every=self.every,
                                 world_size=self.ranks.world if self.ranks else 1,
                                 layers_total=len(found),
                                 amp=self.optim.amp, clip_norm=self.optim.clip_norm,
                                 total_steps=total_steps, input_stats=stats,
                                 framework=framework,
                                 facts={"task": task, "pretrained": pretrained,
                                        "batch_size": batch_size, "log_every": log_every,
                                        **({"dataset": {"X_val": [val_size]}} if val_size else {})},
                                 unmeasured=self.unmeasured))

    # --- hooks ---------------------------------------------------------------------------
    def _install(self) -> list[Any]:
        handles = []
        for layer in self.layers:
            handles.append(layer.module.register_forward_hook(_Hook(self._layer_hook(layer))))
            if layer.act_module is not None and layer.activation is not None:
                handles.append(layer.act_module.register_forward_hook(_Hook(self._act_hook(layer))))
        if self.optimizer is not None:
            handles.append(self.optimizer.register_step_pre_hook(self._before_update))
        return handles

    @property
    def _collecting(self) -> bool:
        """Whether this step's layer statistics are taken (a sampled step, on the logging rank)."""
        return self._sampling and self.lead

    def _layer_hook(self, layer: Watched) -> Callable[..., None]:
        def hook(module: torch.nn.Module, _: Any, output: Any) -> None:
            # Only the training forward counts: not a forward without gradients (a training-
            # accuracy pass left in train mode), nor a copy of the model sharing these hooks.
            if not (self.enabled and self.capturing and module.training and module is layer.module
                    and torch.is_grad_enabled() and isinstance(output, torch.Tensor)):
                return
            try:
                if self.nan_origin_enabled and self.lead and layer.name not in self._flags:
                    # a sum is one read of the output; NaN and inf survive it
                    self._flags[layer.name] = output.detach().sum()
                if self._collecting and layer.act_module is None and layer.name not in self._outputs:
                    self._outputs[layer.name] = output.detach()
            except Exception as exc:  # never break the user's forward pass
                self._fail(exc)
        return hook

    def _act_hook(self, layer: Watched) -> Callable[..., None]:
        def hook(module: torch.nn.Module, _: Any, output: Any) -> None:
            if self.enabled and self.capturing and self._collecting and module.training and \
                    module is layer.act_module and torch.is_grad_enabled() and \
                    isinstance(output, torch.Tensor) and layer.name not in self._outputs:
                self._outputs[layer.name] = output.detach()
        return hook

    def _before_update(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        """Optimizer pre-hook: keep the weights of a sampled step for its update ratio."""
        self.snapshot_weights()

    def snapshot_weights(self) -> None:
        """Keep the weights before a sampled step's update (for trainers whose optimizer is
        not a torch one, call it before the update)."""
        if not (self.enabled and self._collecting):
            return
        try:
            if not self._sketch:
                self._sketch = {w.name: sketch_index(w.weight, self._generator) for w in self.layers}
            self._before = {w.name: Before(w.weight, self._sketch[w.name]) for w in self.layers}
        except Exception as exc:
            self._fail(exc)

    def capture_gradients(self, total_norm: torch.Tensor | None = None,
                          clipped: torch.Tensor | None = None) -> None:
        """Read the gradients now (for trainers that clear them before `step` is called);
        `total_norm`: the global gradient norm before clipping, when the trainer clips;
        `clipped`: whether clipping bit, when only the clipped gradients can be seen."""
        if total_norm is not None:
            self._grad_total = total_norm
        if clipped is not None:
            self._clipped_bit = clipped
        flags = self._grad_flags is None and self.nan_origin_enabled and \
            (self.nan_origin is None or self.ranks is not None)
        norms = self._collecting and self._grads is None
        if not (self.enabled and (flags or norms)):  # called every step: nothing to do is common
            return
        try:
            present = [w for w in self.layers if w.weight.grad is not None]
            if not present:  # before the first backward, or every watched layer frozen
                return
            # One on-device norm per layer (one fused kernel on a GPU): the sampled steps'
            # gradient norms, and on every step the NaN-origin flags (NaN and inf survive a
            # norm), read only if a later loss is non-finite: a gradient that goes non-finite
            # while the loss is still finite poisons the weights, and only the next step's loss
            # shows it. Whole gradients: 0.04 ms of an 11.6 ms CPU MLP step; a coordinate sample
            # was no cheaper.
            sizes = torch._foreach_norm([dense_values(w.weight.grad) for w in present])  # type: ignore[arg-type]
            by_layer = {w.name: n for w, n in zip(present, sizes, strict=True)}
            if flags:
                self._grad_flags = by_layer
            if norms:
                self._grads = by_layer
        except Exception as exc:
            self._fail(exc)

    # --- the training loop's calls ----------------------------------------------------------
    def step(self, loss: torch.Tensor | float | None, grad_norm: torch.Tensor | float | None = None) -> None:
        """Record one optimizer step (call it after optimizer.step()); `loss` None when the
        trainer does not hand it over (its logged loss then comes through `log`); `grad_norm`
        the total norm clip_grad_norm_ returned (before clipping), when clipping."""
        if self.enabled:
            try:
                self._step(loss, grad_norm)
            except Exception as exc:
                self._fail(exc)
        if self._stop_message is not None and self.raise_on_stop:
            message, self._stop_message = self._stop_message, None
            raise TrainingStopped(message)

    def _step(self, loss: torch.Tensor | float | None, grad_norm: Any) -> None:
        s = self.step_index
        self.modes.training_step()
        value, bad = loss_tensor(loss)
        self.capture_gradients()
        skipped = self.optim.step_skipped()
        if skipped:  # the scaler found inf gradients and did not update: nothing to measure
            self._grads, self._grad_flags, self._before = None, None, {}
        total = self.optim.note_norm(grad_norm if grad_norm is not None else self._grad_total,
                                     self._clipped_bit)
        rec: dict[str, Any] = {"type": "step", "step": s, "epoch": self.epoch_index,
                               "time": round(time.perf_counter() - self._start, 6)}
        layers = None
        lrs = group_lrs(self.optimizer)
        if lrs:
            rec["lr"] = lrs[0]
            if len(set(lrs)) > 1:
                rec["lr_groups"] = lrs
        if skipped:
            rec["skipped"] = True
        if not self.model.training:  # model.eval() for validation, and no model.train() after
            rec["eval_mode"] = True
        if bad is not None:  # that value is lost, not the run
            rec["note"] = f"step(): {bad}; no loss logged for this step"
            self._warn_once(bad)
        tensors: dict[str, torch.Tensor] = {} if value is None else {"loss": value}
        if self._collecting:
            scale = self.optim.scale()
            if scale is not None:
                rec["amp_scale"] = scale
                rec["amp_skipped"] = self.optim.skipped
            if total is not None:
                tensors["grad_norm_total"] = total
            if self.optim.clipped is not None:
                tensors["clipped_steps"] = self.optim.clipped
            layers = self._layer_stats(rec, hist=s % self.hist_every == 0)
        if self.ranks is not None:
            self.ranks.keep(s, value, self._grad_flags)
        if self.lead:
            self._pending.add(rec, tensors, self._flags, self._grad_flags)
        if self._sampling:
            if self.ranks is not None:
                self._exchange(rec)
            if self.lead:
                rec["layers"] = layers  # last: readers may cut it off unparsed
        self._outputs, self._flags, self._grads, self._before = {}, {}, None, {}
        self._grad_flags, self._grad_total, self._clipped_bit = None, None, None
        self.step_index = s + 1
        sampled, self._sampling = self._sampling, self.step_index % self.every == 0
        if sampled:  # the host copy of the statistics was made anyway: the numbers come along
            self._flush()

    def _layer_stats(self, rec: dict[str, Any], hist: bool) -> dict[str, dict[str, Any]]:
        """The sampled step's layer statistics. A layer whose statistics raise (a dtype or
        layout torch cannot reduce) costs its own statistics, said in the record's note and
        in the header's list from then on, never the other layers' or the run's."""
        watched = [w for w in self.layers if w.name not in self.unmeasured]
        args = (self._outputs, self._grads or {}, self._before)
        try:
            return layer_stats(watched, *args, hist=hist)
        except Exception:  # find which layer: the statistics are one stack for all layers
            out: dict[str, dict[str, Any]] = {}
            for layer in watched:
                try:
                    out.update(layer_stats([layer], *args, hist=hist))
                except Exception as exc:
                    self.unmeasured[layer.name] = short_error(exc)
                    note = f"layer {layer.name} not measured from here: {short_error(exc)}"
                    rec["note"] = f"{rec['note']}; {note}" if "note" in rec else note
                    self._warn_once(note)
            return out

    def _exchange(self, rec: dict[str, Any]) -> None:
        """The sampled step's collective: rank faults into `rec`, rank 0's stop to every rank."""
        assert self.ranks is not None
        try:
            got = self.ranks.exchange(self._stop_wanted is not None)
        except Exception as exc:  # a rank died or the group broke: rank 0 goes on alone
            warnings.warn(f"babysit: the exchange between ranks failed ({exc!r}); "
                          "rank 0 goes on logging what it sees", RuntimeWarning, stacklevel=4)
            self.ranks = None
            if self._stop_wanted is not None:  # alone now: stop as a single process would
                self.should_stop, self._stop_message = True, self._stop_wanted
            return
        ranks = got.record(self.ranks.world)
        if ranks is not None:
            rec["ranks"] = ranks
        if got.loss_nonfinite and self._pending.rank_origin is None:
            first = got.loss_nonfinite[0]
            self._pending.rank_origin = (first["step"], f"the loss on rank {first['rank']} at step "
                                 f"{first['step']} (rank 0's loss was finite)")
        if got.stop and not self.should_stop:
            self.should_stop = True
            if self._stop_message is None:
                self._stop_message = self._stop_wanted or \
                    "babysit: rank 0 found a problem at the stop_on severity (see its log)"

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
            notes = []
            for key, raw in metrics.items():
                value, bad = (None, None) if raw is None else metric_value(raw)
                if value is not None:
                    rec[key] = value
                elif bad is not None:  # that metric is lost, not the record or the run
                    notes.append(f"{key}: {bad}")
                    self._warn_once(f"{kind}({key}=...): {bad}")
            if notes:
                rec["note"] = f"{kind}(): " + "; ".join(notes) + " (not logged)"
            if any(key.startswith(("val", "eval")) for key in metrics):
                train_mode = self.modes.take()  # the evaluation behind these metrics
                if train_mode:
                    rec["eval_train_mode"] = train_mode
            self._emit(rec)
            return True
        except Exception as exc:
            self._fail(exc)
            return False

    def close(self, status: str | None = None) -> None:
        """Write what is pending and the summary, conclude the diagnosis, remove the hooks
        (no collective: a rank that died must not keep rank 0 from writing its summary)."""
        if self._closed:
            return
        self._closed = True
        exit_watch.forget(self)
        try:
            if self.enabled:
                self._flush()
            summary = {"type": "summary",
                       "status": status or ("diverged" if self._pending.diverged else "completed"),
                       "steps": self.step_index, "epochs": self.epoch_index,
                       "wall_time": round(time.perf_counter() - self._start, 3)}
            if self._failure is not None:  # the log says why it has no statistics past a point
                summary["monitor_error"] = self._failure
            first = first_layer_weights(self.layers[0].module) if self.layers and self.enabled else None
            if first is not None:
                summary["first_layer"] = first
            self._emit(summary)
        finally:
            self._remove_hooks()
            for sink in self.sinks:
                sink.close()
        if self.verbose and self.enabled and not self.in_cell:  # the cell shows the verdict
            print(f"babysit: {closing_line(self.findings, self.step_index, self.log_path)}",
                  file=sys.stderr, flush=True)

    def __enter__(self) -> Monitor:
        """`with Monitor(...) as monitor:` closes it at the end, interrupted or not."""
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        """Close with the status the block ended with."""
        status = None if kind is None else \
            "interrupted" if issubclass(kind, (KeyboardInterrupt, exit_watch.Terminated)) \
            else "stopped" if issubclass(kind, TrainingStopped) else "crashed"
        self.close(status)

    def sanity_check(self, X: Any, y: Any = None, loss_fn: Callable[..., torch.Tensor] | None = None,
                     **options: Any) -> Any:
        """The lecture's recipe before training (babysit.torch.sanity_check) on copies of this
        monitor's model, with an optimizer like its own; loss_fn defaults to cross-entropy."""
        from babysit.torch.sanity import sanity_check

        options.setdefault("num_classes", self.num_classes)
        return sanity_check(self.model, loss_fn, X, y, optimizer=self.optimizer, **options)

    def _repr_html_(self) -> str:
        """In a notebook, a monitor shows its findings so far."""
        from babysit.notebook import findings_html

        return findings_html(self.report())

    def report(self) -> Report:
        """The diagnosis so far (final after close()): findings, remedies, what was withdrawn."""
        return self._doctor.so_far()

    @property
    def nan_origin(self) -> str | None:
        """Where the first non-finite loss began (a layer, the weights, another rank), or None."""
        return self._pending.nan_origin

    @property
    def findings(self) -> list[Finding]:
        """The engine's findings so far, root cause first (`.to_dict()`: as `babysit diagnose
        --json` writes them)."""
        engine = self._doctor.report if self._doctor.report is not None else self._doctor.engine
        return list(engine.findings)

    # --- internals ----------------------------------------------------------------------
    def _flush(self) -> None:
        """Emit the pending records, their numbers copied to the host in one transfer."""
        for rec in self._pending.flush():
            self._emit(rec)

    def _emit(self, record: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.emit(record)

    def _heard(self, finding: Finding) -> None:
        """A new finding from the in-process engine: tell the user, stop if asked (under DDP
        at the next exchange, so that every rank stops on the same step)."""
        if self.verbose and self._printer is not None:
            self._printer(finding)
        if self.on_finding is not None:
            try:
                self.on_finding(finding.to_dict())
            except Exception as exc:  # a user callback must not switch babysit off silently
                warnings.warn(f"babysit: on_finding raised {exc!r}", stacklevel=2)
        if self.stop_on and stops(finding, self.stop_on) and self._stop_wanted is None:
            self._stop_wanted = f"babysit: {finding.rule}: {finding.message}"
            if self.ranks is None:
                self.should_stop = True
                self._stop_message = self._stop_wanted

    def _warn_once(self, why: str) -> None:
        """A bad value handed to the Monitor, said once per kind (a loop repeats it)."""
        if why not in self._warned:
            self._warned.add(why)
            warnings.warn(f"babysit: {why}", RuntimeWarning, stacklevel=4)

    def _fail(self, exc: BaseException) -> None:
        """Report an internal error once and switch the monitor off; training goes on. The
        steps already recorded are written first, and close() still ends the log."""
        if not self.enabled:
            return
        self.enabled = False
        try:
            self._flush()
        except Exception:
            self._pending.records = []
        self._failure = short_error(exc)
        self._remove_hooks()
        warnings.warn(f"babysit Monitor switched off after an internal error: {self._failure}",
                      RuntimeWarning, stacklevel=3)

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.modes.remove()
        self.optim.remove()
