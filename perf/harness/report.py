#!/usr/bin/env python3
"""Turn one benchmark run's results.json into report.md with SVG plots beside it.

    perf/harness/report.py perf/results/<date>/results.json
        writes report.md, throughput.svg, latency.svg, failover.svg and peers.svg next to results.json
        (or into --out DIR). Every SVG is always written; a plot without figures says so.
    perf/harness/report.py --summary perf/results/<date>/results.json
        prints a short Markdown summary for perf/RESULTS.md (latest figures, a link to the full
        report, the goals with ratios) to stdout and writes nothing.
    perf/harness/report.py --self-test
        renders perf/harness/sample-results.json and a few degenerate inputs into a temporary
        directory and checks that the files exist and parse.

The input schema is described in perf/harness/sample-results.json (a complete example). Any
scenario or field may be missing; a scenario, throughput entry or peer job may carry
"error": "..." instead of figures, which the report shows as "not run: ...". Sections are chosen by
what a scenario contains (throughput, latency, timeline/kills/figures, jobs), not by its id.

Python 3.11, standard library only. The SVGs are written by hand (rect, line, text, polyline,
circle) on a white background, so they read the same on GitHub in light and dark mode.
"""
import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
PERF = os.path.dirname(HERE)
SAMPLE = os.path.join(HERE, "sample-results.json")

PLOTS = {
    "throughput": "throughput.svg",
    "latency": "latency.svg",
    "failover": "failover.svg",
    "peers": "peers.svg",
}

# ---------------------------------------------------------------------------------------------
# Number formatting

_SI = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]


def _sig3(x):
    """Three significant digits for 0 <= x < 1000: 456, 12.8, 1.23, 0.456."""
    if x >= 99.95:
        return f"{x:.0f}"
    if x >= 9.995:
        return f"{x:.1f}"
    if x >= 0.9995:
        return f"{x:.2f}"
    return f"{x:.3f}" if x >= 0.0995 else f"{x:.2g}"


def fmt_si(value, trim=False):
    """12.8 M, 1.23 G, 456 K, 950; trim drops trailing zeros (for tick labels: 10 M, 1 G)."""
    if value is None:
        return "—"
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    for i, (scale, unit) in enumerate(_SI):
        if v >= scale * 0.9995:
            text = _sig3(v / scale)
            if float(text) >= 1000 and i > 0:  # 999.96 K rounds up: say 1.00 M
                scale, unit = _SI[i - 1]
                text = _sig3(v / scale)
            break
    else:
        text, unit = _sig3(v) if v else "0", ""
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{sign}{text} {unit}".rstrip() if unit else f"{sign}{text}"


def fmt_rate(value):
    """Events per second: 12.8 M/s, 456 K/s, 1.23 G/s, 950 /s."""
    if value is None:
        return "—"
    text = fmt_si(value)
    return f"{text}/s" if text[-1].isalpha() else f"{text} /s"


def fmt_ms(value):
    """Milliseconds, three significant digits at most: 0.21 ms, 3.9 ms, 485 ms, 1,200 ms."""
    if value is None:
        return "—"
    v = float(value)
    text = _sig3(v) if v < 1000 else f"{v:,.0f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} ms"


def fmt_count(value):
    if value is None:
        return "—"
    v = float(value)
    return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"


def fmt_percent(fraction):
    if fraction is None:
        return "—"
    p = 100 * float(fraction)
    if p >= 10:
        return f"{p:.0f} %"
    return f"{p:.1f} %" if p >= 1 else f"{p:.2f} %"


def fmt_ratio(r):
    if r is None:
        return "—"
    if r >= 100:
        return f"{r:,.0f}×"
    return f"{r:.1f}×" if r >= 10 else f"{r:.2f}×"


def fmt_fraction_of(value, reference):
    """value/reference as "1.01×" when at least a tenth, else "1/31"."""
    if not _num(value) or not _num(reference):
        return "—"
    r = value / reference
    return fmt_ratio(r) if r >= 0.1 else f"1/{reference / value:,.0f}"


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


# ---------------------------------------------------------------------------------------------
# SVG primitives

FONT = "Helvetica, Arial, 'DejaVu Sans', sans-serif"
INK = "#222222"
MUTED = "#666666"
GRID = "#d9d9d9"
GRID_MINOR = "#f0f0f0"
RED = "#d62728"
BLUE = "#4c78a8"
ORANGE = "#f58518"
GREY_BAR = "#9aa5b1"
PERCENTILE_COLOURS = ["#9ecae1", "#4292c6", "#08519c", "#08306b"]


def text_width(s, size=12, bold=False):
    """Estimated rendered width, generous (DejaVu Sans is wider than Helvetica/Arial)."""
    w = 0.0
    for ch in str(s):
        if ch in "ijl|!.,:;'`":
            w += 0.30
        elif ch in " ()[]{}-/rtf\"":
            w += 0.40
        elif ch in "mwMW%":
            w += 0.95
        elif ch.isupper():
            w += 0.72
        elif ch.isdigit():
            w += 0.64
        elif ord(ch) > 127:
            w += 0.85
        else:
            w += 0.60
    return w * size * (1.08 if bold else 1.0)


def clip_text(s, max_width, size=12, bold=False):
    s = str(s)
    if text_width(s, size, bold) <= max_width:
        return s
    while s and text_width(s + "…", size, bold) > max_width:
        s = s[:-1]
    return s.rstrip() + "…"


def _f(x):
    return f"{x:.1f}".rstrip("0").rstrip(".")


class Svg:
    def __init__(self, width):
        self.width = width
        self.items = []

    def rect(self, x, y, w, h, fill, stroke=None, opacity=None):
        extra = f' stroke="{stroke}"' if stroke else ""
        extra += f' fill-opacity="{opacity}"' if opacity is not None else ""
        self.items.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0))}" height="{_f(h)}" fill="{fill}"{extra}/>')

    def line(self, x1, y1, x2, y2, stroke=INK, width=1, dash=None):
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{stroke}" stroke-width="{width}"{extra}/>')

    def text(self, x, y, s, size=12, anchor="start", bold=False, fill=INK, italic=False, rotate=None):
        attrs = f'x="{_f(x)}" y="{_f(y)}" font-size="{size}" fill="{fill}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if bold:
            attrs += ' font-weight="bold"'
        if italic:
            attrs += ' font-style="italic"'
        if rotate is not None:
            attrs += f' transform="rotate({rotate} {_f(x)} {_f(y)})"'
        self.items.append(f"<text {attrs}>{escape(str(s))}</text>")

    def polyline(self, points, stroke, width=2):
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        self.items.append(f'<polyline points="{pts}" fill="none" stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round"/>')

    def circle(self, cx, cy, r, fill):
        self.items.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{r}" fill="{fill}"/>')

    def render(self, height):
        h = _f(height)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{h}" '
                f'viewBox="0 0 {self.width} {h}" font-family="{FONT}">')
        return "\n".join([head, f'<rect x="0" y="0" width="{self.width}" height="{h}" fill="#ffffff"/>', *self.items, "</svg>", ""])


