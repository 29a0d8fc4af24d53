"""Jitter-buffer growth between readings of the engine's legs."""

from __future__ import annotations

from firmware.telephony.streamstats import growth


def reading(**legs):
    return {"legs": {leg: dict(zip(("empty", "lost", "discard"), values)) for leg, values in legs.items()}}


def test_growth_between_the_first_and_last_reading_of_each_leg():
    samples = [(0.0, reading(a=(3, 0, 10), b=(0, 0, 0))),
               (1.0, reading(a=(3, 1, 10), b=(0, 0, 0))),
               (2.0, reading(a=(5, 1, 12), b=(0, 0, 0)))]
    out = growth(samples)
    assert out["streams"] == 2 and out["stream_seconds"] == 4.0
    assert (out["empty"], out["lost"], out["discard"]) == (2, 1, 2)  # the prefetch before 0.0 is not counted
    assert (out["streams_with_empty"], out["streams_with_lost"], out["streams_with_discard"]) == (1, 1, 1)


def test_a_margin_skips_the_readings_around_a_legs_start_and_end():
    samples = [(0.0, reading(a=(9, 0, 0))),            # a starts: prefetch empties
               (1.0, reading(a=(12, 0, 0), b=(4, 0, 0))),
               (2.0, reading(a=(12, 0, 0), b=(4, 0, 0))),
               (3.0, reading(a=(13, 0, 0), b=(4, 0, 0))),
               (4.0, reading(a=(20, 0, 0), b=(4, 0, 0)))]  # a ends: its stream ran dry before the BYE
    out = growth(samples, margin=1)
    assert out["streams"] == 2
    assert out["empty"] == 1  # a from 1.0 to 3.0; b from 2.0 to 3.0
    assert out["stream_seconds"] == 3.0


def test_a_leg_with_too_few_readings_is_left_out():
    assert growth([(0.0, reading(a=(1, 1, 1)))])["streams"] == 0
    assert growth([(0.0, reading(a=(1, 1, 1))), (1.0, reading(a=(2, 2, 2)))], margin=1)["streams"] == 0
