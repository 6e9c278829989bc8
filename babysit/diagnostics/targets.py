"""The lecture's targets, defined once: rules, remedies, the dashboard and the report read them.

"weight_update / weight_value ~ 0.001" (CS231n, babysitting the learning process): the ratio of
an update's norm to its weights' norm should be somewhere around 1e-3; much lower and the
learning rate may be too low, much higher and it is probably too high.
"""

from __future__ import annotations

TARGET_UPDATE_RATIO = 1e-3

# "Centered" inputs: the typical feature's |mean| at most this many times its std. Past 1, a
# Gaussian-like feature has the sign of its mean more than 84% of the time, and every weight
# of a unit fed only such inputs gets gradients of one sign (the lecture's zig-zag). The rule
# input-not-centered and sanity-check's data check both read it (`--set
# input-not-centered.max_mean_over_std=...` moves both).
CENTERED_MEAN_OVER_STD = 1.0
