"""Sample conversions and the frame buffers between the modem threads and pjsua2's media clock."""

import threading
import time
import warnings

import numpy as np
import pytest

from drivers.modem.audio import FRAME_BYTES, SILENCE_FRAME, BufferStats, FrameBuffer, codec_for
from drivers.modem.quirks import SampleFormat


def sine(hz, seconds=0.5, level=0.5):
    t = np.arange(int(8000 * seconds)) / 8000
    return (np.sin(2 * np.pi * hz * t) * level * 32767).astype("<i2")


def snr_db(reference, decoded):
    error = reference.astype(float) - decoded.astype(float)
    return 10 * np.log10(np.sum(reference.astype(float) ** 2) / np.sum(error ** 2))


def pcm(*samples):
    return np.array(samples, dtype="<i2").tobytes()


def test_unsigned_is_offset_binary():
    codec = codec_for(SampleFormat.unsigned8)
    assert codec.decode(bytes([0, 128, 255])) == pcm(-32768, 0, 127 << 8)
    assert codec.encode(pcm(-32768, 0, 32767, 256, -256)) == bytes([0, 128, 255, 129, 127])
    assert codec.silence == 0x80
    assert codec_for(SampleFormat.linear8).decode(b"\x80") == pcm(0)


def test_ulaw_and_alaw_known_values():
    ulaw, alaw = codec_for(SampleFormat.ulaw), codec_for(SampleFormat.alaw)
    assert ulaw.decode(bytes([0xFF, 0x80, 0x00])) == pcm(0, 32124, -32124)
    assert alaw.decode(bytes([0xD5, 0x55, 0xAA])) == pcm(8, -8, 32256)
    assert ulaw.silence == 0xFF and alaw.silence == 0xD5


@pytest.mark.parametrize("sample_format", list(SampleFormat))
def test_round_trip_keeps_a_tone(sample_format):
    codec, tone = codec_for(sample_format), sine(1000)
    encoded = codec.encode(tone.tobytes())
    assert len(encoded) == len(tone)
    decoded = np.frombuffer(codec.decode(encoded), dtype="<i2")
    assert snr_db(tone, decoded) > (30 if sample_format in (SampleFormat.ulaw, SampleFormat.alaw) else 25)


