"""The NumPy network library: layers, activations, losses, init, optimizers, schedules."""

from babysit.nn.net import MLP, Losses, NetSpec

__all__ = ["MLP", "Losses", "NetSpec"]
