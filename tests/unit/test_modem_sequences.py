"""The AT sequences against a scripted fake modem (no port, no threads)."""

import pytest

from drivers.modem import sequences as seq
from drivers.modem.errors import ModemError, PortLost
from drivers.modem.quirks import CONEXANT, GENERIC, USR5637, SampleFormat


class ScriptedModem:
    """Answers OK to everything except what `answers` says (a list of info lines, or an exception)."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.sent: list[str] = []
        self.raw: list[bytes] = []

    def command(self, command, expect=("OK",), timeout=2.0):
        self.sent.append(command)
        answer = self.answers.get(command, [])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def send(self, data):
        self.raw.append(data)


def notes():
    collected = []
    return collected, collected.append


@pytest.mark.parametrize("ati0, model", [("5601", USR5637), ("56000", CONEXANT), ("ACME", GENERIC)])
def test_identify_resets_learns_the_model_and_listens(ati0, model):
    modem, (noted, note) = ScriptedModem({"ATI0": [ati0], "ATI3": ["x"]}), notes()
    identity = seq.identify(modem, seq.Timeouts(), None, None, note)
    assert identity.quirks is model and identity.product == ati0
    assert modem.raw == [seq.WAKE]
    assert modem.sent == ["AT", "ATZ", "ATE0", "ATV1", "ATI0", "ATI3", "AT+VCID=1", "AT+FCLASS=8"]


def test_caller_id_refused_is_noted_not_fatal_and_the_region_is_set():
    modem, (noted, note) = ScriptedModem({"AT+VCID=1": ModemError("ERROR")}), notes()
    seq.identify(modem, seq.Timeouts(), "conexant", "etsi", note)
    assert "AT!4886=02" in modem.sent and noted == ["ERROR"]


@pytest.mark.parametrize("region, code", [("bell", "00"), ("etsi", "02"), ("uk", "03"), ("dtmf", "05")])
def test_each_caller_id_region_has_its_code(region, code):
    modem = ScriptedModem()
    seq.identify(modem, seq.Timeouts(), None, region, print)
    assert modem.sent[-2:] == [f"AT!4886={code}", "AT+FCLASS=8"]


def test_a_modem_without_the_region_command_says_so_in_the_notes():
    modem, (noted, note) = ScriptedModem({"AT!4886=03": ModemError("'AT!4886=03': modem answered 'ERROR'")}), notes()
    seq.identify(modem, seq.Timeouts(), None, "uk", note)
    assert modem.sent[-1] == "AT+FCLASS=8"
    assert noted == ["caller-ID region uk not supported by this modem, which decodes its default (usually "
                     "Bell FSK): 'AT!4886=03': modem answered 'ERROR'"]


def test_a_lost_port_is_never_swallowed():
    modem = ScriptedModem({"AT+VCID=1": PortLost("gone")})
    with pytest.raises(PortLost):
        seq.identify(modem, seq.Timeouts(), None, None, print)


def test_voice_setup_is_the_documented_sequence():
    modem = ScriptedModem()
    chosen = seq.configure_voice(modem, USR5637, seq.Timeouts(), None, print)
    seq.off_hook(modem, seq.Timeouts())
    seq.start_duplex(modem, seq.Timeouts())
    assert modem.sent == ["ATZ", "ATE0", "ATV1", "AT+VCID=1", "AT+FCLASS=8", "AT+VSM=128,8000",
                          "AT+VSD=128,0", "AT+VIT=0", "AT+VLS=1", "AT+VTR"]
    assert chosen.sample_format is SampleFormat.linear8


def test_the_two_argument_vsm_form_is_tried_when_the_four_argument_one_fails():
    modem, (noted, note) = ScriptedModem({"AT+VSM=1,8000,0,0": ModemError("ERROR")}), notes()
    chosen = seq.configure_voice(modem, CONEXANT, seq.Timeouts(), None, note)
    assert chosen.vsm == "1,8000" and "AT+VSM=1,8000,0,0" in modem.sent


def test_no_voice_format_accepted_is_a_clear_error():
    refusals = {f"AT+VSM={f.vsm}": ModemError("ERROR") for f in GENERIC.voice_formats}
    with pytest.raises(ModemError, match="accepts none of the voice formats"):
        seq.configure_voice(ScriptedModem(refusals), GENERIC, seq.Timeouts(), None, print)


def test_dialing_methods():
    modem = ScriptedModem()
    seq.dial_digits(modem, "5551234", USR5637, seq.Timeouts())
    seq.dial_digits(modem, "12#", seq.q.ModelQuirks("vts", (), "0,0", b"\x10", dial_method="vts"), seq.Timeouts())
    seq.dial_digits(modem, "", USR5637, seq.Timeouts())
    assert modem.sent == ["ATDT5551234", "AT+VTS=1,2,#"]