@pytest.mark.parametrize("name", ["ulaw", "alaw"])
def test_g711_matches_the_reference_implementation(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    codec = codec_for(SampleFormat(name))
    every_sample = np.arange(-32768, 32768, dtype="<i2").tobytes()
    every_byte = bytes(range(256))
    to_linear, from_linear = getattr(audioop, f"{name}2lin"), getattr(audioop, f"lin2{name}")
    assert codec.decode(every_byte) == to_linear(every_byte, 2)
    assert codec.encode(every_sample) == from_linear(every_sample, 2)


def test_conversion_is_cheap_enough_for_a_media_callback():
    codec, frame = codec_for(SampleFormat.ulaw), sine(440, 0.02).tobytes()
    start = time.perf_counter()
    for _ in range(1000):
        codec.decode(codec.encode(frame))
    assert (time.perf_counter() - start) / 1000 < 0.001  # well under a millisecond per 20 ms frame


# --- FrameBuffer ----------------------------------------------------------------------------------

def frame(n):
    return bytes([n % 256]) * FRAME_BYTES


def test_silence_until_prefilled_then_frames_in_order():
    buffer = FrameBuffer(prefill=3)
    buffer.push(frame(1) + frame(2))
    assert buffer.pop() == SILENCE_FRAME
    buffer.push(frame(3))
    assert [buffer.pop(), buffer.pop(), buffer.pop()] == [frame(1), frame(2), frame(3)]
    assert buffer.stats().underruns == 0


def test_partial_pushes_are_cut_into_frames():
    buffer = FrameBuffer(prefill=1)
    data = frame(7) + frame(8)
    for start in range(0, len(data), 100):
        buffer.push(data[start:start + 100])
    assert buffer.pop() == frame(7) and buffer.pop() == frame(8)


def test_underrun_is_counted_and_primes_again():
    buffer = FrameBuffer(prefill=2)
    buffer.push(frame(1) + frame(2))
    buffer.pop(), buffer.pop()
    assert buffer.pop() == SILENCE_FRAME
    buffer.push(frame(3))
    assert buffer.pop() == SILENCE_FRAME  # waiting for the pre-fill again: not another underrun
    stats = buffer.stats()
    assert (stats.underruns, stats.frames_in, stats.frames_out) == (1, 3, 2)


def test_overrun_drops_the_oldest_and_keeps_latency_bounded():
    buffer = FrameBuffer(prefill=1, capacity=4)
    for n in range(10):
        buffer.push(frame(n))
    assert buffer.stats().overruns == 6 and buffer.stats().level == 4
    assert buffer.pop() == frame(6)


def test_clear_resets_counters():
    buffer = FrameBuffer(prefill=1, capacity=2)
    buffer.push(frame(1) * 5)
    buffer.clear()
    assert buffer.stats() == BufferStats(0, 0, 0, 0, 0, 0, 1) and buffer.pop() == SILENCE_FRAME


def steady(buffer, pops, backlog_from=0):
    """A producer and a consumer at the same 20 ms pace: one push, one pop."""
    out = []
    for n in range(pops):
        buffer.push(frame(backlog_from + n))
        out.append(buffer.pop())
    return out


def test_adaptive_an_underrun_raises_the_prefill_and_steady_pops_lower_it_again():
    buffer = FrameBuffer(prefill=2, capacity=15, max_prefill=4, window=5)
    buffer.push(frame(1) * 2)
    buffer.pop(), buffer.pop()
    assert buffer.pop() == SILENCE_FRAME  # the producer stalled
    assert buffer.stats().prefill == 3
    buffer.push(frame(2) * 2)
    assert buffer.pop() == SILENCE_FRAME  # now it waits for 3 frames, 60 ms of margin
    buffer.push(frame(3))
    assert buffer.pop() == frame(2)
    steady(buffer, 298)
    assert buffer.stats().prefill == 3 and buffer.stats().underruns == 1
    steady(buffer, 1)
    assert buffer.stats().prefill == 2  # 60 windows (300 pops) without an underrun


def test_adaptive_a_standing_backlog_is_trimmed_to_the_prefill():
    buffer = FrameBuffer(prefill=3, capacity=15, max_prefill=8, window=50)
    for n in range(15):  # the consumer was away (a call in the IVR): the buffer filled up
        buffer.push(frame(n))
    out = steady(buffer, 50, backlog_from=100)
    stats = buffer.stats()
    assert stats.trimmed == 15 - 3 and stats.level == 3 - 1 and stats.underruns == 0
    # The last frame out is 2 behind the last one in (was 15 behind): 260 ms less delay.
    assert out[0] == frame(1) and out[-1] == frame(100 + 49 - 2)
    steady(buffer, 200, backlog_from=200)
    assert buffer.stats().trimmed == 12 and buffer.stats().level == 2  # a steady buffer is left alone


def test_adaptive_pre_fill_is_bounded():
    with pytest.raises(ValueError):
        FrameBuffer(prefill=3, capacity=15, max_prefill=20, window=50)
    buffer = FrameBuffer(prefill=1, capacity=4, max_prefill=2, window=5)
    for _ in range(5):
        buffer.push(frame(1) * 2)
        buffer.pop(), buffer.pop(), buffer.pop()
    assert buffer.stats().prefill == 2


def test_a_producer_and_a_consumer_thread_lose_nothing():
    buffer, received = FrameBuffer(prefill=1, capacity=10_000), []

    def produce():
        for n in range(2000):
            buffer.push(frame(n)[:100])
            buffer.push(frame(n)[100:])

    producer = threading.Thread(target=produce)
    producer.start()
    deadline = time.monotonic() + 10
    while len(received) < 2000 and time.monotonic() < deadline:
        got = buffer.pop()
        if buffer.stats().frames_out > len(received):  # a real frame, not pre-fill silence
            received.append(got)
    producer.join()
    assert received == [frame(n) for n in range(2000)]


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        FrameBuffer(prefill=5, capacity=4)


def test_adaptive_a_producer_gap_raises_the_prefill_before_it_costs_an_underrun():
    now = [0.0]
    buffer = FrameBuffer(prefill=3, capacity=15, max_prefill=8, window=50, clock=lambda: now[0])
    for _ in range(10):  # 10 ms chunks, on time
        buffer.push(frame(1)[:160])
        now[0] += 0.01
    assert buffer.stats().prefill == 3
    now[0] += 0.09  # the host held the producer for 100 ms
    buffer.push(frame(1)[:160])
    assert buffer.stats().prefill == 6 and buffer.longest_push_gap > 0.099  # 100 ms + one frame of margin
    now[0] += 1.0
    buffer.push(frame(1)[:160])
    assert buffer.stats().prefill == 8  # never beyond max_prefill


def test_try_pop_waits_instead_of_counting_an_underrun():
    buffer = FrameBuffer(prefill=1, capacity=4, max_prefill=2, window=5)
    assert buffer.try_pop() is None
    buffer.push(frame(1))
    assert buffer.try_pop() == frame(1) and buffer.try_pop() is None
    assert buffer.stats().underruns == 0


def _tone_pcm(freqs, seconds=2.0, level=0.2, rate=8000):
    import numpy as np
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(np.sin(2 * np.pi * f * t) for f in freqs) / max(1, len(freqs))
    return (wave * level * 32767).astype("<i2").tobytes()


def test_dial_tone_is_told_apart_from_busy_tone_other_tones_and_silence():
    import numpy as np
    from drivers.modem.tones import hear_dial_tone
    assert hear_dial_tone(_tone_pcm((350, 440))).kind == "north_america"
    assert hear_dial_tone(_tone_pcm((425,))).kind == "europe"
    assert hear_dial_tone(_tone_pcm((440,))).kind is None
    assert hear_dial_tone(_tone_pcm((1000,))).kind is None
    assert hear_dial_tone(bytes(32000)).kind is None
    busy = np.frombuffer(_tone_pcm((480, 620)), dtype="<i2").copy()
    assert hear_dial_tone(busy.tobytes()).kind is None
    gated = np.frombuffer(_tone_pcm((350, 440)), dtype="<i2").copy()
    gated[(np.arange(len(gated)) // 4000) % 2 == 1] = 0  # a cadence, not steady: not a dial tone
    assert hear_dial_tone(gated.tobytes()).kind is None
    heard = hear_dial_tone(_tone_pcm((350, 440), level=0.1))
    assert heard.seconds >= 1.9 and -30 < heard.level_dbfs < -15 and "350+440 Hz" in heard.describe()
