"""deadline.time_limit: a wall-clock limit stops a block that waits; a CPU-time limit stops only a block that
computes — what another process does to the machine cannot use it up."""

import time

import pytest

from difcon_jax.deadline import OverTime, time_limit


def _spin(seconds: float) -> None:
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass


def test_wall_limit_stops_a_block_that_waits():
    with pytest.raises(OverTime):
        with time_limit(0.2):
            time.sleep(2)


def test_cpu_limit_lets_a_waiting_block_finish_and_stops_a_computing_one():
    t = time.monotonic()
    with time_limit(0.2, clock="cpu"):
        time.sleep(0.5)  # waiting uses no CPU time: not over
    assert time.monotonic() - t >= 0.5
    with pytest.raises(OverTime):
        with time_limit(0.2, clock="cpu"):
            _spin(5)


def test_unknown_clock_is_refused():
    with pytest.raises(ValueError, match="clock"):
        with time_limit(1.0, clock="gpu"):
            pass
