"""The technician's line test on a modem line: is the modem there, and does the line give dial tone?

The modem takes the idle line off hook and listens (receive-only voice stream, `AT+VRX`). Dial tone
is judged two ways: the modem's own report (`DLE d`, which many modems never send) and the received
audio (350+440 Hz or 425 Hz, steady: `tones.hear_dial_tone`). The audio is the stronger proof; a
report with no tone heard points at the audio path. `judge` is pure; `Modem.line_test` runs it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from drivers.modem.tones import DialToneHeard


@dataclass
class LineTestReport:
    identity: dict[str, str] = field(default_factory=dict)   # ATI0 / ATI3, asked afresh
    model: str = ""
    dial_tone_reported: bool = False
    reported_after_s: float | None = None                    # DLE d, seconds after going off hook
    heard: DialToneHeard | None = None
    waited_s: float = 0.0                                    # how long the line was off hook
    last_caller_id_raw: str = ""
    error: str = ""
    ok: bool = False
    verdict: str = ""

    def as_dict(self) -> dict:
        report = asdict(self)
        report["heard"] = asdict(self.heard) if self.heard else None
        report["heard_text"] = self.heard.describe() if self.heard else ""
        return report


def judge(report: LineTestReport) -> LineTestReport:
    """Sets `ok` and `verdict` (one sentence a technician can act on)."""
    heard, reported = report.heard, report.dial_tone_reported
    if report.error:
        report.ok, report.verdict = False, f"LINE TEST FAILED: {report.error}"
    elif heard is not None and heard.kind and reported:
        report.ok = True
        report.verdict = (f"dial tone OK: reported by the modem (DLE d) after {report.reported_after_s:.1f} s"
                          f" and heard: {heard.describe()}")
    elif heard is not None and heard.kind:
        report.ok = True
        report.verdict = f"dial tone OK: heard: {heard.describe()}; the modem did not report it (many never do)"
    elif reported:
        report.ok = False
        report.verdict = ("the modem reported dial tone (DLE d) but none was heard in the audio"
                          f" ({heard.describe() if heard else 'no audio received'}): suspect the modem's voice audio")
    else:
        report.ok = False
        report.verdict = (f"NO DIAL TONE: the modem reported none within {report.waited_s:.1f} s off hook and none"
                          f" was heard ({heard.describe() if heard else 'no audio received'}). Check the cable"
                          " from the modem's LINE socket to the wall socket, and that the line is connected")
    return report
