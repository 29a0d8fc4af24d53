"""The pure V.253 parser: command lines, caller ID, DLE-shielded voice streams, fed in any pieces."""

import random

import pytest

from drivers.modem import protocol as p
from drivers.modem.quirks import CONEXANT, GENERIC, USR5637, detect

DLE, ETX = b"\x10", b"\x03"


def feed_all(parser, *chunks):
    events = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events


def in_voice():
    parser = p.Parser()
    assert parser.feed(b"\r\nCONNECT\r\n") == [p.Connect("CONNECT")]
    return parser


def audio_of(events):
    return b"".join(e.data for e in events if isinstance(e, p.Audio))


# --- command mode ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["OK", "ERROR", "NO CARRIER", "BUSY", "NO DIALTONE", "NO ANSWER"])
def test_final_result_codes(text):
    assert p.Parser().feed(f"\r\n{text}\r\n".encode()) == [p.Result(text)]


def test_ring_info_lines_and_echo():
    events = p.Parser().feed(b"ATI0\r\r\n5601\r\n\r\nOK\r\n\r\nRING\r\n")
    assert events == [p.Echo("ATI0"), p.Text("5601"), p.Result("OK"), p.Ring()]
    assert events[2].ok


def test_a_line_split_across_feeds():
    parser = p.Parser()
    assert feed_all(parser, b"\r\nO", b"K", b"\r", b"\n") == [p.Result("OK")]


def test_connect_switches_to_voice_and_its_line_feed_is_not_audio():
    parser = p.Parser()
    events = feed_all(parser, b"\r\nCONNECT\r", b"\n\x80\x81")
    assert events == [p.Connect("CONNECT"), p.Audio(b"\x80\x81")]
    assert parser.mode is p.Mode.voice


def test_connect_and_audio_in_one_chunk():
    events = p.Parser().feed(b"\r\nCONNECT\r\n\x7f\x10\x10\x80")
    assert events == [p.Connect("CONNECT"), p.Audio(b"\x7f\x10\x80")]


def test_an_endless_line_is_reported_as_garbage():
    events = p.Parser().feed(bytes(range(0x80, 0x100)) * 3)
    assert events and all(isinstance(e, p.Garbage) for e in events)


def test_dle_reports_in_command_mode():
    assert p.Parser().feed(b"\r\nOK\r\n\x10d") == [p.Result("OK"), p.Tone(p.ToneKind.dial_tone)]


# --- caller ID ------------------------------------------------------------------------------------

@pytest.mark.parametrize("separator", ["=", " = ", " =", "= "])
def test_caller_id_in_both_spacing_styles(separator):
    block = "".join(f"{tag}{separator}{value}\r\n" for tag, value in
                    [("DATE", "1123"), ("TIME", "0930"), ("NMBR", "5551234"), ("NAME", "SMITH JOHN")])
    events = p.Parser().feed(b"\r\nRING\r\n\r\n" + block.encode() + b"\r\nRING\r\n")
    assert events[0] == p.Ring() and events[2] == p.Ring()
    caller = events[1]
    assert (caller.number, caller.name, caller.date, caller.time) == ("5551234", "SMITH JOHN", "1123", "0930")
    assert caller.withheld == "" and "NMBR" in caller.raw and separator in caller.raw


@pytest.mark.parametrize("code, reason", [("P", "private"), ("O", "unavailable")])
def test_withheld_number(code, reason):
    caller = p.Parser().feed(f"NMBR = {code}\r\nRING\r\n".encode())[0]
    assert caller.number == "" and caller.withheld == reason and caller.raw == f"NMBR = {code}"


def test_partial_caller_id_and_messages():
    events = p.Parser().feed(b"TIME=0930\r\nMESG=030735353531323334\r\nRING\r\n")
    caller = events[0]
    assert caller == p.CallerId(time="0930", raw="TIME=0930\nMESG=030735353531323334",
                                messages=("030735353531323334",))
    assert events[1] == p.Ring()


def test_caller_id_split_across_feeds_completes_on_a_quiet_line():
    parser = p.Parser()
    assert feed_all(parser, b"DATE = 11", b"23\r\nNMBR = 555", b"1234\r\n") == []
    (caller,) = parser.flush()
    assert caller.number == "5551234" and caller.date == "1123"
    assert parser.flush() == []


