"""The fault zoo: small training runs with known problems (and healthy ones) to prove the rules.

Each case is a config for babysit's own trainer, labelled with the rule ids that must fire and
the ones that must not. Healthy cases must raise no warning or error at all (info is allowed).
`python bench/zoo.py` runs the zoo over several seeds and prints recall and false alarms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from babysit.api import prepare_data, train
from babysit.config import Config
from babysit.data import Dataset, preprocess
from babysit.diagnostics.engine import Engine, Report
from babysit.diagnostics.sink import DiagnosticsSink

AnyOf = tuple[str, ...]  # at least one of these rule ids


def uncentered(config: Config) -> Dataset:
    """The spiral moved 5 units away from the origin, then config.preprocess (the zoo's case
    says none: fed in as it is; `--fix` may change that)."""
    data = prepare_data(replace(config, preprocess="none"))
    return preprocess(replace(data, X_train=data.X_train + 5.0, X_val=data.X_val + 5.0),
                      config.preprocess)


@dataclass(frozen=True)
class Case:
    """One zoo run: its config, what must fire, what must not."""

    name: str
    config: Config
    must_fire: tuple[str | AnyOf, ...] = ()
    must_not_fire: tuple[str, ...] = ()
    root_cause: AnyOf = ()  # the first finding reported must be one of these
    healthy: bool = False
    dataset: Callable[[Config], Dataset] | None = None

    def run(self, seed: int = 0) -> Report:
        """Train with `seed` and return the diagnosis made while training."""
        config = replace(self.config, seed=seed)
        data = self.dataset(config) if self.dataset else None
        doctor = DiagnosticsSink(Engine())
        train(config, [doctor], dataset=data)
        assert doctor.report is not None
        return doctor.report

    def judge(self, report: Report) -> tuple[list[str], list[str]]:
        """(labels missed, unexpected findings) for a report of this case."""
        fired = {f.rule for f in report.findings}
        serious = {f.rule for f in report.findings if f.severity != "info"}
        missed = []
        for label in self.must_fire:
            group = (label,) if isinstance(label, str) else label
            if not fired & set(group):
                missed.append("|".join(group))
        unexpected = sorted(serious if self.healthy else fired & set(self.must_not_fire))
        return missed, unexpected

    def root_ok(self, report: Report) -> bool | None:
        """Whether the headline (first) finding is the labelled root cause; None if unlabelled."""
        if not self.root_cause:
            return None
        return bool(report.findings) and report.findings[0].rule in self.root_cause


SGD, MOM = "sgd", "momentum"
TOO_HIGH: AnyOf = ("loss-explosion", "loss-nan", "update-ratio-high")  # a rate far too high
ZOO: tuple[Case, ...] = (
    # --- broken runs --------------------------------------------------------------------
    Case("lr far too high (sgd 30)", Config(optimizer=SGD, lr=30.0, epochs=30),
         must_fire=(("loss-explosion", "loss-nan"),), must_not_fire=("loss-flat", "underfitting"),
         root_cause=TOO_HIGH),
    Case("lr far too high (adam 3, 2 layers)", Config(lr=3.0, hidden=(64, 64), epochs=30),
         must_fire=(TOO_HIGH,), root_cause=TOO_HIGH),
    Case("lr far too low (sgd 1e-6)", Config(optimizer=SGD, lr=1e-6, epochs=40),
         must_fire=("loss-flat", "update-ratio-low"), must_not_fire=("loss-explosion", "overfitting"),
         root_cause=("update-ratio-low", "loss-flat")),
    Case("lr far too low (adam 1e-7, digits)", Config(data="digits", lr=1e-7, epochs=6),
         must_fire=("loss-flat", "update-ratio-low"), must_not_fire=("loss-explosion",),
         root_cause=("update-ratio-low", "loss-flat")),
    Case("tiny init, deep tanh", Config(hidden=(50,) * 6, activation="tanh", init="small",
                                        init_std=0.01, optimizer=SGD, lr=0.1, epochs=40),
         must_fire=("vanishing-activations", ("loss-flat", "plateau-then-drop")),
         must_not_fire=("loss-explosion",), root_cause=("vanishing-activations",)),
    # std 2 on 64 inputs of RMS ~0.5 (digits, --preprocess image): pre-activations ~8, deep in
    # the sigmoid's flat tails (std 1 was enough on the 0..16 pixels this case was built on)
    Case("large init, sigmoid", Config(data="digits", activation="sigmoid", init="small",
                                       init_std=2.0, optimizer=SGD, lr=0.1, epochs=10),
         must_fire=("saturated-activations", "loss-at-init", "sigmoid-hidden"),
         root_cause=("saturated-activations", "loss-at-init")),
    Case("tiny subset, no regularization", Config(subset=20, reg=0.0, epochs=300, batch_size=20),
         must_fire=("overfitting",), must_not_fire=("underfitting",), root_cause=("overfitting",)),
    Case("net too small for the data", Config(hidden=(2,), epochs=60),
         must_fire=("underfitting",), must_not_fire=("overfitting",), root_cause=("underfitting",)),
    Case("uncentered input", Config(preprocess="none", epochs=20), dataset=uncentered,
         must_fire=("input-not-centered",), root_cause=("input-not-centered",)),
    Case("zero init", Config(init="zeros", epochs=30),
         must_fire=("symmetric-init",), must_not_fire=("loss-explosion",),
         root_cause=("symmetric-init",)),
    Case("negative ReLU bias", Config(bias_init=-5.0, epochs=30), must_fire=("dead-relu",),
         root_cause=("dead-relu",)),
    Case("xavier init with relu, 10 x 200 (the lecture's demo)",
         Config(hidden=(200,) * 10, init="xavier", epochs=5), must_fire=("vanishing-activations",),
         root_cause=("vanishing-activations",)),
    Case("tiny init, deep tanh, adam", Config(hidden=(50,) * 6, activation="tanh", init="small",
                                              init_std=0.01, epochs=20),
         must_fire=("vanishing-activations",), must_not_fire=("loss-explosion",),
         root_cause=("vanishing-activations",)),
    Case("adam at 100x its usual rate, long run", Config(lr=0.1, epochs=300),
         must_fire=("training-unstable",), must_not_fire=("underfitting", "loss-flat"),
         root_cause=("training-unstable", "update-ratio-high")),
    # --- healthy runs -------------------------------------------------------------------
    Case("healthy: default", Config(), healthy=True),
    Case("healthy: tanh xavier adam", Config(activation="tanh", init="xavier", lr=3e-3, epochs=80),
         healthy=True),
    Case("healthy: 3 layers, batchnorm, momentum", Config(hidden=(64, 64, 64), batchnorm=True,
                                                         optimizer=MOM, lr=0.05, epochs=60),
         healthy=True),
    Case("healthy: leaky relu, dropout, reg", Config(activation="leaky_relu", dropout=0.1,
                                                     reg=1e-3, epochs=100), healthy=True),
    Case("healthy: elu, svm loss, rmsprop", Config(activation="elu", loss="svm",
                                                   optimizer="rmsprop", lr=3e-3, epochs=150),
         healthy=True),
    Case("healthy: maxout, nesterov", Config(activation="maxout", optimizer="nesterov", lr=0.05,
                                             epochs=80), healthy=True),
    Case("healthy: digits relu adam", Config(data="digits", lr=1e-3, epochs=15), healthy=True),
    Case("healthy: digits tanh sgd step decay", Config(data="digits", activation="tanh",
                                                       init="xavier", optimizer=SGD, lr=0.05,
                                                       lr_schedule="step", lr_step=5, epochs=15),
         healthy=True),
    Case("healthy: 5 classes, float32, adagrad", Config(classes=5, points=120, dtype="float32",
                                                         optimizer="adagrad", lr=0.05, epochs=60),
         healthy=True),
)


def run_zoo(seeds: list[int], cases: tuple[Case, ...] = ZOO) -> list[dict]:
    """Run every case for every seed; one result dict each (case, seed, missed, unexpected)."""
    results = []
    for case in cases:
        for seed in seeds:
            report = case.run(seed)
            missed, unexpected = case.judge(report)
            results.append({"case": case.name, "seed": seed, "healthy": case.healthy,
                            "labels": len(case.must_fire), "missed": missed,
                            "unexpected": unexpected, "root_ok": case.root_ok(report),
                            "first": report.findings[0].rule if report.findings else None,
                            "fired": sorted({f.rule for f in report.findings})})
    return results


def scores(results: list[dict]) -> dict[str, float]:
    """Recall over labelled problems and the false-alarm rate over healthy runs."""
    labels = sum(r["labels"] for r in results if not r["healthy"])
    found = labels - sum(len(r["missed"]) for r in results if not r["healthy"])
    healthy = [r for r in results if r["healthy"]]
    alarms = sum(1 for r in healthy if r["unexpected"])
    wrong = sum(1 for r in results if not r["healthy"] and r["unexpected"])
    rooted = [r["root_ok"] for r in results if r["root_ok"] is not None]
    return {"root_cause_runs": len(rooted), "root_cause_right": sum(rooted),
            "labels": labels, "found": found, "recall": found / labels if labels else 1.0,
            "healthy_runs": len(healthy), "false_alarm_runs": alarms,
            "false_alarm_rate": alarms / len(healthy) if healthy else 0.0,
            "broken_runs_with_forbidden_findings": wrong}


