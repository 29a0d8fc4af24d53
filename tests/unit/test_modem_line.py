"""The line state machine and its disconnect guards, with a fake clock and synthetic audio."""

import shutil
import subprocess

import numpy as np
import pytest

from drivers.modem import protocol as p
from drivers.modem.audio import codec_for
from drivers.modem.line import (TRANSITIONS, Answer, CallConnected, CallEnded, CallerIdReceived,
                                DigitReceived, HangUp, HangupCause, IllegalTransition, Line,
                                LineChanged, LinePolicy, LineState, Ringing)
from drivers.modem.quirks import SampleFormat
from drivers.modem.tones import BusyToneDetector, BusyToneSpec

RATE = 8000


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def to_pcm(signal):
    return (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()


def tones(frequencies, seconds, level=0.3, on=None, off=None, start=0.0):
    t = start + np.arange(int(RATE * seconds)) / RATE
    wave = sum(np.sin(2 * np.pi * f * t) for f in frequencies) / len(frequencies) * level
    if on is not None:
        wave = wave * ((t % (on + off)) < on)
    return wave


def busy(seconds, **kw):
    return tones((480, 620), seconds, on=0.5, off=0.5, **kw)


def vowel(f0, formants, seconds, vibrato=0.03):
    """A sung vowel: harmonics of a wavering f0 shaped by formant resonances."""
    t = np.arange(int(RATE * seconds)) / RATE
    pitch = f0 * (1 + vibrato * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    wave = np.zeros_like(t)
    for k in range(1, int(3800 / f0)):
        gain = sum(1 / (1 + ((k * f0 - f) / 80) ** 2) for f in formants)
        wave += gain * np.sin(k * phase)
    return 0.3 * wave / np.max(np.abs(wave))


def gate(signal, on=0.5, off=0.5):
    t = np.arange(len(signal)) / RATE
    return signal * ((t % (on + off)) < on)


def feed_in_frames(detector, pcm, frame=320):
    return [i / 2 / RATE for i in range(0, len(pcm), frame) if detector.feed(pcm[i:i + frame])]


@pytest.fixture(scope="module")
def speech():
    """Real synthetic speech at 8 kHz (espeak-ng through sox), or a vowel mix when they are missing."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        return to_pcm(np.concatenate([vowel(f0, fm, 0.7) for f0, fm in
                                      [(120, (700, 1100)), (200, (300, 2300)), (150, (350, 900))] * 3]))
    text = ("Hello, thank you for calling. All our operators are busy at the moment. "
            "Please hold the line. Yes. No. Okay, bye bye.")
    wav = subprocess.run(["espeak-ng", "--stdout", text], capture_output=True, check=True, timeout=30).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                          "-t", "raw", "-"], input=wav, capture_output=True, check=True, timeout=30).stdout
    assert len(raw) > RATE * 2 * 3
    return raw


# --- busy-tone cadence ----------------------------------------------------------------------------

@pytest.mark.parametrize("start", [0.0, 0.013, 0.27, 0.61])
def test_busy_tone_is_detected_after_the_configured_cycles(start):
    detections = feed_in_frames(BusyToneDetector(BusyToneSpec(cycles=4)), to_pcm(busy(6, start=start)))
    assert detections and 3.4 <= detections[0] <= 5.0


def test_the_cycle_count_is_configurable():
    early = feed_in_frames(BusyToneDetector(BusyToneSpec(cycles=2)), to_pcm(busy(6)))
    late = feed_in_frames(BusyToneDetector(BusyToneSpec(cycles=5)), to_pcm(busy(6)))
    assert early[0] < 2.6 and late[0] > 4.4


@pytest.mark.parametrize("sample_format", [SampleFormat.unsigned8, SampleFormat.ulaw, SampleFormat.alaw])
def test_busy_tone_survives_the_modem_formats_and_line_noise(sample_format):
    noisy = busy(6, level=0.1) + np.random.default_rng(1).normal(0, 0.002, 6 * RATE)
    codec = codec_for(sample_format)
    through_modem = codec.decode(codec.encode(to_pcm(noisy)))
    assert feed_in_frames(BusyToneDetector(), through_modem)


def test_european_single_tone_busy_with_its_own_spec():
    spec = BusyToneSpec(frequencies=(425.0,), on_seconds=0.5, off_seconds=0.5)
    assert feed_in_frames(BusyToneDetector(spec), to_pcm(tones((425,), 6, on=0.5, off=0.5)))
    assert not feed_in_frames(BusyToneDetector(), to_pcm(tones((425,), 6, on=0.5, off=0.5)))


def test_speech_is_not_busy_tone(speech):
    assert feed_in_frames(BusyToneDetector(BusyToneSpec(cycles=2)), speech) == []


def test_speech_chopped_into_the_busy_cadence_is_not_busy_tone(speech):
    samples = np.frombuffer(speech, dtype="<i2")[RATE:RATE * 3].astype(float) / 32767
    chopped = to_pcm(gate(np.tile(samples, 4)))
    assert feed_in_frames(BusyToneDetector(BusyToneSpec(cycles=2)), chopped) == []


@pytest.mark.parametrize("f0, formants", [
    (120, (700, 1100, 2500)),  # /a/, harmonics 4 and 5 right at 480 and 600 Hz
    (100, (300, 870, 2250)),   # /u/
    (160, (270, 2300, 3000)),  # /i/
    (240, (500, 620)),         # a high voice with formants near the busy frequencies
    (124, (480, 620)),         # adversarial: half its blocks pass as tone; only the cadence saves us
])
def test_vowels_in_the_busy_cadence_are_not_busy_tone(f0, formants):
    assert feed_in_frames(BusyToneDetector(BusyToneSpec(cycles=2)), to_pcm(gate(vowel(f0, formants, 8)))) == []


@pytest.mark.parametrize("signal", [
    tones((480, 620), 8),                         # steady: no cadence
    tones((480, 620), 8, on=0.25, off=0.25),      # reorder tone: another cadence
    tones((440, 480), 12, on=2.0, off=4.0),       # ringback
    tones((350, 440), 8),                         # dial tone
    tones((1000,), 8, on=0.5, off=0.5),           # a beeping tone at another frequency
])
def test_other_call_progress_tones_are_not_busy_tone(signal):
    assert feed_in_frames(BusyToneDetector(BusyToneSpec(cycles=3)), to_pcm(signal)) == []


# --- the line state machine -----------------------------------------------------------------------

def make_line(**policy):
    clock = Clock()
    line = Line(LinePolicy(**policy), clock)
    line.modem_ready("test")
    return line, clock


def in_call(**policy):
    line, clock = make_line(**policy)
    line.handle(p.Ring())
    line.answer()
    line.connected()
    return line, clock


def of(outputs, kind):
    return [o for o in outputs if isinstance(o, kind)]


def test_answers_after_n_rings_with_caller_id_attached():
    line, clock = make_line(answer_after_rings=2)
    first = line.handle(p.Ring())
    assert of(first, Ringing) == [Ringing(1, None)] and not of(first, Answer)
    caller = p.CallerId(number="5551234", raw="NMBR=5551234")
    assert line.handle(caller) == [CallerIdReceived(caller)]
    clock.now += 6
    second = line.handle(p.Ring())
    assert of(second, Ringing) == [Ringing(2, caller)]
    assert of(second, Answer) == [Answer()] and line.state is LineState.answering
    connected = line.connected()
    assert of(connected, CallConnected) == [CallConnected("incoming", caller, "")]


def test_rings_in_voice_class_count_too():
    line, _ = make_line(answer_after_rings=1)
    assert of(line.handle(p.Tone(p.ToneKind.ring)), Answer)


def test_without_auto_answer_the_application_decides():
    line, _ = make_line(answer_after_rings=None)
    for _ in range(5):
        assert not of(line.handle(p.Ring()), Answer)
    assert of(line.answer(), Answer) and line.state is LineState.answering


def test_rings_that_stop_return_the_line_to_idle():
    line, clock = make_line(answer_after_rings=None, ring_timeout=8)
    line.handle(p.Ring())
    line.handle(p.CallerId(number="1"))
    clock.now += 5
    assert line.tick() == []
    clock.now += 4
    assert line.tick() == [LineChanged(LineState.ringing, LineState.idle, "rings stopped")]
    assert line.caller_id is None and line.rings == 0


def test_digits_in_a_call():
    line, _ = in_call()
    assert line.handle(p.Dtmf("7")) == [DigitReceived("7")]


@pytest.mark.parametrize("kind, cause", [
    (p.ToneKind.busy, HangupCause.busy_report), (p.ToneKind.dial_tone, HangupCause.dial_tone),
    (p.ToneKind.loop_break, HangupCause.loop_break), (p.ToneKind.silence, HangupCause.silence_report),
])
def test_modem_reports_of_a_far_end_hangup(kind, cause):
    line, clock = in_call()
    clock.now += 42
    outputs = line.handle(p.Tone(kind))
    assert of(outputs, CallEnded) == [CallEnded(cause, 42.0)] and of(outputs, HangUp) == [HangUp(cause)]
    assert line.state is LineState.hanging_up
    assert line.hung_up() == [LineChanged(LineState.hanging_up, LineState.idle, "on hook")]


def test_which_reports_end_a_call_is_a_setting():
    line, _ = in_call(hangup_on=frozenset({p.ToneKind.loop_break}))
    assert line.handle(p.Tone(p.ToneKind.busy)) == []
    assert of(line.handle(p.Tone(p.ToneKind.loop_break)), HangUp)


def test_the_modem_leaving_the_stream_ends_the_call():
    line, _ = in_call()
    assert of(line.handle(p.EndOfStream()), HangUp) == [HangUp(HangupCause.end_of_stream)]


def test_busy_cadence_in_the_audio_ends_the_call():
    line, _ = in_call()
    pcm, ended = to_pcm(busy(7)), []
    for i in range(0, len(pcm), 320):
        ended += of(line.hear(pcm[i:i + 320]), HangUp)
    assert ended == [HangUp(HangupCause.busy_cadence)]


def test_speech_does_not_end_the_call(speech):
    line, _ = in_call()
    assert all(line.hear(speech[i:i + 320]) == [] for i in range(0, len(speech), 320))
    assert line.state is LineState.in_call


def test_long_silence_ends_the_call():
    line, _ = in_call(max_silence=3.0)
    frame = bytes(320)
    outputs = [o for _ in range(149) for o in line.hear(frame)]
    assert outputs == []
    assert of(line.hear(frame), HangUp) == [HangUp(HangupCause.max_silence)]


def test_sound_resets_the_silence_count():
    line, _ = in_call(max_silence=1.0)
    tone = to_pcm(tones((700,), 0.02))
    for _ in range(10):
        for _ in range(40):
            assert line.hear(bytes(320)) == []
        line.hear(tone)


def test_maximum_call_length():
    line, clock = in_call(max_call_seconds=60)
    clock.now += 59
    assert line.tick() == []
    clock.now += 1
    assert of(line.tick(), HangUp) == [HangUp(HangupCause.max_call_length)]


def test_outgoing_call():
    line, _ = make_line()
    outputs = line.dial("5551234")
    assert outputs[-1].number == "5551234" and line.state is LineState.dialing
    assert line.handle(p.Tone(p.ToneKind.dial_tone)) == []  # dial tone is wanted here
    assert of(line.connected(), CallConnected) == [CallConnected("outgoing", None, "5551234")]


def test_a_failed_answer_hangs_up():
    line, _ = make_line(answer_after_rings=1)
    line.handle(p.Ring())
    outputs = line.failed("AT+VTR: ERROR")
    assert of(outputs, CallEnded) == [CallEnded(HangupCause.failed, 0.0)] and of(outputs, HangUp)


def test_losing_the_modem_mid_call_ends_it_and_goes_offline():
    line, _ = in_call()
    outputs = line.modem_lost("port lost")
    assert of(outputs, CallEnded)[0].cause is HangupCause.failed
    assert outputs[-1] == LineChanged(LineState.in_call, LineState.offline, "port lost")
    assert line.modem_lost("again") == []
    assert line.modem_ready()[0].state is LineState.idle


def test_illegal_requests_raise():
    line, _ = make_line()
    with pytest.raises(IllegalTransition):
        line.answer()
    with pytest.raises(IllegalTransition):
        line.hang_up()
    line.dial("1")
    with pytest.raises(IllegalTransition):
        line.dial("2")


def test_events_outside_their_state_are_ignored():
    line, _ = make_line()
    assert line.handle(p.Dtmf("1")) == [] and line.handle(p.Tone(p.ToneKind.busy)) == []
    assert line.hear(bytes(320)) == []


def test_every_state_can_go_offline_and_idle_is_reachable_from_everywhere():
    for state, targets in TRANSITIONS.items():
        assert state is LineState.offline or LineState.offline in targets
    reachable, frontier = {LineState.offline}, [LineState.offline]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()] - reachable:
            reachable.add(nxt)
            frontier.append(nxt)
    assert reachable == set(LineState)