def test_ddn_number_is_the_number():
    caller = p.caller_id_from_lines(["DDN_NMBR= 0123456789", "NAME=O"])
    assert caller.number == "0123456789" and caller.name == ""


# --- voice mode -----------------------------------------------------------------------------------

def test_dle_dle_is_one_literal_byte():
    assert in_voice().feed(b"\x01\x10\x10\x02") == [p.Audio(b"\x01\x10\x02")]


def test_a_dle_split_across_two_feeds():
    parser = in_voice()
    events = feed_all(parser, b"\x01\x02\x10", b"5\x03\x04\x10", b"\x10\x05")
    assert events == [p.Audio(b"\x01\x02"), p.Dtmf("5"), p.Audio(b"\x03\x04"), p.Audio(b"\x10\x05")]


@pytest.mark.parametrize("code, event", [
    *[(d, p.Dtmf(d)) for d in "0123456789*#ABCD"],
    ("b", p.Tone(p.ToneKind.busy)), ("d", p.Tone(p.ToneKind.dial_tone)),
    ("s", p.Tone(p.ToneKind.silence)), ("q", p.Tone(p.ToneKind.quiet)),
    ("l", p.Tone(p.ToneKind.loop_break)), ("h", p.Tone(p.ToneKind.handset_on_hook)),
    ("H", p.Tone(p.ToneKind.handset_off_hook)), ("R", p.Ring()),
    ("u", p.Tone(p.ToneKind.tx_underrun)), ("o", p.Tone(p.ToneKind.rx_overrun)),
    ("~", p.UnknownShielded(ord("~"))),
])
def test_shielded_codes(code, event):
    assert in_voice().feed(b"\x80" + DLE + code.encode() + b"\x81") == [p.Audio(b"\x80"), event, p.Audio(b"\x81")]


def test_end_of_stream_returns_to_command_mode_in_the_same_feed():
    parser = in_voice()
    events = parser.feed(b"\x80\x80" + DLE + ETX + b"\r\nOK\r\n")
    assert events == [p.Audio(b"\x80\x80"), p.EndOfStream(), p.Result("OK")]
    assert parser.mode is p.Mode.command


def test_reset_forces_command_mode():
    parser = in_voice()
    parser.feed(b"\x10")
    parser.reset()
    assert parser.feed(b"\r\nOK\r\n") == [p.Result("OK")]


def test_shield_then_parse_round_trips_any_audio_in_any_pieces():
    rng = random.Random(3)
    audio = bytes(rng.choice([0x10, 0x10, 0x03, 0x80, 0x00, 0xFF, 0x7F]) for _ in range(5000))
    wire = p.shield(audio)
    assert wire.count(b"\x10") == 2 * audio.count(b"\x10")
    parser, cuts = in_voice(), sorted(rng.sample(range(1, len(wire)), 300))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)])]
    events = feed_all(parser, *chunks)
    assert all(isinstance(e, p.Audio) for e in events)
    assert audio_of(events) == audio


# --- models ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("ati0, ati3, model", [
    ("5601", "", USR5637),
    ("56000", "", CONEXANT),
    ("", "U.S. Robotics 56K FAX USB V1.2.23", USR5637),
    ("", "CX93001-EIS_V0.2002-V92", CONEXANT),
    ("ACME 56K", "Acme Voice Stick", GENERIC),
])
def test_model_detection(ati0, ati3, model):
    assert detect(ati0, ati3) is model


def test_dle_prefix_per_model():
    assert USR5637.end_stream() == b"\x10^" and USR5637.abort_stream() == b"\x10!"
    assert CONEXANT.end_stream() == b"\x10\x10\x10^"
    assert CONEXANT.voice_formats[0].vsm == "1,8000,0,0" and CONEXANT.voice_formats[1].vsm == "1,8000"


def test_audio_in_the_same_read_as_connect_is_not_counted_as_garbage():
    parser = p.Parser()
    parser.feed(b"\x80\x9f\xa4")  # a wrong speed: unprintable bytes where a modem prints text
    assert parser.unprintable == 3
    events = parser.feed(b"\r\nCONNECT\r\n" + bytes(range(128, 228)))  # the stream starts at once
    assert any(isinstance(e, p.Connect) for e in events) and parser.unprintable == 3
    assert b"".join(e.data for e in events if isinstance(e, p.Audio)) == bytes(range(128, 228))
