"""An objective whose worker process dies for one setting (as under the out-of-memory killer)."""

from __future__ import annotations

import os
import signal
import time


def train(config: dict, trial) -> float:
    """SIGKILLs its own process for width 512; returns a made-up accuracy otherwise."""
    if config["width"] == 512:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)  # long enough for the other worker to hold a trial when one dies
    return 0.5 + config["width"] / 1000
