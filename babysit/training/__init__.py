"""The training loop, its metric records and the sinks that receive them."""

from babysit.training.sinks import JsonlSink, MemorySink, Sink
from babysit.training.trainer import Trainer

__all__ = ["JsonlSink", "MemorySink", "Sink", "Trainer"]