def _legend(svg, items, y, x0=14, max_x=None):
    """items: (kind, colour, label), kind "bar" | "mark" | "dash" | "line". Returns the y below."""
    max_x = max_x or svg.width - 14
    x = x0
    for kind, colour, label in items:
        w = 22 + text_width(label, 11) + 18
        if x + w > max_x and x > x0:
            x, y = x0, y + 18
        if kind == "bar":
            svg.rect(x, y - 9, 14, 10, colour)
        elif kind == "mark":
            svg.line(x + 7, y - 11, x + 7, y + 3, colour, 2.5)
        elif kind == "dash":
            svg.line(x, y - 4, x + 16, y - 4, colour, 2, "5,3")
        else:
            svg.line(x, y - 4, x + 16, y - 4, colour, 2)
            svg.circle(x + 8, y - 4, 2.5, colour)
        svg.text(x + 22, y, label, 11, fill=INK)
        x += w
    return y + 12


def _title(svg, title, subtitle=None):
    svg.text(14, 24, title, 15, bold=True)
    if subtitle:
        svg.text(14, 42, subtitle, 11, fill=MUTED)
        return 56
    return 40


def placeholder_svg(title, message, width=860):
    svg = Svg(width)
    y = _title(svg, title)
    svg.text(width / 2, y + 30, message, 13, anchor="middle", fill=MUTED, italic=True)
    return svg.render(y + 60)


# ---------------------------------------------------------------------------------------------
# Charts: log-axis horizontal bars and a line chart

def _log_domain(values):
    values = [v for v in values if _num(v)]
    if not values:
        return 3.0, 9.0
    lo = math.floor(math.log10(min(values)) - 0.15)  # room so the smallest bar is visible
    hi = math.ceil(math.log10(max(values)) - 1e-9)
    return float(min(lo, hi - 2)), float(hi)  # at least two decades, so there are ticks to read


def hbar_log_chart(title, groups, *, axis_label, fmt_value, fmt_tick, subtitle=None, legend=None, width=860):
    """Horizontal bars on a log10 x-axis, in labelled groups.

    groups: [{"title": str | None,
              "bars": [{"label", "value" (None: not measured), "colour", "note" (shown instead of a bar),
                        "marks": [{"value", "colour"}]}],          # short tick across that bar's row
              "lines": [{"value", "colour", "label"}]}]           # dashed line across the whole group
    fmt_value labels each bar's end; fmt_tick labels the decades.
    """
    row, bar_h, head_h = 22, 14, 24
    bars = [b for g in groups for b in g["bars"]]
    label_w = min(max([text_width(b["label"], 12) for b in bars] + [40]) + 20, width * 0.36)
    value_w = max([text_width(fmt_value(b["value"]), 11) for b in bars if _num(b.get("value"))] + [40]) + 12
    x0, x1 = 14 + label_w, width - value_w - 8
    lo, hi = _log_domain([b.get("value") for b in bars]
                         + [m["value"] for b in bars for m in b.get("marks", [])]
                         + [ln["value"] for g in groups for ln in g.get("lines", [])])

    def xpos(v):
        return x0 + (math.log10(v) - lo) / (hi - lo) * (x1 - x0)

    svg = Svg(width)
    y = _title(svg, title, subtitle)
    if legend:
        y = _legend(svg, legend, y + 6) + 4
    top = y + 4

    # Lay out the rows first, so that grid lines can be drawn underneath everything.
    layout, y = [], top
    for g in groups:
        head_y = None
        if g.get("title"):
            head_y, y = y, y + head_h
        rows = []
        for b in g["bars"]:
            rows.append((b, y))
            y += row
        layout.append((g, head_y, rows))
        y += 6
    bottom = y

    for k in range(int(lo), int(hi) + 1):
        x = xpos(10 ** k)
        svg.line(x, top, x, bottom, GRID)
        svg.line(x, bottom, x, bottom + 5, INK)
        svg.text(x, bottom + 18, fmt_tick(10 ** k), 11, anchor="middle", fill=INK)
        if k < hi:
            for m in range(2, 10):
                svg.line(xpos(m * 10 ** k), top, xpos(m * 10 ** k), bottom, GRID_MINOR)
    svg.line(x0, bottom, x1, bottom, INK)
    svg.line(x0, top, x0, bottom, INK)
    svg.text((x0 + x1) / 2, bottom + 36, axis_label, 12, anchor="middle", fill=INK)

    for i, (g, head_y, rows) in enumerate(layout):
        if head_y is not None:
            if i:
                svg.line(14, head_y - 2, width - 14, head_y - 2, GRID)
            head = clip_text(g["title"], width - 28, 12.5, bold=True)
            head_end = 14 + text_width(head, 12.5, bold=True)
            svg.rect(10, head_y + 3, head_end - 6, 18, "#ffffff")  # keep the grid out of the heading
            svg.text(14, head_y + 16, head, 12.5, bold=True)
        lines_x = []
        for ln in g.get("lines", []):
            if not _num(ln.get("value")) or not rows:
                continue
            lx = xpos(ln["value"])
            lines_x.append(lx)
            svg.line(lx, (head_y + 6) if head_y is not None else rows[0][1], lx, rows[-1][1] + row, ln["colour"], 1.8, "6,4")
            label = ln.get("label")
            if label and head_y is not None:
                lw = text_width(label, 10.5)
                if lx + 5 > head_end + 10 and lx + 5 + lw < width - 4:
                    svg.text(lx + 5, head_y + 15, label, 10.5, fill=ln["colour"])
                elif lx - 5 - lw > head_end + 10:
                    svg.text(lx - 5, head_y + 15, label, 10.5, anchor="end", fill=ln["colour"])
        for b, ry in rows:
            cy = ry + row / 2
            svg.text(x0 - 8, cy + 4, clip_text(b["label"], label_w - 14, 12), 12, anchor="end")
            v = b.get("value")
            if not _num(v):
                note = b.get("note") or "no figure"
                svg.text(x0 + 6, cy + 4, clip_text(note, width - x0 - 20, 11), 11, fill=MUTED, italic=True)
                continue
            end = xpos(v)
            svg.rect(x0, cy - bar_h / 2, end - x0, bar_h, b.get("colour", BLUE))
            marks_x = list(lines_x)
            for m in b.get("marks", []):
                if _num(m.get("value")):
                    mx = xpos(m["value"])
                    marks_x.append(mx)
                    svg.line(mx, cy - bar_h / 2 - 3, mx, cy + bar_h / 2 + 3, m.get("colour", INK), 2.5)
            label = fmt_value(v)
            lw = text_width(label, 11)
            lx = end + 4
            for mx in sorted(marks_x):  # never write the value across a goal tick or dashed line
                if lx - 3 <= mx <= lx + lw + 3:
                    lx = mx + 5
            svg.text(lx, cy + 4, label, 11, fill=INK)
    return svg.render(bottom + 50)


