"""`babysit sanity-check`: the lecture's babysitting recipe, one check per step."""

from babysit.sanity.checks import CHECKS, CheckResult, run_checks

__all__ = ["CHECKS", "CheckResult", "run_checks"]
