"""Jitter-buffer figures of the SIP legs' audio streams (pjsua2 Call.getStreamStat), for the
benchmark and for diagnosis.

pjmedia counts, per stream, frames the bridge asked for while the jitter buffer had none (`empty`:
an underrun, or the prefetch before the first packets and after the last), frames missing in the
sequence and concealed (`lost`), and frames thrown away to shrink the buffer (`discard`). The counts
are cumulative, so a reader compares readings of the same leg: between them, while RTP flows
steadily, every `empty` is an underrun.
"""

from __future__ import annotations

import pjsua2 as pj

FIELDS = ("empty", "lost", "discard")


def audio_index(call) -> int | None:
    """The call's active audio media index, or None."""
    info = call.getInfo()  # kept: its media vector is freed with it (iterating a temporary's read garbage)
    for i, media in enumerate(info.media):
        if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
            return i
    return None


def read(call) -> dict | None:
    """One call's jitter-buffer figures, or None when it has no audio stream (any more)."""
    try:
        index = audio_index(call)
        if index is None:
            return None
        jbuf = call.getStreamStat(index).jbuf
    except pj.Error:
        return None  # the stream went between the look-up and the read
    return {"empty": jbuf.empty, "lost": jbuf.lost, "discard": jbuf.discard,
            "delay_ms_avg": jbuf.avgDelayMsec, "delay_ms_max": jbuf.maxDelayMsec, "prefetch": jbuf.prefetch}


def collect(calls: dict) -> dict:
    """{"legs": {leg: figures}, "totals": sums of FIELDS} over {leg: pjsua2 Call}."""
    legs = {}
    for leg, call in calls.items():
        figures = read(call)
        if figures is not None:
            legs[leg] = figures
    totals = {name: sum(f[name] for f in legs.values()) for name in FIELDS}
    return {"legs": legs, "totals": {"streams": len(legs), **totals}}


def growth(samples: list[tuple[float, dict]], margin: int = 0) -> dict:
    """Per-field growth of each leg over timed readings [(time, collect() result)], summed. A leg's
    growth runs from its reading `margin` after its first to its reading `margin` before its last:
    with margin 1 a leg that starts or ends among the readings loses the readings around its start
    and end, whose prefetch is not an underrun. `stream_seconds` is the time covered, summed."""
    series: dict[str, list[tuple[float, dict]]] = {}
    for t, reading in samples:
        for leg, figures in reading["legs"].items():
            series.setdefault(leg, []).append((t, figures))
    out = {"streams": 0, "stream_seconds": 0.0, **{n: 0 for n in FIELDS}, **{f"streams_with_{n}": 0 for n in FIELDS}}
    for points in series.values():
        if len(points) < 2 + 2 * margin:
            continue
        (ta, a), (tb, b) = points[margin], points[-1 - margin]
        out["streams"] += 1
        out["stream_seconds"] += tb - ta
        for name in FIELDS:
            grown = b[name] - a[name]
            out[name] += grown
            out[f"streams_with_{name}"] += grown > 0
    out["stream_seconds"] = round(out["stream_seconds"], 1)
    return out