def _nice_step(span, target=6):
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def line_chart(title, series, *, x_label, y_label, fmt_x, fmt_y, vlines=(), subtitle=None, legend=None,
               width=860, height=380):
    """Line chart with linear axes, y from 0.

    series: [{"label", "colour", "points": [(x, y)]}], drawn as a polyline with a marker at each point.
    vlines: [{"x", "label", "colour"}], dashed vertical lines labelled above the plot (labels that
    would collide are moved to a second row).
    """
    xs = [p[0] for s in series for p in s["points"]] + [v["x"] for v in vlines]
    ys = [p[1] for s in series for p in s["points"]]
    xmin, xmax = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if xmax <= xmin:
        xmin, xmax = xmin - 1, xmax + 1
    xstep = _nice_step(xmax - xmin, 10)
    xmin, xmax = math.floor(xmin / xstep) * xstep, math.ceil(xmax / xstep) * xstep
    ymax = max(ys + [0]) * 1.08 or 1.0
    ystep = _nice_step(ymax, 5)
    ymax = math.ceil(ymax / ystep) * ystep

    yticks = [i * ystep for i in range(int(round(ymax / ystep)) + 1)]
    tick_w = max(text_width(fmt_y(t), 11) for t in yticks)
    svg = Svg(width)
    y = _title(svg, title, subtitle)
    if legend:
        y = _legend(svg, legend, y + 6)

    x0, x1 = 14 + 18 + tick_w + 10, width - 24
    # Place the vertical lines' labels: first row, or a second one when they would collide.
    placed, rows_used = [], 0

    def xpos(v):
        return x0 + (v - xmin) / (xmax - xmin) * (x1 - x0)

    for v in sorted(vlines, key=lambda v: v["x"]):
        lw = text_width(v["label"], 11)
        cx = min(max(xpos(v["x"]), x0 + lw / 2), x1 - lw / 2 + 14)
        r = 0
        while any(pr == r and abs(px - cx) < (pw + lw) / 2 + 8 for px, pw, pr in placed):
            r += 1
        placed.append((cx, lw, r))
        rows_used = max(rows_used, r + 1)
    top = y + 8 + 16 * rows_used
    bottom = height - 52
    if bottom - top < 160:
        bottom = top + 160

    def ypos(v):
        return bottom - v / ymax * (bottom - top)

    for t in yticks:
        svg.line(x0, ypos(t), x1, ypos(t), GRID)
        svg.line(x0 - 5, ypos(t), x0, ypos(t), INK)
        svg.text(x0 - 8, ypos(t) + 4, fmt_y(t), 11, anchor="end")
    t = xmin
    while t <= xmax + xstep / 1000:
        svg.line(xpos(t), bottom, xpos(t), bottom + 5, INK)
        svg.text(xpos(t), bottom + 18, fmt_x(t), 11, anchor="middle")
        t += xstep
    svg.line(x0, top, x0, bottom, INK)
    svg.line(x0, bottom, x1, bottom, INK)
    svg.text((x0 + x1) / 2, bottom + 38, x_label, 12, anchor="middle")
    svg.text(18, (top + bottom) / 2, y_label, 12, anchor="middle", rotate=-90)

    for v, (cx, lw, r) in zip(sorted(vlines, key=lambda v: v["x"]), placed):
        lx = xpos(v["x"])
        svg.line(lx, top - 2, lx, bottom, v.get("colour", RED), 1.6, "6,4")
        svg.text(cx, top - 7 - 16 * r, v["label"], 11, anchor="middle", fill=v.get("colour", RED))
    for s in series:
        pts = [(xpos(px), ypos(py)) for px, py in s["points"]]
        if len(pts) > 1:
            svg.polyline(pts, s["colour"], 2)
        for px, py in pts:
            svg.circle(px, py, 2.8, s["colour"])
    return svg.render(bottom + 50)


# ---------------------------------------------------------------------------------------------
# The four plots

def _scenarios(results):
    return [s for s in results.get("scenarios") or [] if isinstance(s, dict)]


def _is_sluice(system, entry=None):
    if entry and isinstance(entry.get("sluice"), bool):
        return entry["sluice"]
    return str(system).lower().startswith("sluice")


def _run_subtitle(results):
    parts = [results.get("date"), f"commit {results['commit']}" if results.get("commit") else None,
             f"{results['mode']} mode" if results.get("mode") else None, _machine_short(results.get("machine") or {})]
    return " · ".join(p for p in parts if p)


def _machine_short(m):
    parts = []
    if m.get("cpus"):
        parts.append(f"{m['cpus']} CPUs")
    if m.get("memoryGiB"):
        parts.append(f"{m['memoryGiB']} GiB")
    if m.get("loadAverageAtStart") is not None:
        parts.append(f"load {m['loadAverageAtStart']} at start")
    return ", ".join(parts)


def throughput_svg(results):
    groups = []
    for s in _scenarios(results):
        entries = [e for e in s.get("throughput") or [] if isinstance(e, dict)]
        if s.get("error") and not entries:
            groups.append({"title": s.get("title") or s.get("id"), "bars": [
                {"label": "", "value": None, "note": f"not run: {s['error']}"}]})
            continue
        if not entries:
            continue
        bars = []
        for e in entries:
            note = f"not run: {e['error']}" if e.get("error") else None
            bars.append({"label": e.get("label", "?"), "value": e.get("eventsPerSecond"), "colour": BLUE, "note": note,
                         "marks": [{"value": e["goal"], "colour": ORANGE}] if _num(e.get("goal")) else []})
        groups.append({"title": s.get("title") or s.get("id"), "bars": bars})
    if not groups:
        return placeholder_svg("Throughput", "no throughput figures in this run")
    legend = [("bar", BLUE, "measured events/s")]
    if any(b.get("marks") for g in groups for b in g["bars"]):
        legend.append(("mark", ORANGE, "goal"))
    return hbar_log_chart("Throughput (events per second, log scale)", groups, axis_label="events per second (log scale)",
                          fmt_value=fmt_rate, fmt_tick=lambda v: fmt_si(v, trim=True), legend=legend,
                          subtitle=_run_subtitle(results))


