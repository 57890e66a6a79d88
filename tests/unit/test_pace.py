"""The job pacer (app.jobs.pace) on a fake clock: the pauses are computed by hand."""

from __future__ import annotations

import pytest

from app.jobs.pace import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_quarter_share_sleeps_three_times_the_work() -> None:
    clock = FakeClock()
    pacer = Pacer(0.25, clock=clock, sleep=clock.sleep)
    clock.now += 0.2  # 0.2 s of work
    pacer.tick()
    clock.now += 0.1
    pacer.tick()
    assert clock.slept == pytest.approx([0.6, 0.3])
    assert pacer.paused == pytest.approx(0.9)
    assert clock.now == pytest.approx(100 + 0.2 + 0.6 + 0.1 + 0.3)  # active 0.3 of 1.2 s


def test_half_share_and_the_longest_pause() -> None:
    clock = FakeClock()
    pacer = Pacer(0.5, clock=clock, sleep=clock.sleep, longest=2.0)
    clock.now += 3.0  # a long stretch without a tick: the pause is capped
    pacer.tick()
    clock.now += 0.4
    pacer.tick()
    assert clock.slept == pytest.approx([2.0, 0.4])


def test_full_share_never_sleeps() -> None:
    clock = FakeClock()
    pacer = Pacer(1.0, clock=clock, sleep=clock.sleep)
    clock.now += 5
    pacer.tick()
    assert clock.slept == [] and pacer.paused == 0


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_a_share_outside_zero_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="duty cycle"):
        Pacer(share)
