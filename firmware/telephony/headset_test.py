"""The technician's headset test on the loop thread: a tone into a station's ear, its microphone
recorded, for a few seconds. The same code drives a real USB headset (one pjsua2 sound device is
both ear and mouth) and a simulated one (a recorder as the ear, the station's voice prompt as the
mouth); the factory (`test_media`) gives the two ends. The level is measured from the recording
afterwards, off the loop (firmware/headset_check.py).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pjsua2 as pj

from firmware import headset_files, prompts

TEST_HZ = 1000.0
"""The test tone: 1 kHz, about -12 dBFS, steady."""


@dataclass
class TestMedia:
    """The two ends of a station's headset for the test; `close()` gives them back."""

    ear: object                 # an AudioMedia the tone is sent to
    mouth: object | None        # an AudioMedia the microphone's sound comes from (None: nothing)
    ear_path: str | None = None  # simulation: the WAV the simulated headset played
    close: Callable[[], None] = lambda: None


def test_tone(folder: Path) -> str:
    path = Path(folder) / f"headset-test-{TEST_HZ:g}.wav"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        prompts.write_wav(tmp, prompts.tone(TEST_HZ, 1.0, 0.25))
        tmp.replace(path)
    return str(path)


class HeadsetTest:
    def __init__(self, station: str, media: TestMedia, folder: Path):
        self.station, self.media = station, media
        folder.mkdir(parents=True, exist_ok=True)
        self.mic_path = headset_files.mic_path(folder, station)
        self.player = pj.AudioMediaPlayer()
        self.player.createPlayer(test_tone(folder), 0)  # looped until finish()
        self.player.startTransmit(media.ear)
        self.mic = pj.AudioMediaRecorder()
        self.mic.createRecorder(str(self.mic_path))
        if media.mouth is not None:
            media.mouth.startTransmit(self.mic)

    def finish(self) -> dict:
        """Stop the tone and the recording (their files complete), give the headset back."""
        _stop(self.player, self.media.ear)
        _stop(self.media.mouth, self.mic)
        self.player = self.mic = None  # destroying the recorder writes its WAV header
        self.media.close()
        self.media.ear = self.media.mouth = None
        # pjsua2's SWIG proxies sit in reference cycles: only the collector destroys them, and the
        # level is read from the file as soon as this returns. A rare technician's test: worth it.
        gc.collect()
        return {"station": self.station, "tone_hz": TEST_HZ, "mic": str(self.mic_path),
                "ear": self.media.ear_path, "has_input": self.media.mouth is not None}


def _stop(source, sink) -> None:
    if source is not None:
        try:
            source.stopTransmit(sink)
        except pj.Error:
            pass  # the device went away during the test