def latency_svg(results):
    with_latency = [s for s in _scenarios(results) if s.get("latency")]
    groups = []
    for s in with_latency:
        for e in s["latency"]:
            if not isinstance(e, dict):
                continue
            title = e.get("label", "?")
            if len(with_latency) > 1:
                title = f"{s.get('title') or s.get('id')}: {title}"
            if e.get("error"):
                groups.append({"title": title, "bars": [{"label": "—", "value": None, "note": f"not run: {e['error']}"}]})
                continue
            bars = [{"label": name, "value": e.get(key), "colour": colour}
                    for (name, key), colour in zip([("p50", "p50Ms"), ("p99", "p99Ms"), ("p99.9", "p999Ms"), ("max", "maxMs")],
                                                   PERCENTILE_COLOURS)]
            lines = [{"value": e["goalP99Ms"], "colour": RED, "label": f"goal p99 {fmt_ms(e['goalP99Ms'])}"}] \
                if _num(e.get("goalP99Ms")) else []
            groups.append({"title": title, "bars": bars, "lines": lines})
    if not groups:
        return placeholder_svg("Latency", "no latency figures in this run")
    legend = [("bar", c, n) for c, n in zip(PERCENTILE_COLOURS, ["p50", "p99", "p99.9", "max"])]
    if any(g.get("lines") for g in groups):
        legend.append(("dash", RED, "goal p99"))
    return hbar_log_chart("Latency, send to output (milliseconds, log scale)", groups, axis_label="milliseconds (log scale)",
                          fmt_value=fmt_ms, fmt_tick=lambda v: f"{v:g} ms", legend=legend, subtitle=_run_subtitle(results))


def failover_svg(results):
    timed = [s for s in _scenarios(results) if s.get("timeline")]
    colours = [BLUE, ORANGE, "#54a24b", "#b279a2"]
    series, vlines = [], []
    for i, s in enumerate(timed):
        pts = sorted((float(p["t"]), float(p["eventsPerSecond"])) for p in s["timeline"]
                     if isinstance(p, dict) and p.get("t") is not None and p.get("eventsPerSecond") is not None)
        if pts:
            series.append({"label": s.get("title") or s.get("id"), "colour": colours[i % len(colours)], "points": pts})
        for k in s.get("kills") or []:
            if isinstance(k, dict) and k.get("t") is not None:
                vlines.append({"x": float(k["t"]), "label": f"kill {k.get('node', '?')}", "colour": RED})
    if not series:
        message = "no failover timeline in this run"
        errors = [s for s in _scenarios(results) if s.get("id") == "failover" and s.get("error")]
        if errors:
            message = clip_text(f"not run: {errors[0]['error']}", 800, 13)
        return placeholder_svg("Failover under load", message)
    legend = [("line", s["colour"], "delivered events/s" if len(series) == 1 else s["label"]) for s in series]
    if vlines:
        legend.append(("dash", RED, "node killed"))
    span = max(p[0] for s in series for p in s["points"]) - min(p[0] for s in series for p in s["points"])
    return line_chart("Failover under load: delivered events per second", series, x_label="seconds since start",
                      y_label="delivered events/s", fmt_x=lambda v: f"{v:g}" if span >= 5 else f"{v:.1f}",
                      fmt_y=lambda v: fmt_si(v, trim=True), vlines=vlines, legend=legend, subtitle=_run_subtitle(results))


def peers_svg(results):
    jobs = [j for s in _scenarios(results) for j in s.get("jobs") or [] if isinstance(j, dict)]
    order = []
    for j in jobs:
        if j.get("job", "?") not in order:
            order.append(j.get("job", "?"))
    groups = []
    for name in order:
        bars = []
        for j in jobs:
            if j.get("job", "?") != name:
                continue
            system = j.get("system", "?")
            label = f"{system} {j['version']}" if j.get("version") and str(j["version"]) not in str(system) else system
            note = f"not run: {j['error']}" if j.get("error") else None
            if j.get("matchesReference") is False and _num(j.get("eventsPerSecond")):
                label += " (output differs!)"
            bars.append({"label": label, "value": None if note else j.get("eventsPerSecond"), "note": note,
                         "colour": ORANGE if _is_sluice(system, j) else GREY_BAR})
        groups.append({"title": f"job: {name}", "bars": bars})
    if not groups:
        peer_error = next((s["error"] for s in _scenarios(results) if s.get("id") == "peers" and s.get("error")), None)
        return placeholder_svg("Peers", clip_text(f"not run: {peer_error}", 800, 13) if peer_error else "no peer figures in this run")
    return hbar_log_chart("Sluice and its peers on the same jobs (events per second, log scale)", groups,
                          axis_label="events per second (log scale)", fmt_value=fmt_rate,
                          fmt_tick=lambda v: fmt_si(v, trim=True),
                          legend=[("bar", ORANGE, "Sluice"), ("bar", GREY_BAR, "other systems")],
                          subtitle=_run_subtitle(results))


# ---------------------------------------------------------------------------------------------
# report.md

def _md(s):
    """One table cell: no newlines, no stray pipes."""
    return str(s).replace("\n", " ").replace("|", "\\|")


def _table(header, rows, align=None):
    align = align or ["---"] * len(header)
    out = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _columns(entries, spec):
    """spec: [(header, align, present(entries) -> bool, cell(entry) -> str)]; drops absent columns."""
    cols = [c for c in spec if c[2](entries)]
    return _table([c[0] for c in cols], [[c[3](e) for c in cols] for e in entries], [c[1] for c in cols])


def _has(key):
    return lambda entries: any(e.get(key) is not None for e in entries)


def _always(_):
    return True


def _met(flag):
    return "✔" if flag is True else "✘" if flag is False else "—"


LIMITS = [
    ("memcpyGBps", "memcpy, one core", lambda v: f"{v} GB/s"),
    ("lz4CompressMBps", "LZ4 compress, one core", lambda v: f"{fmt_count(v)} MB/s"),
    ("lz4CompressEventsPerSecond", "LZ4 compress, one core, loadgen events", fmt_rate),
    ("lz4DecompressMBps", "LZ4 decompress, one core", lambda v: f"{fmt_count(v)} MB/s"),
    ("lz4DecompressEventsPerSecond", "LZ4 decompress, one core, loadgen events", fmt_rate),
    ("lz4Ratio", "LZ4 ratio on loadgen batches", lambda v: f"{v}×"),
    ("bytesPerEvent", "bytes per event in loadgen batches (uncompressed)", lambda v: f"{v}"),
    ("loopbackTcpGBps", "loopback TCP (iperf3)", lambda v: f"{v} GB/s"),
]


