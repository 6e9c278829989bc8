"""babysit for PyTorch: `from babysit.torch import Monitor` (needs the `torch` extra)."""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError("babysit.torch needs PyTorch: pip install 'babysit[torch]'") from exc

from babysit.torch.monitor import Monitor, TrainingStopped
from babysit.torch.sanity import Check, SanityReport, sanity_check

__all__ = ["Check", "Monitor", "SanityReport", "TrainingStopped", "sanity_check"]
