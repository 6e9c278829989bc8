"""loss-at-init: the first loss is far from what an untrained classifier should score."""

from __future__ import annotations

import math

from babysit.diagnostics.inputs import InputVerdict, judge_inputs
from babysit.diagnostics.records import Header
from babysit.diagnostics.remedy import InitForActivation, Rescale, WhenEvidence
from babysit.diagnostics.rule import Finding, Record, Rule
from babysit.readers.common import is_finite, number


class LossAtInit(Rule):
    """The loss at initialization should be log(C) for softmax (C - 1 for an SVM with margin 1).

    Why: with small random weights every class gets about the same score, so the softmax
    assigns 1/C to the right class and the loss is -log(1/C) = log(C) (lecture: "double check
    that the loss is reasonable"). Logits of variance s^2 add at most about s^2/2 nats.
    Measured on the spiral and digits over 10 seeds, variance-preserving inits give logits of
    variance 0.3 (Xavier, tanh/sigmoid) to 2-2.7 (He, ReLU/ELU) and up to 6 (He with maxout);
    on a single first batch the excess reached 1.7 nats. `max_excess` = 4 nats (logit
    variance ~8) clears all of them; weights 10x too large add tens of nats. For the SVM each
    of the C - 1 margin terms is 1 with small weights and measured up to 3.2 under He init;
    `max_svm_term` = 4.
    A loss below `min_ratio` x log(C) before any training
    means the first record is not at init, or the labels leak into the inputs, or the model
    was trained before: a header saying `pretrained` (the Hugging Face callback writes it for a
    model loaded with from_pretrained; Monitor(pretrained=True)) turns the check off, since a
    fine-tune's first loss is the pretrained model's, not the loss at initialization.
    Checks the data loss when logged (regularization off, as the lecture asks), else the loss.
    When the header's input statistics show inputs too large for the init (RMS above 3, the
    line input-not-scaled draws, babysit.diagnostics.inputs), a high loss is blamed on them:
    Xavier/He init assume unit-scale inputs, and images centred but not scaled (pixel std ~60
    on CIFAR) multiply the first layer's output, and so the logits, by that scale: RMS 3
    already makes the logit variance 9x, tens of extra nats. The cure is then to scale the
    inputs (or the first layer's init), not to change the init scheme.
    """

    id = "loss-at-init"
    severity = "warning"
    needs = ("loss", "header.num_classes")
    remedies = (InitForActivation("init scaled to the activation"),
                WhenEvidence("scale the inputs (they are too large for the init)",
                             Rescale("scale the inputs to unit size"), "input_rms"))
    thresholds = {"max_excess": 4.0, "max_svm_term": 4.0, "min_ratio": 0.5, "max_first_step": 1}
    advice = ("Check the weight scale (small random or Xavier/He init, not large), that "
              "regularization is off for this check, and that labels are 0..C-1 and match the data.")

    def __init__(self, **overrides: float) -> None:
        """Thresholds as documented; waits for the header's num_classes."""
        super().__init__(**overrides)
        self.classes: int | None = None
        self.loss_fn = "softmax"
        self.inputs: InputVerdict | None = None

    def on_header(self, header: Header) -> Finding | None:
        """Read C and the loss function."""
        self.classes, self.loss_fn = header.classes, header.loss_fn
        self.inputs = judge_inputs(header.input_stats)
        return None

    def on_first_step(self, record: Record) -> Finding | None:
        """Judge the first step record."""
        if self.classes is None or record["step"] > self.t["max_first_step"] or self.facts.pretrained:
            return None
        loss = number(record.get("data_loss"))
        what = "initial data loss"  # the total (with the L2 term) is another number: say which
        if not is_finite(loss):
            loss, what = record.get("loss"), "initial loss"
        if not is_finite(loss):
            return None
        c = self.classes
        if self.loss_fn == "svm":
            expected, high = c - 1.0, self.t["max_svm_term"] * (c - 1.0)
        else:
            expected, high = math.log(c), math.log(c) + self.t["max_excess"]
        low = self.t["min_ratio"] * expected
        if loss > high:
            scale = ""
            rms = self.inputs.rms if self.inputs is not None and self.inputs.too_large else None
            if rms is not None:
                scale = (f": the inputs are not scaled (RMS {rms:.3g}, init assumes ~1): "
                         "divide them by their std (or 255 for pixels)")
            return self.report(record["step"], f"{what} {loss:.3f} is well above the "
                               f"{expected:.3f} expected for {c} classes (limit {high:.3f}){scale}",
                               loss=loss, expected=expected, classes=c, input_rms=rms)
        if loss < low:
            return self.report(record["step"], f"{what} {loss:.3f} is far below the "
                               f"{expected:.3f} expected for {c} classes: is the first record "
                               "really at initialization (a fine-tune's is not)?",
                               loss=loss, expected=expected, classes=c)
        return None