def limit_rates(limits, bytes_per_event):
    """Events/s the machine allows at bytes_per_event: loopback TCP (bytes/s ÷ bytes per event) and
    single-core LZ4 compress and decompress (the events/s limits measured on loadgen's batches when
    those have the same bytes per event, else their MB/s ÷ bytes per event)."""
    out = {}
    if not _num(bytes_per_event):
        return out
    same_events = limits.get("bytesPerEvent") == bytes_per_event
    for key, bytes_key, scale, eps_key in [("loopback TCP", "loopbackTcpGBps", 1e9, None),
                                           ("LZ4 compress", "lz4CompressMBps", 1e6, "lz4CompressEventsPerSecond"),
                                           ("LZ4 decompress", "lz4DecompressMBps", 1e6, "lz4DecompressEventsPerSecond")]:
        if eps_key and same_events and _num(limits.get(eps_key)):
            out[key] = limits[eps_key]
        elif _num(limits.get(bytes_key)):
            out[key] = limits[bytes_key] * scale / bytes_per_event
    return out


def _limits_section(results):
    limits = results.get("limits") or {}
    lines = ["## Machine limits", ""]
    if not isinstance(limits, dict) or not limits:
        return lines + ["No limits were measured in this run (`perf/scripts/limits.sh`).", ""]
    if limits.get("error"):
        lines += [f"**Not measured:** {limits['error']}", ""]
    rows = [[name, fmt(limits[key])] for key, name, fmt in LIMITS if limits.get(key) is not None]
    known = {k for k, _, _ in LIMITS} | {"error"}
    rows += [[k, v] for k, v in limits.items() if k not in known]
    if rows:
        lines += [_table(["Limit", "Figure"], rows, ["---", "---:"]), ""]

    entries = [(s, e) for s in _scenarios(results) for e in s.get("throughput") or []
               if isinstance(e, dict) and (_num(e.get("bytesPerEvent")) or e.get("fractionOfLimit") is not None)]
    if entries:
        lines += ["### Sluice against the limits", "",
                  "What loopback TCP (bytes/s ÷ bytes per event) and single-core LZ4 (on the same bytes) would allow "
                  "at each measurement's bytes per event, and Sluice's share of it.", ""]
        stated = any(e.get("fractionOfLimit") is not None for _, e in entries)
        header = ["Scenario", "Measurement", "events/s", "bytes/event", "MB/s",
                  "loopback TCP allows", "share", "LZ4 compress allows", "share", "LZ4 decompress allows", "share"]
        if stated:
            header.append("stated by the harness")
        rows = []
        for s, e in entries:
            eps, bpe = e.get("eventsPerSecond"), e.get("bytesPerEvent")
            allowed = limit_rates(limits, bpe)
            row = [s.get("title") or s.get("id"), e.get("label", "?"), fmt_rate(eps), f"{bpe}" if bpe else "—",
                   f"{eps * bpe / 1e6:,.0f}" if _num(eps) and _num(bpe) else "—"]
            for k in ("loopback TCP", "LZ4 compress", "LZ4 decompress"):
                a = allowed.get(k)
                row += [fmt_rate(a), fmt_percent(eps / a) if _num(a) and _num(eps) else "—"]
            if stated:
                f = e.get("fractionOfLimit")
                row.append(f"{fmt_percent(f)} of {e.get('limit', 'the limit')}" if f is not None else "—")
            rows.append(row)
        lines += [_table(header, rows, ["---", "---"] + ["---:"] * (len(header) - 2)), ""]
    return lines


def _throughput_table(entries):
    def cell_value(e):
        return f"not run: {e['error']}" if e.get("error") else f"**{fmt_rate(e.get('eventsPerSecond'))}**"

    def vs_goal(e):
        if not (_num(e.get("goal")) and _num(e.get("eventsPerSecond"))):
            return "—"
        return f"{fmt_ratio(e['eventsPerSecond'] / e['goal'])} {_met(e['eventsPerSecond'] >= e['goal'])}"

    return _columns(entries, [
        ("Measurement", "---", _always, lambda e: e.get("label", "?")),
        ("events/s", "---:", _always, cell_value),
        ("goal", "---:", _has("goal"), lambda e: fmt_rate(e.get("goal")) if e.get("goal") else "—"),
        ("vs goal", "---:", _has("goal"), vs_goal),
        ("baseline", "---:", _has("baseline"), lambda e: fmt_rate(e.get("baseline")) if e.get("baseline") else "—"),
        ("vs baseline", "---:", _has("baseline"), lambda e: fmt_fraction_of(e.get("eventsPerSecond"), e.get("baseline"))),
        ("bytes/event", "---:", _has("bytesPerEvent"), lambda e: f"{e['bytesPerEvent']}" if e.get("bytesPerEvent") else "—"),
        ("share of limit", "---:", _has("fractionOfLimit"),
         lambda e: f"{fmt_percent(e['fractionOfLimit'])} of {e.get('limit', 'the limit')}" if e.get("fractionOfLimit") is not None else "—"),
        ("note", "---", _has("note"), lambda e: e.get("note") or ""),
    ])


def _latency_table(entries):
    def met(e):
        if e.get("error"):
            return f"not run: {e['error']}"
        if _num(e.get("goalP99Ms")) and e.get("p99Ms") is not None:
            return _met(e["p99Ms"] <= e["goalP99Ms"])
        return "—"

    return _columns(entries, [
        ("Measurement", "---", _always, lambda e: e.get("label", "?")),
        ("rate", "---:", _has("rate"), lambda e: fmt_rate(e.get("rate")) if e.get("rate") else "—"),
        ("p50", "---:", _always, lambda e: fmt_ms(e.get("p50Ms"))),
        ("p99", "---:", _always, lambda e: f"**{fmt_ms(e.get('p99Ms'))}**" if e.get("p99Ms") is not None else "—"),
        ("p99.9", "---:", _always, lambda e: fmt_ms(e.get("p999Ms"))),
        ("max", "---:", _always, lambda e: fmt_ms(e.get("maxMs"))),
        ("goal p99", "---:", _has("goalP99Ms"), lambda e: fmt_ms(e.get("goalP99Ms"))),
        ("met", ":---:", lambda es: any(x.get("goalP99Ms") is not None or x.get("error") for x in es), met),
        ("note", "---", _has("note"), lambda e: e.get("note") or ""),
    ])


FIGURES = [
    ("events", "events", fmt_count), ("sent", "sent", fmt_count), ("acked", "acknowledged", fmt_count),
    ("delivered", "delivered", fmt_count), ("rate", "offered rate", fmt_rate), ("lost", "lost", fmt_count),
    ("duplicated", "duplicated", fmt_count), ("outOfOrder", "out of order", fmt_count),
    ("gapMsP50", "gap p50", fmt_ms), ("gapMsP99", "gap p99", fmt_ms), ("gapMsMax", "gap max", fmt_ms),
]


