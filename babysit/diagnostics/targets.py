"""The lecture's targets, defined once: rules, remedies, the dashboard and the report read them.

"weight_update / weight_value ~ 0.001" (CS231n, babysitting the learning process): the ratio of
an update's norm to its weights' norm should be somewhere around 1e-3; much lower and the
learning rate may be too low, much higher and it is probably too high.
"""

from __future__ import annotations

TARGET_UPDATE_RATIO = 1e-3
