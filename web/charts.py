"""Charts as SVG made on the server: no script, no library, no network (the box has no internet). Colours
come from the stylesheet by class, so the charts follow the light and dark themes; every chart has a
title and a text description for screen readers, and each bar or point a <title> tooltip."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 48, 10, 14, 32


def _nice_max(value: float) -> float:
    """A round top for the value axis (1, 2, 5 times a power of ten)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _frame(title: str, desc: str, body: list[str], top: float, unit: str, labels: list[str], step: float) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 5:.1f}" text-anchor="end">{_fmt(value)}{unit}</text>')
    every = max(1, math.ceil(len(labels) / 8))  # at most about 8 labels under the axis
    for i, label in enumerate(labels):
        if i % every == 0:
            x = LEFT + step * (i + 0.5)
            parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 9}" text-anchor="middle">{escape(label)}</text>')
    parts += body
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(title: str, labels: list[str], series: list[tuple[str, str, list[float]]]) -> Markup:
    """Grouped bars: `series` is (name, css class, values) per group member, values by label."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(1, len(labels))
    step = plot_w / n
    top = 4 * _nice_max(max((v for _, _, values in series for v in values), default=0) / 4)  # 4 grid steps
    top = max(top, 4.0)  # counts: whole numbers on the axis
    width = step * 0.8 / max(1, len(series))
    body = []
    for s, (name, cls, values) in enumerate(series):
        for i, value in enumerate(values):
            h = plot_h * value / top
            x = LEFT + step * i + step * 0.1 + width * s
            body.append(f'<rect class="{cls}" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(width - 1, 1):.1f}" '
                        f'height="{h:.1f}"><title>{escape(labels[i])}: {_fmt(value)} {escape(name)}</title></rect>')
    desc = "; ".join(f"{name}: " + ", ".join(f"{labels[i]} {_fmt(v)}" for i, v in enumerate(values) if v)
                     for name, _, values in series)
    return _frame(title, desc or "no calls", body, top, "", labels, step)


def lines(title: str, labels: list[str], series: list[tuple[str, str, list[float | None]]]) -> Markup:
    """Percentages over time (0-100 %); a None value (no calls that day) breaks the line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(1, len(labels))
    step = plot_w / n
    body = []
    for name, cls, values in series:
        runs, run = [], []
        for i, value in enumerate(values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            x, y = LEFT + step * (i + 0.5), TOP + plot_h - plot_h * value / 100
            run.append((x, y))
            body.append(f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>{escape(labels[i])}: '
                        f'{_fmt(value)} % {escape(name)}</title></circle>')
        if run:
            runs.append(run)
        for r in runs:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in r)
            body.insert(0, f'<polyline class="{cls}" fill="none" points="{points}"/>')
    desc = "; ".join(f"{name}: " + ", ".join(f"{labels[i]} {_fmt(v)} %" for i, v in enumerate(values) if v is not None)
                     for name, _, values in series)
    return _frame(title, desc or "no calls", body, 100.0, "%", labels, step)
