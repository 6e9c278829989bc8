"""What only a rank can see, brought to rank 0 under torch.distributed (DDP and the trainers
built on it): one `all_gather` of a small vector on each sampled step, none in between.

Each rank keeps, on its device and without copying anything to the host, its losses and its
per-layer gradient-finiteness flags since the last exchange. On a sampled step every rank
contributes one float64 vector: rank 0's wish to stop, those losses, those flags, and the
norm of every parameter and floating buffer of the model. Rank 0 reads from the gathered
matrix the first non-finite loss or gradient on a rank whose rank-0 counterpart was finite,
and the modules whose parameters or buffers differ between ranks (DDP keeps them equal: a
difference is a rank-local change or an unsynchronised buffer). Every rank reads rank 0's
stop flag, so all ranks stop on the same step (a rank that stopped alone would leave the
others waiting in their next collective forever).

Built on torch.distributed's own collective; the backend's device is used (NCCL: the current
CUDA device; gloo and others: the CPU).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

# Relative difference of two ranks' norms of the same tensor above which they are out of sync.
# Equal tensors give bitwise-equal norms (same kernels, same order); float32 rounding of norms
# computed differently stays below ~sqrt(n) * 6e-8 (6e-5 for a million elements), so 1e-4
# flags only real differences (a desynchronised layer drifts far past it within steps).
DESYNC_REL = 1e-4


def distributed_group(group: Any = None) -> Any | None:
    """The process group to use when torch.distributed runs with more than one rank, else None."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return None
    group = group if group is not None else dist.group.WORLD
    return group if dist.get_world_size(group) > 1 else None


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The user's module inside a DistributedDataParallel (or DataParallel) wrapper."""
    wrappers = (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)
    while isinstance(model, wrappers):
        model = model.module
    return model


