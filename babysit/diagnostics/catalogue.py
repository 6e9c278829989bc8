"""docs/rules.md, generated from the rules themselves so the two cannot drift apart.

Regenerate with: python -m babysit.diagnostics.catalogue > docs/rules.md
"""

from __future__ import annotations

import inspect

from babysit.diagnostics.engine import WINDOW
from babysit.diagnostics.rules import ALL_RULES

INTRO = f"""# Rules

babysit's diagnostics apply the rules of thumb of CS231n's lecture 6 ("Training Neural
Networks") to the metric records of a run: live while `babysit train` runs, or afterwards with
`babysit diagnose LOG`. Each rule has a stable id, a severity (`error`, `warning`, `info`), the
record fields it needs (rules whose fields a log lacks are listed as *not checked*), thresholds
with the defaults below, and advice.

Thresholds can be overridden per run: `babysit diagnose run.jsonl --set loss-flat.min_drop=0.02`,
or a TOML file given with `--rules-config` holding one table per rule id:

```toml
[loss-flat]
min_drop = 0.02

[overfitting]
gap = 0.15
```

**How thresholds were chosen.** Each default comes from the lecture's own numbers (log(C),
the ~1e-3 update ratio), from a statistical argument (noise of an average of N records, the
standard error of an accuracy on n validation examples), or from the published defaults of
other detectors (AUTOTRAINER, DeepDiagnosis, SageMaker Debugger, torchmortem, Keras), and the
docstring of each rule says which. They were then checked on babysit's fault zoo
(`python bench/zoo.py`): deliberately broken runs that must fire given rules and healthy runs
that must stay quiet, over several seeds, depths, widths, data sets and optimizers. They were
not fitted to the test suite.

**Smoothing.** Loss rules look at windows of {WINDOW} consecutive step records (their mean, min,
max and first value), not at single minibatches. Layer rules take medians over the last few
samples of per-layer statistics (`samples`), so one odd batch does not fire them. They see at
most one layer sample per 10 steps (babysit's default sampling, so a log with statistics on
every step reads the same), and past step 10,000 one per step/1,000 steps: about 1,000 samples
per decade of a long run.

**Supersession.** Some findings are symptoms of another: once `loss-explosion` or `loss-nan`
fires, `loss-flat`, `loss-oscillation`, `underfitting`, `overfitting`, `val-plateau` and
`training-unstable` are not reported; `plateau-then-drop` replaces `loss-flat` (the flat start
was a bad initialization).

**Root cause first.** Other findings are consequences, still reported but under their cause:
each rule lists the rules it `explains` (below). When both fire, the explained finding carries
`"caused_by": "<rule id>"` in `diagnose --json`, comes right after its cause (the table marks it
`<-`), and its advice says to follow the cause's, so that the advice never contradicts itself
(a finding that started before the other is never its consequence):
a learning rate of 1e-6 shows low training accuracy too, but "increase capacity" would be wrong.
Findings are listed root causes first: by severity, then by the step where they start.

**Remedies.** Each rule's advice is also a list of config changes, in the order to try them
(`diagnose --json` shows them as `"remedies"` and the first as `"fix"`, e.g. `{{"lr": 0.003}}`,
with values computed from the run's configuration where the log has it). `babysit train --fix`
applies them: see docs/cli.md. Provisional rules (`loss-flat`, `overfitting`, `underfitting`,
`val-plateau`) may withdraw a finding when later evidence contradicts it (a slow start is not
a flat loss), so `--stop-on` and `--fix` do not stop a run for them; they count at its end.
"""


def _doc(rule: type) -> str:
    return inspect.cleandoc(rule.__doc__ or "")


def catalogue() -> str:
    """The whole of docs/rules.md."""
    parts = [INTRO]
    for rule in ALL_RULES:
        doc = _doc(rule)
        summary, _, why = doc.partition("\n\n")
        parts.append(f"## `{rule.id}`\n")
        needs = ", ".join(" or ".join(f"`{alt}`" for alt in need.split("|")) for need in rule.needs)
        only = f" Applies to {', '.join(rule.activations)} hidden layers." if rule.activations else ""
        lr = f" A sign of a learning rate too {rule.lr_symptom} (among other causes)." \
            if rule.lr_symptom else ""
        parts.append(f"Severity: **{rule.severity}**. Needs: {needs}.{only}{lr}\n")
        parts.append(f"**Detects.** {' '.join(summary.split())}\n")
        if why.startswith("Why: "):
            why = "**Why.** " + why[5].upper() + why[6:]
        if why:
            parts.append(" ".join(why.split()) + "\n")
        if rule.thresholds:
            rows = "\n".join(f"| `{k}` | {v:g} |" for k, v in rule.thresholds.items())
            parts.append(f"| threshold | default |\n|---|---|\n{rows}\n")
        if rule.supersedes:
            parts.append(f"Supersedes: {', '.join(f'`{s}`' for s in rule.supersedes)}.\n")
        if rule.explains:
            parts.append(f"Explains (reported as its consequences): "
                         f"{', '.join(f'`{s}`' for s in rule.explains)}.\n")
        parts.append(f"**Advice.** {rule.advice}\n")
        if rule.remedies:
            steps = "; then ".join(r.text for r in rule.remedies)
            when = " (provisional: acted on at the run's end)" if rule.provisional else ""
            parts.append(f"**Remedies**{when}: {steps}.\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(catalogue(), end="")
