"""The fault zoo: each broken run fires its labels; healthy runs raise no warning or error."""

from __future__ import annotations

import pytest

from babysit.zoo import ZOO, Case


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("case", ZOO, ids=lambda c: c.name)
def test_zoo_case(case: Case, seed: int) -> None:
    report = case.run(seed)
    missed, unexpected = case.judge(report)
    fired = [(f.rule, f.message) for f in report.findings]
    assert not missed, f"labels not found: {missed}; fired: {fired}"
    assert not unexpected, f"should not fire: {unexpected}; fired: {fired}"
    assert case.root_ok(report) is not False, f"root cause should be one of {case.root_cause}; " \
        f"reported first: {fired[0]}"


def test_zoo_has_both_kinds() -> None:
    assert sum(c.healthy for c in ZOO) >= 5 and sum(not c.healthy for c in ZOO) >= 8
    assert all(c.root_cause for c in ZOO if not c.healthy)