@dataclass
class Exchange:
    """What rank 0 learned on one sampled step (empty lists: nothing wrong)."""

    stop: bool
    loss_nonfinite: list[dict[str, Any]] = field(default_factory=list)  # [{"rank", "step"}]
    grad_nonfinite: list[dict[str, Any]] = field(default_factory=list)  # [{"rank", "step", "layer"}]
    desync: list[dict[str, Any]] = field(default_factory=list)  # [{"layer", "ranks", "rel_diff"}]

    def record(self, world: int) -> dict[str, Any] | None:
        """The step record's `ranks` field, or None when every rank agreed."""
        if not (self.loss_nonfinite or self.grad_nonfinite or self.desync):
            return None
        out: dict[str, Any] = {"world_size": world}
        for key in ("loss_nonfinite", "grad_nonfinite", "desync"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


class RankSync:
    """One rank's side of the exchange: what it keeps between sampled steps, and the gather."""

    def __init__(self, group: Any, model: torch.nn.Module, layer_names: list[str]) -> None:
        """Name every parameter and floating buffer of `model` by the module that owns it."""
        dist = torch.distributed
        self.group = group
        self.rank, self.world = dist.get_rank(group), dist.get_world_size(group)
        backend = str(dist.get_backend(group))
        self.device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" \
            else torch.device("cpu")
        self.layer_names = layer_names
        named = [(n, t) for n, t in model.named_parameters()]
        named += [(n, t) for n, t in model.named_buffers() if t.is_floating_point()]
        self.owners = [n.rsplit(".", 1)[0] if "." in n else "model" for n, _ in named]
        self.tensors = [t for _, t in named]
        self.steps: list[int] = []
        self.losses: list[torch.Tensor | None] = []
        self.grad_flags: list[dict[str, torch.Tensor] | None] = []

    def keep(self, step: int, loss: torch.Tensor | None,
             grad_flags: dict[str, torch.Tensor] | None) -> None:
        """Remember one step's loss and gradient flags (device tensors: no copy, no kernel)."""
        self.steps.append(step)
        self.losses.append(loss)
        self.grad_flags.append(grad_flags or None)  # stacked at the exchange, not per step

    def exchange(self, stop: bool) -> Exchange:
        """Gather every rank's vector (a collective: every rank calls it on the same step)."""
        vector = self._vector(stop)
        gathered = [torch.empty_like(vector) for _ in range(self.world)]
        torch.distributed.all_gather(gathered, vector, group=self.group)
        matrix = torch.stack(gathered).cpu()
        steps = self.steps
        self.steps, self.losses, self.grad_flags = [], [], []
        out = Exchange(stop=bool(matrix[0, 0] > 0))
        if self.rank == 0:
            self._read(matrix, steps, out)
        return out

    def _vector(self, stop: bool) -> torch.Tensor:
        w, n_layers = len(self.steps), len(self.layer_names)
        nan = torch.full((), float("nan"), dtype=torch.float64, device=self.device)
        losses = [nan if v is None else v.detach().reshape(()).to(self.device, torch.float64)
                  for v in self.losses]
        given = [float(v is not None) for v in self.losses]
        zero = torch.zeros((), dtype=torch.float64, device=self.device)
        flags = [torch.stack([zero if f is None or n not in f else f[n].to(self.device, torch.float64)
                              for n in self.layer_names]) for f in self.grad_flags] if n_layers else []
        norms = torch._foreach_norm([t.detach() for t in self.tensors]) if self.tensors else []
        parts = [torch.tensor([float(stop), *given], dtype=torch.float64, device=self.device)]
        if w:
            parts += [torch.stack(losses), torch.cat(flags) if n_layers else nan.new_zeros(0)]
        if norms:
            parts.append(torch.stack([n.to(self.device, torch.float64) for n in norms]))
        return torch.cat([p.reshape(-1) for p in parts])

    def _read(self, m: torch.Tensor, steps: list[int], out: Exchange) -> None:
        """Rank 0's reading of the gathered matrix (one row per rank)."""
        w, n_layers = len(steps), len(self.layer_names)
        given = m[:, 1:1 + w] > 0
        losses = m[:, 1 + w:1 + 2 * w]
        flags = m[:, 1 + 2 * w:1 + 2 * w + w * n_layers].reshape(self.world, w, n_layers)
        norms = m[:, 1 + 2 * w + w * n_layers:]
        bad_loss = given & ~torch.isfinite(losses)
        for j in range(w):  # the first step on which some rank's loss went non-finite alone
            ranks = [r for r in range(1, self.world) if bad_loss[r, j]]
            if ranks and not bad_loss[0, j]:
                out.loss_nonfinite = [{"rank": r, "step": steps[j]} for r in ranks]
                break
        bad_grad = ~torch.isfinite(flags)
        for j in range(w):
            hits = [{"rank": r, "step": steps[j], "layer": self.layer_names[k]}
                    for r in range(1, self.world) for k in range(n_layers)
                    if bad_grad[r, j, k] and not bad_grad[0, j, k]]
            if hits:
                out.grad_nonfinite = hits[:8]
                break
        if norms.shape[1]:
            ref = norms[0]
            rel = (norms - ref).abs() / ref.abs().clamp_min(1e-12)
            rel = torch.where(torch.isfinite(norms) == torch.isfinite(ref), rel.nan_to_num(0.0),
                              torch.full_like(rel, float("inf")))
            off = rel > DESYNC_REL
            by_layer: dict[str, dict[str, Any]] = {}
            for i in torch.nonzero(off.any(dim=0)).flatten().tolist():
                name = self.owners[i]
                entry = by_layer.setdefault(name, {"layer": name, "ranks": [], "rel_diff": 0.0})
                entry["ranks"] = sorted(set(entry["ranks"]) | {r for r in range(self.world) if off[r, i]})
                entry["rel_diff"] = max(entry["rel_diff"], float(rel[:, i].max()))
            out.desync = list(by_layer.values())[:8]
