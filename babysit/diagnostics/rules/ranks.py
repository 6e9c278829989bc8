"""rank-nonfinite, rank-desync: what one rank of a data-parallel run saw that rank 0 did not.

babysit.torch.Monitor writes them into a step record's `ranks` field (docs/log-format.md) after
the ranks' exchange on a sampled step; other tools' logs do not have them.
"""

from __future__ import annotations

from typing import Any

from babysit.diagnostics.rule import Finding, Record, Rule


def _ranks(record: Record, key: str) -> list[dict[str, Any]]:
    ranks = record.get("ranks")
    entries = ranks.get(key) if isinstance(ranks, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


class RankNonfinite(Rule):
    """A rank's loss or gradient went non-finite while rank 0's was still finite.

    Why: under DDP every rank computes its own loss on its own shard; one bad batch (a NaN in
    the data, an empty sample, a log(0) on that shard's labels) poisons the averaged gradient
    and so every rank's weights, and rank 0's own log shows the NaN only a step later, naming a
    symptom. No threshold: any non-finite value on a rank whose rank-0 counterpart was finite.
    """

    id = "rank-nonfinite"
    severity = "error"
    needs = ("ranks",)
    advice = ("Look at the batch that rank saw at that step (a NaN or inf in its inputs, an "
              "empty or all-ignored batch, a log(0) in the loss); a shard of bad data reaches "
              "every rank through the averaged gradient.")
    explains = ("loss-nan", "loss-explosion")

    def on_step(self, record: Record) -> Finding | None:
        """Read the exchange's non-finite losses, then gradients."""
        if "ranks" not in record:
            return None
        for key, what in (("loss_nonfinite", "loss"), ("grad_nonfinite", "gradient")):
            hits = _ranks(record, key)
            if hits and not self.fired:
                first = hits[0]
                step = first.get("step", record["step"])
                layer = f" of layer {first['layer']}" if first.get("layer") else ""
                others = sorted({h.get("rank") for h in hits} - {first.get("rank")})
                also = f" (also rank {', '.join(map(str, others))})" if others else ""
                return self.report(step, f"the {what}{layer} went non-finite on rank "
                                   f"{first.get('rank')} at step {step}{also} while rank 0's "
                                   "was finite", rank=first.get("rank"), field=what,
                                   **({"layer": first["layer"]} if layer else {}))
        return None


class RankDesync(Rule):
    """A module's parameters or buffers differ between ranks.

    Why: DDP starts every rank from rank 0's weights and averages the gradients, so every rank
    applies the same update and the parameters stay bitwise equal; the Monitor compares their
    norms across ranks on sampled steps (relative difference above 1e-4: equal tensors give
    equal norms, float32 rounding of a norm stays far below). A difference means a rank-local
    change: a parameter edited outside the optimizer on some ranks, a buffer not broadcast
    (BatchNorm statistics with broadcast_buffers=False), a parameter left out of the DDP
    wrapper, or a per-rank random init without the broadcast.
    """

    id = "rank-desync"
    severity = "error"
    needs = ("ranks",)
    advice = ("Find the code that changes that module on some ranks only (an in-place edit of a "
              "weight, a buffer updated outside forward, a seed set per rank); keep "
              "broadcast_buffers=True or use SyncBatchNorm, and change weights only through the "
              "optimizer.")

    def on_step(self, record: Record) -> Finding | None:
        """Read the exchange's desynchronised modules."""
        if "ranks" not in record:
            return None
        off = _ranks(record, "desync")
        if not off:
            return None
        first = off[0]
        more = f" and {len(off) - 1} more module(s)" if len(off) > 1 else ""
        rel = first.get("rel_diff")
        size = f" by {rel:.2g} relative" if isinstance(rel, float) else ""
        return self.report(record["step"], f"module {first.get('layer')} differs on rank(s) "
                           f"{', '.join(map(str, first.get('ranks', [])))} from rank 0{size}"
                           f"{more} at step {record['step']}", layer=first.get("layer"),
                           ranks=first.get("ranks"), rel_diff=rel)
