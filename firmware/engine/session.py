"""One customer call as the engine sees it (also the box's own callback calls)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from firmware.engine import ivr
from firmware.engine.ports import Timer
from firmware.engine.queueing import Attempt
from firmware.engine.states import CallState
from firmware.settings import Menu, Queue

if TYPE_CHECKING:
    from firmware.engine.callback import CallbackRequest
    from firmware.engine.transfer import PendingTransfer
    from firmware.engine.voicemail import Message


class Recording(str, Enum):
    """A call's one recording, whatever happens to the call (transfers, the disk filling)."""

    none = "none"        # not recorded (yet)
    on = "on"            # being recorded: a transfer's next operator joins the same recorder
    stopped = "stopped"  # stopped early (disk almost full, recorder failed): never restarted for this
                         # call, since a new recorder would overwrite the file kept so far


@dataclass
class Session:
    """One customer call, from the line's INVITE to its end."""

    id: str
    leg: str
    line: str
    caller_id: str
    started: float
    state: CallState = CallState.ivr
    menu: ivr.MenuState | None = None
    menu_config: Menu | None = None
    token: int = 0
    digit_timer: Timer | None = None
    queue: Queue | None = None
    queued_at: float = 0.0
    priority: int = 0
    tried: set[str] = field(default_factory=set)
    attempt: Attempt | None = None
    retry_timer: Timer | None = None
    max_wait_timer: Timer | None = None
    announce_timer: Timer | None = None
    announcing: bool = False
    operator: str | None = None
    operator_leg: str | None = None
    connected_at: float = 0.0
    disposition: str | None = None
    end_reason: str = ""
    path: list[str] = field(default_factory=list)
    chose: bool = False              # pressed a digit or chose voicemail (for the worklist)
    caller_left: bool = False        # the caller hung up (rather than the box ending the call)
    offer_timer: Timer | None = None
    offered: bool = False            # callback offered: 1 chooses it
    keyed: str = ""                  # the callback number, confirmed or being keyed in
    keying: bool = False
    keying_tries: int = 0
    callback: "CallbackRequest | None" = None   # set on the box's own callback calls
    message: "Message | None" = None            # set while leaving a voicemail
    transfer: "PendingTransfer | None" = None   # a transfer target ringing (firmware/engine/transfer.py)
    transfers: int = 0
    talk_before: float = 0.0  # talk time with operators who handed the call on
    recording: Recording = Recording.none
    outgoing_by: str | None = None   # an operator's own outgoing call (firmware/engine/outbound.py)

    def timers(self) -> list[Timer | None]:
        return [self.digit_timer, self.retry_timer, self.max_wait_timer, self.announce_timer, self.offer_timer]
