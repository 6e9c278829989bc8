"""sigmoid-hidden: sigmoid units in hidden layers."""

from __future__ import annotations

from babysit.diagnostics.records import Header
from babysit.diagnostics.remedy import Set
from babysit.diagnostics.rule import Finding, Rule


class SigmoidHidden(Rule):
    """The header says the hidden activation is sigmoid.

    Why: the lecture's rule of thumb, "don't use sigmoid": it saturates and kills gradients,
    its outputs are not zero-centred, and exp() is costly. Informational: a sigmoid net can
    still train, just more slowly.
    """

    id = "sigmoid-hidden"
    severity = "info"
    needs = ("header.activation",)
    remedies = (Set("ReLU with He init", (("activation", "relu"), ("init", "he"))),)
    advice = ("Prefer ReLU (careful with the learning rate); try Leaky ReLU, ELU or Maxout; "
              "tanh at least is zero-centred.")

    def on_header(self, header: Header) -> Finding | None:
        """Read the activation."""
        if header.activation == "sigmoid":
            return self.report(0, "hidden layers use sigmoid", activation="sigmoid")
        return None
