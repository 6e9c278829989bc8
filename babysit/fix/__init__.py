"""Acting on the advice: train, apply the root cause's remedy, train again (`babysit train --fix`)."""

from babysit.fix.chain import Attempt, Outcome, Plan, fixed, run_chain

__all__ = ["Attempt", "Outcome", "Plan", "fixed", "run_chain"]
