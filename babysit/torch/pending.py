"""Step records waiting for their numbers: kept as device tensors between sampled steps, copied
to the host in one transfer, and the first non-finite loss traced to where it began."""

from __future__ import annotations

from typing import Any

import torch

from babysit.torch.layers import Watched
from babysit.torch.nan_origin import origin

Record = dict[str, Any]


class Pending:
    """The records of the steps since the last flush, with the device tensors they still need."""

    def __init__(self, layers: list[Watched]) -> None:
        """`layers`: the watched layers, for naming where a NaN began."""
        self.layers = layers
        self.records: list[tuple[Record, dict[str, torch.Tensor], dict[str, torch.Tensor],
                                 dict[str, torch.Tensor] | None]] = []
        self.diverged = False
        self.nan_origin: str | None = None  # where the first non-finite loss began
        self.rank_origin: tuple[int, str] | None = None  # (step, text) from the rank exchange
        self._prev_grad_flags: dict[str, torch.Tensor] | None = None  # the step before's

    def add(self, rec: Record, tensors: dict[str, torch.Tensor], flags: dict[str, torch.Tensor],
            grad_flags: dict[str, torch.Tensor] | None) -> None:
        """Keep a step record, the tensors to copy into it, and its NaN-origin flags."""
        self.records.append((rec, tensors, flags, grad_flags))

    def flush(self) -> list[Record]:
        """The records with their numbers filled in (one host copy for all of them)."""
        if not self.records:
            return []
        pending, self.records = self.records, []
        wanted = [(rec, key, t) for rec, tensors, _, _ in pending for key, t in tensors.items()]
        if wanted:
            device = wanted[0][2].device
            copied = torch.stack([t.detach().reshape(()).to(device, torch.float32)
                                  for _, _, t in wanted]).cpu().tolist()
            for (rec, key, _), number in zip(wanted, copied, strict=True):
                rec[key] = int(number) if key == "clipped_steps" else number
        out = []
        for rec, _, flags, grad_flags in pending:
            value = rec.get("loss")
            if value is not None and (value != value or abs(value) == float("inf")):
                self.diverged = True
                if self.nan_origin is None:
                    by_rank = self.rank_origin is not None and self.rank_origin[0] <= rec["step"]
                    self.nan_origin = self.rank_origin[1] if by_rank else \
                        origin(self.layers, flags, self._prev_grad_flags, rec["step"])  # type: ignore[index]
                    rec["nan_origin"] = self.nan_origin
            self._prev_grad_flags = grad_flags
            if "layers" in rec:  # last: readers may cut it off unparsed
                rec["layers"] = rec.pop("layers")
            out.append(rec)
        return out