def _figures_table(figures):
    rows = [[name, fmt(figures[key])] for key, name, fmt in FIGURES if figures.get(key) is not None]
    known = {k for k, _, _ in FIGURES}
    rows += [[k, v if not isinstance(v, (dict, list)) else json.dumps(v)] for k, v in figures.items() if k not in known]
    return _table(["Figure", "Value"], rows, ["---", "---:"])


def _peers_table(jobs):
    def sluice_rate(name):
        return next((j["eventsPerSecond"] for j in jobs if j.get("job") == name and _is_sluice(j.get("system", ""), j)
                     and _num(j.get("eventsPerSecond")) and not j.get("error")), None)

    def vs(j):
        ref, v = sluice_rate(j.get("job")), j.get("eventsPerSecond")
        if _is_sluice(j.get("system", ""), j) or not (_num(ref) and _num(v)) or j.get("error"):
            return "—"
        return fmt_ratio(ref / v)

    def matches(j):
        m = j.get("matchesReference")
        return "yes" if m is True else "**no**" if m is False else "—"

    return _columns(jobs, [
        ("Job", "---", _always, lambda j: j.get("job", "?")),
        ("System", "---", _always, lambda j: j.get("system", "?")),
        ("Version", "---", _has("version"), lambda j: j.get("version") or "—"),
        ("events/s", "---:", _always,
         lambda j: f"not run: {j['error']}" if j.get("error") else
         (f"**{fmt_rate(j.get('eventsPerSecond'))}**" if _is_sluice(j.get("system", ""), j) else fmt_rate(j.get("eventsPerSecond")))),
        ("events", "---:", _has("events"), lambda j: fmt_count(j.get("events"))),
        ("output matches reference", ":---:", _has("matchesReference"), matches),
        ("Sluice ÷ this", "---:", _always, vs),
        ("note", "---", _has("note"), lambda j: j.get("note") or ""),
    ])


def _scenario_section(s, plotted):
    title = s.get("title") or s.get("id") or "Scenario"
    lines = [f"## {title}", ""]
    if s.get("command"):
        lines += [f"Command: `{s['command']}`", ""]
    if s.get("error"):
        lines += [f"**Not run:** {s['error']}", ""]
    throughput = [e for e in s.get("throughput") or [] if isinstance(e, dict)]
    if throughput:
        lines += [_throughput_table(throughput), ""]
        if "throughput" in plotted:
            lines += ["Bars: [throughput.svg](throughput.svg) (all scenarios on one axis, at the top of this report).", ""]
    latency = [e for e in s.get("latency") or [] if isinstance(e, dict)]
    if latency:
        lines += ["Latency (open loop: events carry their due time, so queueing delay counts):", "",
                  _latency_table(latency), "", "![Latency](latency.svg)", ""]
    if isinstance(s.get("figures"), dict) and s["figures"]:
        lines += [_figures_table(s["figures"]), ""]
    kills = [k for k in s.get("kills") or [] if isinstance(k, dict)]
    if kills:
        lines += ["Kills: " + ", ".join(f"`{k.get('node', '?')}` at {k.get('t', '?')} s" for k in kills) + ".", ""]
    if s.get("timeline"):
        lines += ["![Failover under load](failover.svg)", ""]
    jobs = [j for j in s.get("jobs") or [] if isinstance(j, dict)]
    if jobs:
        lines += [_peers_table(jobs), "", "![Peers](peers.svg)", ""]
    notes = s.get("notes") or []
    if isinstance(notes, str):
        notes = [notes]
    lines += [f"- {n}" for n in notes] + ([""] if notes else [])
    if not (s.get("error") or throughput or latency or s.get("figures") or s.get("timeline") or jobs or notes):
        lines += ["No figures in this scenario.", ""]
    return lines


# Goals: ratio of measured to goal, parsed from the strings when no numbers are given.

