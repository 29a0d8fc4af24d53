"""Voicemail, the engine's part: a mailbox greeting, a beep, the caller's message recorded until
they press #, hang up, or reach the mailbox's length limit; then the message is stored like a call
recording and shows as unheard until someone marks it handled.

A mixin of `Engine` (core.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from firmware.engine.states import CallState
from firmware.settings import Mailbox
from firmware.timeutil import iso

log = logging.getLogger(__name__)


def message_path(data_dir: Path, mailbox: str, call_id: str) -> Path:
    folder = Path(data_dir) / "voicemail" / mailbox
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{call_id}.wav"


@dataclass
class Message:
    mailbox: Mailbox
    path: str
    started: float = 0.0   # engine clock when recording began; 0 while the greeting plays


class VoicemailFlow:
    def _to_voicemail(self, s, mailbox: Mailbox) -> None:
        self._set_state(s, CallState.voicemail)
        s.path.append(f"voicemail:{mailbox.name}")
        s.chose = True
        s.message = Message(mailbox, str(message_path(self.data_dir, mailbox.name, s.id)))
        self._play(s, [mailbox.greeting or "sys-vm-greeting", "sys-beep"])

    def _vm_record(self, s) -> None:
        """The greeting and beep are over: record what the caller says."""
        s.message.started = self.clock()
        self.tel.start_recording(f"vm-{s.id}", [s.leg], s.message.path)
        s.digit_timer = self.timers.call_later(s.message.mailbox.max_message_s, self._vm_full, s.id)

    def _vm_full(self, call_id: str) -> None:
        s = self.sessions.get(call_id)
        if s is not None and s.state == CallState.voicemail:
            self._vm_finish(s, "length limit reached")

    def _vm_finish(self, s, why: str, caller_gone: bool = False) -> None:
        """Keep what was recorded; say goodbye unless the caller has already hung up."""
        self._cancel(s.digit_timer)
        m = s.message
        if m.started:
            self.tel.stop_recording(f"vm-{s.id}")
            seconds = round(self.clock() - m.started, 1)
            self.store.message_saved({"call_id": s.id, "mailbox": m.mailbox.name, "caller_id": s.caller_id,
                                      "at": iso(self.wall()), "seconds": seconds, "path": m.path})
            self.store.call_updated(s.id, recording=m.path)
            self.unheard_messages += 1
            s.disposition, s.end_reason = "voicemail", f"message of {seconds:.0f} s in {m.mailbox.name} ({why})"
            log.info("call %s: voicemail in %s, %.1f s", s.id, m.mailbox.name, seconds)
        else:
            s.disposition = s.disposition or "ivr_hangup"
            s.end_reason = f"hung up during the greeting of mailbox {m.mailbox.name}"
        if caller_gone:
            return self._end(s, s.disposition, s.end_reason)
        self._set_state(s, CallState.message)
        self._play(s, ["sys-vm-saved"])