_QUANTITY = re.compile(r"(?<![\w.])([-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(G|M|K|k|ms|µs|us|ns|s|%)?(?![A-Za-z])")
_SCALE = {"G": 1e9, "M": 1e6, "K": 1e3, "k": 1e3, "ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "%": 1.0}
_TIME = {"ns", "µs", "us", "ms", "s"}
_AT_MOST = re.compile(r"<=|≤|<|\bat most\b|\bunder\b|\bbelow\b|\bno more than\b", re.I)
_AT_LEAST = re.compile(r">=|≥|>|\bat least\b|\bover\b|\babove\b", re.I)


def parse_quantity(text, after=None):
    """(value, unit-kind) of the first number in text (after the match `after`, if any); kind is
    "time" (value in seconds), "%" or "" for counts (K/M/G applied). None when there is no number."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text), ""
    s = str(text)
    if after is not None:
        m = after.search(s)
        if m:
            s = s[m.end():]
    m = _QUANTITY.search(s)
    if not m:
        return None
    unit = m.group(2) or ""
    value = float(m.group(1).replace(",", "")) * _SCALE.get(unit, 1.0)
    return value, "time" if unit in _TIME else "%" if unit == "%" else ""


def goal_ratio(g):
    """How many times the goal was reached: measured ÷ goal, or goal ÷ measured for "at most" goals,
    so above 1 always means better than the goal. None when it cannot be worked out."""
    goal_text = g.get("goal")
    lower_better = g.get("lowerIsBetter")
    if lower_better is None:
        lower_better = bool(goal_text and _AT_MOST.search(str(goal_text)))
    comparator = _AT_MOST if lower_better else _AT_LEAST
    goal = (g["goalValue"], "") if _num(g.get("goalValue")) else parse_quantity(goal_text, comparator)
    measured = (g["measuredValue"], "") if _num(g.get("measuredValue")) else parse_quantity(g.get("measured"))
    if not goal or not measured:
        return None
    if not (_num(g.get("goalValue")) or _num(g.get("measuredValue"))) and goal[1] != measured[1]:
        return None
    if goal[0] <= 0 or measured[0] <= 0:
        return None
    return goal[0] / measured[0] if lower_better else measured[0] / goal[0]


def _goals_table(goals, with_ratio=True):
    rows = []
    for g in goals:
        if not isinstance(g, dict):
            continue
        issue = g.get("issue")
        row = [f"#{issue}" if isinstance(issue, int) else (issue or "—"), g.get("what", ""), g.get("goal", "—"),
               g.get("measured", "—")]
        if with_ratio:
            row.append(fmt_ratio(goal_ratio(g)))
        row.append(_met(g.get("met")))
        rows.append(row)
    header = ["Issue", "What", "Goal", "Measured"] + (["× goal"] if with_ratio else []) + ["Met"]
    return _table(header, rows, ["---", "---", "---:", "---:"] + (["---:"] if with_ratio else []) + [":---:"])


def build_report(results):
    m = results.get("machine") or {}
    head = f"# Sluice benchmark report: {results.get('date', 'undated')}"
    lines = [head, ""]
    facts = []
    if results.get("commit"):
        facts.append(f"commit `{results['commit']}`")
    if results.get("mode"):
        facts.append(f"**{results['mode']}** mode")
    if results.get("startedAt"):
        facts.append(f"started {results['startedAt']}")
    if facts:
        text = "; ".join(facts)
        lines += [text[0].upper() + text[1:] + ".", ""]
    machine = []
    if m.get("cpus"):
        machine.append(f"{m['cpus']} CPUs" + (f" ({m['cpuModel']})" if m.get("cpuModel") else ""))
    elif m.get("cpuModel"):
        machine.append(m["cpuModel"])
    if m.get("memoryGiB"):
        machine.append(f"{m['memoryGiB']} GiB memory")
    if m.get("kernel"):
        machine.append(f"Linux {m['kernel']}" if not str(m["kernel"]).lower().startswith(("linux", "darwin")) else m["kernel"])
    if m.get("loadAverageAtStart") is not None:
        machine.append(f"load average {m['loadAverageAtStart']} at start")
    known = {"cpus", "cpuModel", "memoryGiB", "kernel", "loadAverageAtStart"}
    machine += [f"{k} {v}" for k, v in m.items() if k not in known]
    if machine:
        lines += ["**Machine:** " + ", ".join(machine) + ".", ""]
    for n in results.get("notes") or []:
        lines.append(f"> {n}")
    if results.get("notes"):
        lines.append("")

    lines += ["## How it was run", "", "```", results.get("command") or "make bench", "```", "",
              "Each scenario's own command is given in its section. Raw figures: [results.json](results.json).", ""]
    lines += _limits_section(results)

    scenarios = _scenarios(results)
    plotted = {"throughput"} if any(s.get("throughput") for s in scenarios) else set()
    if plotted:
        lines += ["## Throughput at a glance", "", "![Throughput](throughput.svg)", ""]
    for s in scenarios:
        lines += _scenario_section(s, plotted)
    if not scenarios:
        lines += ["No scenarios in this run.", ""]

    goals = results.get("goals") or []
    lines += ["## Goals", ""]
    if goals:
        lines += [_goals_table(goals), "",
                  "× goal is measured ÷ goal, or goal ÷ measured for an upper bound, so above 1 is better than the goal.", ""]
    else:
        lines += ["No goals were recorded in this run.", ""]
    lines += ["## Raw data", "", "[results.json](results.json) (everything above is generated from it by "
              "`perf/harness/report.py`).", ""]
    return "\n".join(lines)


def write_report(results, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, render in [("throughput", throughput_svg), ("latency", latency_svg), ("failover", failover_svg),
                         ("peers", peers_svg)]:
        path = os.path.join(out_dir, PLOTS[name])
        with open(path, "w", encoding="utf-8") as f:
            f.write(render(results))
        written.append(path)
    path = os.path.join(out_dir, "report.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(build_report(results))
    written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# --summary for perf/RESULTS.md

def _measured(scenario, key, name, rows):
    """The scenario's `key` entries that carry figures; an entry that failed becomes a "not run" row."""
    for e in scenario.get(key) or []:
        if not isinstance(e, dict):
            continue
        if e.get("error"):
            rows.append([name, e.get("label", "?"), f"not run: {e['error']}"])
            continue
        yield e


def build_summary(results, report_link, json_link):
    date, commit, mode = results.get("date", "undated"), results.get("commit"), results.get("mode")
    head = f"### Latest run: {date}"
    extras = [f"commit `{commit}`" if commit else None, f"{mode} mode" if mode else None]
    extras = [e for e in extras if e]
    if extras:
        head += " (" + ", ".join(extras) + ")"
    lines = [head, "", f"Full report with plots: [{report_link}]({report_link}); raw figures: [results.json]({json_link})."]
    machine = _machine_short(results.get("machine") or {})
    if machine:
        lines[-1] += f" Machine: {machine}."
    lines += [""]

    rows = []
    limits = results.get("limits") or {}
    for s in _scenarios(results):
        name = s.get("title") or s.get("id") or "?"
        if s.get("error"):
            rows.append([name, "—", f"not run: {s['error']}"])
        for e in _measured(s, "throughput", name, rows):
            eps, extra = e.get("eventsPerSecond"), []
            if _num(e.get("goal")) and _num(eps):
                extra.append(f"goal {fmt_rate(e['goal'])}, {fmt_ratio(eps / e['goal'])} {_met(eps >= e['goal'])}")
            tcp = limit_rates(limits, e.get("bytesPerEvent")).get("loopback TCP")
            if _num(tcp) and _num(eps):
                extra.append(f"{fmt_percent(eps / tcp)} of loopback TCP")
            rows.append([name, e.get("label", "?"), f"**{fmt_rate(eps)}**" + (f" ({'; '.join(extra)})" if extra else "")])
        for e in _measured(s, "latency", name, rows):
            text = f"p50 {fmt_ms(e.get('p50Ms'))}, **p99 {fmt_ms(e.get('p99Ms'))}**, p99.9 {fmt_ms(e.get('p999Ms'))}, max {fmt_ms(e.get('maxMs'))}"
            if _num(e.get("goalP99Ms")) and e.get("p99Ms") is not None:
                text += f" (goal p99 {fmt_ms(e['goalP99Ms'])} {_met(e['p99Ms'] <= e['goalP99Ms'])})"
            rows.append([name, e.get("label", "?"), text])
        fig = s.get("figures") if isinstance(s.get("figures"), dict) else {}
        if fig:
            what = []
            if fig.get("events") is not None:
                what.append(f"{fmt_count(fig['events'])} events")
            if fig.get("rate") is not None:
                what[-1:] = [" ".join(what[-1:] + [f"at {fmt_rate(fig['rate'])}"])]
            kills = len(s.get("kills") or [])
            if kills:
                what.append(f"{kills} kill{'s' if kills != 1 else ''}")
            text = ", ".join(f"{n} {fmt(fig[k])}" for k, n, fmt in FIGURES[5:] if fig.get(k) is not None)
            rows.append([name, ", ".join(what) or "figures", text or "—"])
        jobs = [j for j in s.get("jobs") or [] if isinstance(j, dict)]
        for job in dict.fromkeys(j.get("job", "?") for j in jobs):
            parts = []
            for j in (j for j in jobs if j.get("job", "?") == job):
                system = j.get("system", "?")
                if j.get("error"):
                    parts.append(f"{system} not run")
                else:
                    rate = fmt_rate(j.get("eventsPerSecond"))
                    parts.append(f"**{system} {rate}**" if _is_sluice(system, j) else f"{system} {rate}")
            rows.append([name, f"job {job}", "; ".join(parts)])
    if rows:
        lines += [_table(["Scenario", "Measurement", "Figure"], rows), ""]
    goals = results.get("goals") or []
    if goals:
        lines += [_goals_table(goals), "",
                  "× goal: measured ÷ goal (goal ÷ measured for an upper bound); above 1 is better than the goal.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# --self-test

def _check_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), path
    width, height = float(root.get("width")), float(root.get("height"))
    ns = "{http://www.w3.org/2000/svg}"
    for t in root.iter(ns + "text"):
        if t.get("transform"):
            continue
        x, size, s = float(t.get("x")), float(t.get("font-size")), t.text or ""
        w = text_width(s, size, t.get("font-weight") == "bold")
        left = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor", "start")]
        assert left >= -1 and left + w <= width + 1, f"{path}: text {s!r} runs outside the {width:.0f} px width"
        assert 0 <= float(t.get("y")) <= height, f"{path}: text {s!r} below the {height:.0f} px height"


def self_test():
    assert fmt_rate(1.23e9) == "1.23 G/s", fmt_rate(1.23e9)
    assert fmt_rate(1.28e7) == "12.8 M/s", fmt_rate(1.28e7)
    assert fmt_rate(456_000) == "456 K/s", fmt_rate(456_000)
    assert fmt_rate(999_960) == "1.00 M/s", fmt_rate(999_960)
    assert fmt_rate(950) == "950 /s", fmt_rate(950)
    assert fmt_si(1e7, trim=True) == "10 M" and fmt_si(1e9, trim=True) == "1 G"
    assert (fmt_ms(0.4), fmt_ms(0.456), fmt_ms(5), fmt_ms(485), fmt_ms(1234)) == ("0.4 ms", "0.456 ms", "5 ms", "485 ms", "1,234 ms")
    assert fmt_fraction_of(1.01e8, 3.121e9) == "1/31"
    assert abs(goal_ratio({"goal": ">= 3 M events/s", "measured": "2.1 M"}) - 0.7) < 1e-9
    assert abs(goal_ratio({"goal": "p99 at 700 K/s <= 5 ms", "measured": "0.8 ms"}) - 6.25) < 1e-9
    assert abs(goal_ratio({"goal": "gap p99 ≤ 1 s", "measured": "485 ms"}) - 1 / 0.485) < 1e-9
    assert goal_ratio({"goal": "no loss", "measured": "0"}) is None

    with open(SAMPLE, encoding="utf-8") as f:
        sample = json.load(f)
    minimal = {"date": "2026-01-01"}
    ragged = {"date": "2026-01-02", "limits": {"error": "iperf3 missing"}, "goals": [{"what": "x", "met": None}],
              "scenarios": [
                  {"id": "engine", "throughput": [{"label": "only label"}, {"label": "e", "error": "crashed"},
                                                  {"label": "tiny", "eventsPerSecond": 12},
                                                  {"label": "huge", "eventsPerSecond": 4.2e9, "goal": 1e10}]},
                  {"id": "node", "latency": [{"label": "no goal", "p50Ms": 0.02, "p99Ms": 1}, {"label": "x", "error": "y"}]},
                  {"id": "failover", "timeline": [{"t": 3, "eventsPerSecond": 0}], "kills": [{"t": 3, "node": "a"}, {"t": 3, "node": "b"}]},
                  {"id": "peers", "jobs": [{"job": "filter", "system": "Flink", "error": "no JVM " * 40}]},
                  {"id": "odd", "title": "A scenario with an unknown shape", "notes": "one note as a string"},
                  "not a scenario"]}
    with tempfile.TemporaryDirectory() as tmp:
        for name, results in [("sample", sample), ("minimal", minimal), ("ragged", ragged)]:
            out = os.path.join(tmp, name)
            os.makedirs(out)
            with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
                json.dump(results, f)
            written = write_report(results, out)
            assert sorted(os.path.basename(p) for p in written) == sorted(list(PLOTS.values()) + ["report.md"]), written
            for svg in PLOTS.values():
                _check_svg(os.path.join(out, svg))
            with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
                report = f.read()
            for svg in PLOTS.values():
                if f"({svg})" in report:
                    assert os.path.exists(os.path.join(out, svg))
            assert "(results.json)" in report and "## Goals" in report
            summary = build_summary(results, f"results/{name}/report.md", f"results/{name}/results.json")
            assert summary.startswith("### Latest run")
        with open(os.path.join(tmp, "sample", "report.md"), encoding="utf-8") as f:
            report = f.read()
        for s in sample["scenarios"]:
            assert f"## {s['title']}" in report, s["title"]
            if s.get("error"):
                assert f"**Not run:** {s['error']}" in report
        for svg in PLOTS.values():
            assert f"]({svg})" in report, svg
        assert "✔" in report and "✘" in report and "not run:" in report
        summary = build_summary(sample, "results/x/report.md", "results/x/results.json")
        assert "| Issue |" in summary and "× goal" in summary
    print("report.py self-test: ok")


# ---------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="?", help="perf/results/<date>/results.json")
    p.add_argument("--out", help="directory for report.md and the SVGs (default: beside results.json)")
    p.add_argument("--summary", action="store_true", help="print a Markdown summary for perf/RESULTS.md; write nothing")
    p.add_argument("--link-base", default=PERF,
                   help="directory the --summary links are relative to (default: perf/, where RESULTS.md lives)")
    p.add_argument("--self-test", action="store_true", help="render the sample and degenerate inputs, check the output")
    args = p.parse_args(argv)
    if args.self_test:
        self_test()
        return 0
    if not args.results:
        p.error("give the results.json to report on (or --self-test)")
    try:
        with open(args.results, encoding="utf-8") as f:
            results = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        print(f"report.py: cannot read {args.results}: {e}", file=sys.stderr)
        return 2
    if not isinstance(results, dict):
        print(f"report.py: {args.results} is not a JSON object", file=sys.stderr)
        return 2
    out_dir = args.out or os.path.dirname(os.path.abspath(args.results))
    if args.summary:
        base = os.path.abspath(args.link_base)
        report = os.path.relpath(os.path.join(out_dir, "report.md"), base).replace(os.sep, "/")
        raw = os.path.relpath(os.path.abspath(args.results), base).replace(os.sep, "/")
        sys.stdout.write(build_summary(results, report, raw))
        return 0
    src = os.path.abspath(args.results)
    if os.path.abspath(os.path.join(out_dir, "results.json")) != src:
        os.makedirs(out_dir, exist_ok=True)
        shutil.copyfile(src, os.path.join(out_dir, "results.json"))  # the report links to it
    for path in write_report(results, out_dir):
        print(f"wrote {os.path.relpath(path)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
