#!/usr/bin/python3
"""Renders the HTML report of `make demo` from JSON sections.

Usage: render.py [SECTIONS.jsonl ...] > report.html   (standard input if no file)

Input: a sequence of JSON objects, one per report section, as the
test/demo/html/NN_<family>.sql files print them with psql -At.  Each has a
"kind" (header, kpis, line, bar, waterfall, heatmap, table, forest; see README.md in
this directory).  Output: one self-contained HTML file, inline CSS and SVG,
no script and nothing fetched from the network.

Numbers are printed exactly as the JSON carries them (the SQL rounds them),
so that every figure on the page is the one PostgreSQL computed; the floats
are used only for the geometry.  Python standard library only.
"""
import decimal
import html
import json
import math
import sys

PALETTE = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2"]
WIDTH = 920
HEIGHT = 300


def esc(v):
    return html.escape(str(v), quote=True)


def num(v):
    """The float of a JSON number (or of a numeric string), None for null."""
    if v is None:
        return None
    return float(v)


def show(v, thousands=False):
    """A value as the SQL wrote it: 14.2 stays 14.2, never 14.200000001;
    thousands: with separators (1,793,768), the digits unchanged."""
    if v is None:
        return ""
    if thousands and isinstance(v, (int, decimal.Decimal)) and not isinstance(v, bool):
        return format(v, ",")
    return str(v)


def fail(msg):
    sys.stderr.write("render.py: %s\n" % msg)
    sys.exit(1)


def nice_ticks(lo, hi, count=6):
    """Round tick values covering [lo, hi]."""
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    first = math.floor(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def tick_text(t, scale=1.0):
    """An axis tick; large axes in thousands (k) or millions (M)."""
    if scale >= 1e6:
        return "%gM" % round(t / 1e6, 6)
    if scale >= 1e4:
        return "%gk" % round(t / 1e3, 3)
    return ("%d" % t) if float(t).is_integer() else ("%g" % t)


class Frame:
    """Plot area with a linear y axis and categorical or numeric x."""

    def __init__(self, ys, y_min=None, y_max=None, left=60, right=20, top=18, bottom=42,
                 height=HEIGHT, zero=False):
        ys = [y for y in ys if y is not None]
        lo = min(ys) if ys else 0.0
        hi = max(ys) if ys else 1.0
        if zero:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        pad = (hi - lo) * 0.06 or 1.0
        lo = lo - pad if not zero or lo < 0 else lo
        hi = hi + pad
        # y_min and y_max bound the axis (e.g. 0 and 100 for percentages)
        if y_min is not None:
            lo = max(lo, float(y_min))
        if y_max is not None:
            hi = min(hi, float(y_max))
        self.ticks = nice_ticks(lo, hi)
        self.lo, self.hi = self.ticks[0], self.ticks[-1]
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.height = height
        self.pw = WIDTH - left - right
        self.ph = height - top - bottom

    def y(self, v):
        return self.top + self.ph * (1 - (v - self.lo) / (self.hi - self.lo))

    def grid(self, y_label):
        out = []
        for t in self.ticks:
            yy = self.y(t)
            out.append('<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>'
                       % (self.left, WIDTH - self.right, yy, yy))
            out.append('<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>'
                       % (self.left - 6, yy + 4, esc(tick_text(t, max(abs(self.lo), abs(self.hi))))))
        if self.lo < 0 < self.hi:
            yy = self.y(0)
            out.append('<line class="zero" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>'
                       % (self.left, WIDTH - self.right, yy, yy))
        if y_label:
            out.append('<text class="axis" transform="translate(14 %.1f) rotate(-90)" text-anchor="middle">%s</text>'
                       % (self.top + self.ph / 2, esc(y_label)))
        return out


def svg(height, body, label):
    return ('<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s" '
            'xmlns="http://www.w3.org/2000/svg">%s</svg>' % (WIDTH, height, esc(label), "".join(body)))


def x_labels(xs, pos, frame):
    out = []
    every = max(1, math.ceil(len(xs) / 14))
    for i, x in enumerate(xs):
        if i % every == 0 or i == len(xs) - 1 and len(xs) <= 14:
            out.append('<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                       % (pos(i), frame.height - frame.bottom + 18, esc(show(x))))
    return out


def legend(items):
    """items: (kind, color, name) with kind line, band or box"""
    out = ['<div class="legend">']
    for kind, color, name in items:
        out.append('<span class="key"><span class="swatch %s" style="--c:%s"></span>%s</span>'
                   % (kind, color, esc(name)))
    out.append("</div>")
    return "".join(out)


def render_line(s):
    xs = s.get("x") or fail("line section %r has no x" % s.get("title"))
    series = s.get("series") or []
    numeric_x = all(isinstance(x, (int, float, decimal.Decimal)) for x in xs)
    stack = bool(s.get("stack"))
    ys = [0.0] if stack else []
    base = [0.0] * len(xs)
    bases = []
    for se in series:
        if stack:
            # stacked areas: each series on top of the ones before it
            vals = se.get("values") or []
            if len(vals) != len(xs):
                fail("line section %r: values has %d values for %d x" % (s.get("title"), len(vals), len(xs)))
            bases.append(base)
            base = [b + (num(v) or 0.0) for b, v in zip(base, vals)]
            ys += base
            continue
        for key in ("values", "lower", "upper"):
            vals = se.get(key)
            if vals is None:
                continue
            if len(vals) != len(xs):
                fail("line section %r: %s has %d values for %d x" % (s.get("title"), key, len(vals), len(xs)))
            ys += [num(v) for v in vals]
    f = Frame(ys, s.get("y_min"), s.get("y_max"))
    if numeric_x:
        x_lo, x_hi = float(min(xs)), float(max(xs))
        span = (x_hi - x_lo) or 1.0

        def pos(i):
            return f.left + f.pw * (float(xs[i]) - x_lo) / span
    else:
        def pos(i):
            return f.left + f.pw * (i + 0.5) / len(xs)
    body = f.grid(s.get("y_label"))
    if numeric_x:
        for t in nice_ticks(float(min(xs)), float(max(xs)), 8):
            if float(min(xs)) <= t <= float(max(xs)):
                xx = f.left + f.pw * (t - x_lo) / span
                body.append('<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                            % (xx, f.height - f.bottom + 18, tick_text(t)))
        if s.get("x_label"):
            body.append('<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                        % (f.left + f.pw / 2, f.height - 4, esc(s["x_label"])))
    else:
        body += x_labels(xs, pos, f)
    step = bool(s.get("step"))
    keys = []
    for k, se in enumerate(series):
        color = se.get("color") or PALETTE[k % len(PALETTE)]
        vals = [num(v) for v in se.get("values", [])]
        lower, upper = se.get("lower"), se.get("upper")
        if stack:
            below = bases[k]
            vals = [b + (v or 0.0) for b, v in zip(below, vals)]
            top = path_points([(pos(i), f.y(vals[i])) for i in range(len(xs))], step)
            bot = path_points([(pos(i), f.y(below[i])) for i in reversed(range(len(xs)))], step, reverse=True)
            body.append('<polygon class="area" fill="%s" points="%s"/>'
                        % (color, " ".join("%.1f,%.1f" % p for p in top + bot)))
        if lower is not None and upper is not None:
            lo = [num(v) for v in lower]
            hi = [num(v) for v in upper]
            for seg in segments([i for i in range(len(xs)) if lo[i] is not None and hi[i] is not None]):
                top = path_points([(pos(i), f.y(hi[i])) for i in seg], step)
                bot = path_points([(pos(i), f.y(lo[i])) for i in reversed(seg)], step, reverse=True)
                body.append('<polygon class="band" fill="%s" points="%s"/>'
                            % (color, " ".join("%.1f,%.1f" % p for p in top + bot)))
        draw_line = se.get("line", True)
        for seg in segments([i for i in range(len(xs)) if vals[i] is not None]) if draw_line else []:
            pts = path_points([(pos(i), f.y(vals[i])) for i in seg], step)
            body.append('<polyline class="line" stroke="%s" points="%s"/>'
                        % (color, " ".join("%.1f,%.1f" % p for p in pts)))
        raw = se.get("values", [])
        counts = se.get("counts")
        for i, v in enumerate(vals):
            if v is None:
                continue
            tip = "%s %s: %s" % (se.get("name", ""), show(xs[i]), show(raw[i]))
            if lower is not None and upper is not None and lower[i] is not None:
                tip += " (%s to %s)" % (show(lower[i]), show(upper[i]))
            if counts is not None:
                tip += ", n = %s" % show(counts[i])
            if se.get("markers", True) and (not step or len(xs) <= 40):
                body.append('<circle class="point" cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>'
                            % (pos(i), f.y(v), color, esc(tip)))
            else:
                body.append('<g class="point"><title>%s</title></g>' % esc(tip))
            if s.get("labels"):
                body.append('<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                            % (pos(i), f.y(v) - 8, esc(show(raw[i]))))
        keys.append(("box" if stack else "line" if draw_line else "dot", color, se.get("name", "")))
        if lower is not None:
            keys.append(("band", color, se.get("band_name", se.get("name", "") + " interval")))
    return svg(f.height, body, s.get("title", "")) + legend(keys)


def segments(idx):
    """Splits sorted indexes into runs of consecutive ones (gaps at nulls)."""
    runs, cur = [], []
    for i in idx:
        if cur and i != cur[-1] + 1:
            runs.append(cur)
            cur = []
        cur.append(i)
    if cur:
        runs.append(cur)
    return runs


def path_points(pts, step, reverse=False):
    """The vertices of a polyline; for a step function (survival curves) the
    value holds until the next x.  reverse: pts run right to left."""
    if not step or len(pts) < 2:
        return pts
    out = [pts[0]]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        out += [(x0, y1), (x1, y1)] if reverse else [(x1, y0), (x1, y1)]
    return out


def render_bar(s):
    cats = s.get("categories") or fail("bar section %r has no categories" % s.get("title"))
    series = s.get("series") or []
    ys = [0.0]
    for se in series:
        for key in ("values", "lower", "upper"):
            if se.get(key) is not None:
                if len(se[key]) != len(cats):
                    fail("bar section %r: %s has %d values for %d categories"
                         % (s.get("title"), key, len(se[key]), len(cats)))
                ys += [num(v) for v in se[key]]
    f = Frame(ys, s.get("y_min"), s.get("y_max"), zero=True)
    body = f.grid(s.get("y_label"))
    group = f.pw / len(cats)
    bw = min(64.0, group * 0.7 / max(1, len(series)))
    colors = s.get("colors")
    sep = bool(s.get("thousands"))
    for k, se in enumerate(series):
        for i, v in enumerate(se.get("values", [])):
            if v is None:
                continue
            x0 = f.left + group * i + (group - bw * len(series)) / 2 + bw * k
            y0, y1 = sorted((f.y(0), f.y(num(v))))
            color = colors[i] if colors else se.get("color") or PALETTE[k % len(PALETTE)]
            tip = "%s %s: %s" % (se.get("name", ""), show(cats[i]), show(v, sep))
            lo, hi = (se.get("lower") or [None] * len(cats))[i], (se.get("upper") or [None] * len(cats))[i]
            if lo is not None and hi is not None:
                tip += " (%s to %s)" % (show(lo), show(hi))
            body.append('<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>'
                        % (x0, y0, bw, max(y1 - y0, 0.5), color, esc(tip)))
            label_y = f.y(num(v)) - 6 if num(v) >= 0 else f.y(num(v)) + 14
            if lo is not None and hi is not None:
                cx, ylo, yhi = x0 + bw / 2, f.y(num(lo)), f.y(num(hi))
                body.append('<path class="whisker" d="M%.1f %.1fV%.1fM%.1f %.1fh%.1fM%.1f %.1fh%.1f"/>'
                            % (cx, ylo, yhi, cx - 6, ylo, 12, cx - 6, yhi, 12))
                body.append('<text class="label" x="%.1f" y="%.1f" text-anchor="start">%s</text>'
                            % (x0 + bw + 3, f.y(num(v)) + 4, esc(show(v, sep))))
            else:
                body.append('<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                            % (x0 + bw / 2, label_y, esc(show(v, sep))))
    for i, c in enumerate(cats):
        body.append('<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                    % (f.left + group * (i + 0.5), f.height - f.bottom + 18, esc(show(c))))
    keys = [] if len(series) < 2 else [("box", se.get("color") or PALETTE[k % len(PALETTE)], se.get("name", ""))
                                       for k, se in enumerate(series)]
    return svg(f.height, body, s.get("title", "")) + (legend(keys) if keys else "")


def render_waterfall(s):
    steps = s.get("steps") or fail("waterfall section %r has no steps" % s.get("title"))
    # "zero": false lets the axis start near the smallest total (a zoomed
    # bridge): totals are then drawn from the bottom of the axis
    zero = bool(s.get("zero", True))
    running, spans = 0.0, []
    for st in steps:
        v = num(st.get("value"))
        if st.get("total"):
            spans.append((None, v))
            running = v
        else:
            spans.append((running, running + v))
            running += v
    ys = [a for sp in spans for a in sp if a is not None] + ([0.0] if zero else [])
    f = Frame(ys, s.get("y_min"), s.get("y_max"), zero=zero)
    body = f.grid(s.get("y_label"))
    group = f.pw / len(steps)
    bw = min(80.0, group * 0.6)
    sep = bool(s.get("thousands"))
    for i, (st, (a, b)) in enumerate(zip(steps, spans)):
        if a is None:
            a = 0.0 if zero else f.lo
        x0 = f.left + group * i + (group - bw) / 2
        y0, y1 = sorted((f.y(a), f.y(b)))
        v = num(st.get("value"))
        color = "#2563eb" if st.get("total") else ("#16a34a" if v >= 0 else "#dc2626")
        text = show(st.get("display", st.get("value")), sep)
        if not st.get("total") and v >= 0 and not text.startswith("+"):
            text = "+" + text
        body.append('<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>'
                    % (x0, y0, bw, max(y1 - y0, 0.5), color, esc(st.get("label", "")), esc(text)))
        body.append('<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                    % (x0 + bw / 2, y0 - 6, esc(text)))
        if i + 1 < len(steps):
            yy = f.y(b)
            body.append('<line class="connector" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>'
                        % (x0 + bw, x0 + group, yy, yy))
        body.append('<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                    % (f.left + group * (i + 0.5), f.height - f.bottom + 18, esc(st.get("label", ""))))
    return svg(f.height, body, s.get("title", ""))


def heat_color(t):
    """White to deep blue for t in [0, 1]."""
    t = max(0.0, min(1.0, t))
    r = round(255 + (30 - 255) * t)
    g = round(255 + (64 - 255) * t)
    b = round(255 + (175 - 255) * t)
    return "rgb(%d,%d,%d)" % (r, g, b), ("#fff" if t > 0.55 else "#111")


def render_heatmap(s):
    rows, cols, vals = s.get("rows"), s.get("columns"), s.get("values")
    if not rows or not cols or vals is None or len(vals) != len(rows):
        fail("heatmap section %r needs rows, columns and one values row per row" % s.get("title"))
    flat = [num(v) for r in vals for v in r if v is not None]
    lo = num(s.get("min")) if s.get("min") is not None else (min(flat) if flat else 0.0)
    hi = num(s.get("max")) if s.get("max") is not None else (max(flat) if flat else 1.0)
    out = ['<div class="scroll"><table class="heatmap"><thead><tr><th>%s</th>' % esc(s.get("row_header", ""))]
    out += ["<th>%s</th>" % esc(show(c)) for c in cols]
    out.append("</tr></thead><tbody>")
    for r, row in zip(rows, vals):
        if len(row) != len(cols):
            fail("heatmap section %r: row %r has %d values for %d columns" % (s.get("title"), r, len(row), len(cols)))
        out.append("<tr><th>%s</th>" % esc(show(r)))
        for c, v in zip(cols, row):
            if v is None:
                out.append('<td class="empty"></td>')
            else:
                bg, fg = heat_color((num(v) - lo) / ((hi - lo) or 1.0))
                out.append('<td style="background:%s;color:%s" title="%s %s: %s">%s</td>'
                           % (bg, fg, esc(show(r)), esc(show(c)), esc(show(v)), esc(show(v))))
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def render_table(s):
    cols = s.get("columns") or fail("table section %r has no columns" % s.get("title"))
    cols = [c if isinstance(c, dict) else {"name": c} for c in cols]
    out = ['<div class="scroll"><table class="data"><thead><tr>']
    out += ['<th class="%s">%s</th>' % (esc(c.get("align", "left")), esc(c["name"])) for c in cols]
    out.append("</tr></thead><tbody>")
    for row in s.get("rows", []):
        if len(row) != len(cols):
            fail("table section %r: a row has %d values for %d columns" % (s.get("title"), len(row), len(cols)))
        out.append("<tr>")
        for c, v in zip(cols, row):
            align = c.get("align", "right" if isinstance(v, (int, float, decimal.Decimal)) else "left")
            out.append('<td class="%s">%s</td>' % (esc(align), esc(show(v))))
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def render_kpis(s):
    out = ['<div class="kpis">']
    for it in s.get("items", []):
        out.append('<div class="kpi"><div class="kpi-label">%s</div><div class="kpi-value">%s</div>'
                   '<div class="kpi-detail">%s</div></div>'
                   % (esc(it.get("label", "")), esc(show(it.get("value"))), esc(it.get("detail", ""))))
    out.append("</div>")
    return "".join(out)


def log_ticks(lo, hi):
    """Round ticks (1, 2, 5 per decade) covering [lo, hi] on a log axis,
    widened to at least one tick either side of 1."""
    lo, hi = min(lo, 1.0), max(hi, 1.0)
    ticks = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            ticks.append(round(m * 10 ** e, 12))
    below = [t for t in ticks if t <= lo]
    above = [t for t in ticks if t >= hi]
    first = below[-1] if below else ticks[0]
    last = above[0] if above else ticks[-1]
    return [t for t in ticks if first <= t <= last]


def render_forest(s):
    """A forest plot: one row per item, its estimate (a square) and interval
    (a line) on a log scale, with a reference line at 1 (no effect)."""
    rows = s.get("rows") or fail("forest section %r has no rows" % s.get("title"))
    vals = []
    for r in rows:
        for key in ("value", "lower", "upper"):
            v = num(r.get(key))
            if v is None or v <= 0:
                fail("forest section %r: row %r needs a positive %s, got %r"
                     % (s.get("title"), r.get("label"), key, r.get(key)))
            vals.append(v)
        if not num(r["lower"]) <= num(r["value"]) <= num(r["upper"]):
            fail("forest section %r: row %r: value outside its interval" % (s.get("title"), r.get("label")))
    ticks = log_ticks(min(vals), max(vals))
    llo, lhi = math.log(ticks[0]), math.log(ticks[-1])
    label_w, text_w, row_h, top, bottom = 230, 190, 34, 30, 40
    pw = WIDTH - label_w - text_w - 20
    height = top + row_h * len(rows) + bottom

    def x(v):
        return label_w + pw * (math.log(v) - llo) / (lhi - llo)

    body = []
    for t in ticks:
        body.append('<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>'
                    % (x(t), x(t), top, height - bottom))
        body.append('<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                    % (x(t), height - bottom + 16, esc("%g" % t)))
    body.append('<line class="ref" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>'
                % (x(1.0), x(1.0), top - 24, height - bottom))
    if s.get("x_label"):
        body.append('<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                    % (label_w + pw / 2, height - 8, esc(s["x_label"])))
    if s.get("left_label"):
        body.append('<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>'
                    % (x(1.0) - 8, top - 12, esc(s["left_label"])))
    if s.get("right_label"):
        body.append('<text class="axis" x="%.1f" y="%.1f" text-anchor="start">%s</text>'
                    % (x(1.0) + 8, top - 12, esc(s["right_label"])))
    for i, r in enumerate(rows):
        yy = top + row_h * (i + 0.5)
        v, lo, hi = num(r["value"]), num(r["lower"]), num(r["upper"])
        color = r.get("color") or ("#16a34a" if hi < 1 else "#dc2626" if lo > 1 else "#6b7280")
        text = "%s (%s to %s)" % (show(r["value"]), show(r["lower"]), show(r["upper"]))
        tip = "%s: %s" % (r.get("label", ""), text)
        if r.get("detail"):
            tip += ", " + r["detail"]
        body.append('<text class="rowlabel" x="%.1f" y="%.1f" text-anchor="end">%s</text>'
                    % (label_w - 14, yy + 4, esc(r.get("label", ""))))
        body.append('<g class="estimate"><title>%s</title>' % esc(tip))
        body.append('<path class="whisker" style="stroke:%s" d="M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f"/>'
                    % (color, x(lo), yy, x(hi), x(lo), yy - 5, yy + 5, x(hi), yy - 5, yy + 5))
        body.append('<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>' % (x(v) - 5, yy - 5, color))
        body.append("</g>")
        body.append('<text class="label" x="%.1f" y="%.1f" text-anchor="start">%s</text>'
                    % (WIDTH - text_w, yy + 4, esc(text + (" · " + r["detail"] if r.get("detail") else ""))))
    return svg(height, body, s.get("title", ""))


RENDERERS = {
    "line": render_line,
    "bar": render_bar,
    "waterfall": render_waterfall,
    "heatmap": render_heatmap,
    "table": render_table,
    "kpis": render_kpis,
    "forest": render_forest,
}

CSS = """
:root { --ink: #111827; --muted: #6b7280; --rule: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
       color: var(--ink); background: #f3f4f6; }
header { background: #1e3a8a; color: #fff; padding: 24px 40px 20px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; opacity: .85; }
main { max-width: 1000px; margin: 0 auto; padding: 20px 20px 8px; }
section { background: #fff; border: 1px solid var(--rule); border-radius: 8px;
          padding: 16px 20px 12px; margin: 0 0 20px; }
section h2 { margin: 0 0 2px; font-size: 17px; }
.sub { margin: 0 0 10px; color: var(--muted); font-size: 13px; }
.note { margin: 6px 0 0; color: var(--muted); font-size: 12px; }
svg.chart { display: block; height: auto; }
svg .grid { stroke: var(--rule); stroke-width: 1; }
svg .zero { stroke: #9ca3af; stroke-width: 1; }
svg .tick { fill: var(--muted); font-size: 11px; }
svg .axis { fill: var(--muted); font-size: 12px; }
svg .label { fill: var(--ink); font-size: 10px; }
svg .line { fill: none; stroke-width: 2; }
svg .band { fill-opacity: .16; stroke: none; }
svg .area { fill-opacity: .55; stroke: none; }
svg .whisker { stroke: #374151; stroke-width: 1.5; fill: none; }
svg .connector { stroke: #9ca3af; stroke-dasharray: 3 3; }
svg .ref { stroke: #374151; stroke-width: 1.2; stroke-dasharray: 4 3; }
svg .rowlabel { fill: var(--ink); font-size: 12px; }
.legend { display: flex; gap: 18px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.key { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 18px; height: 10px; }
.swatch.line { height: 3px; background: var(--c); }
.swatch.band { background: var(--c); opacity: .25; }
.swatch.box { background: var(--c); }
.swatch.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--c); }
.kpis { display: grid; gap: 14px; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); }
.kpi { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; }
.kpi-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi-value { font-size: 28px; font-weight: bold; }
.kpi-detail { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12px; }
table.data { width: 100%; }
table.data th, table.data td { padding: 4px 8px; border-bottom: 1px solid var(--rule); }
table.heatmap td, table.heatmap th { padding: 4px 6px; text-align: center; min-width: 42px; }
table.heatmap tbody th { text-align: left; white-space: nowrap; }
table.heatmap td.empty { background: #fafafa; }
.left { text-align: left; } .right { text-align: right; } .center { text-align: center; }
footer { max-width: 1000px; margin: 0 auto; padding: 0 20px 24px; color: var(--muted); font-size: 12px; }
"""


def read_sections(texts):
    dec = json.JSONDecoder(parse_float=decimal.Decimal)
    sections = []
    for text in texts:
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            obj, pos = dec.raw_decode(text, pos)
            items = obj if isinstance(obj, list) else [obj]
            for it in items:
                if not isinstance(it, dict) or "kind" not in it:
                    fail("a section must be a JSON object with a kind: %r" % (it,))
                sections.append(it)
    return sections


def render(sections):
    title, subtitle = "Customer success report", ""
    footer = None
    body = []
    for s in sections:
        kind = s["kind"]
        if kind == "header":
            title = s.get("title", title)
            subtitle = s.get("subtitle", "")
            footer = s.get("footer") or ("Every number on this page was computed in PostgreSQL by %s "
                                         "(test/demo/html/*.sql); this file needs no network access."
                                         % s.get("generated_by", "customer_success"))
            continue
        if kind not in RENDERERS:
            fail("unknown section kind %r (known: header, %s)" % (kind, ", ".join(sorted(RENDERERS))))
        body.append('<section id="%s" class="section-%s">' % (esc(s.get("id", "")), esc(kind)))
        if s.get("title"):
            body.append("<h2>%s</h2>" % esc(s["title"]))
        if s.get("subtitle"):
            body.append('<p class="sub">%s</p>' % esc(s["subtitle"]))
        body.append(RENDERERS[kind](s))
        if s.get("note"):
            body.append('<p class="note">%s</p>' % esc(s["note"]))
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>%s</title><style>%s</style></head><body>"
            "<header><h1>%s</h1><p>%s</p></header><main>%s</main>"
            "<footer>%s</footer></body></html>\n"
            % (esc(title), CSS, esc(title), esc(subtitle), "".join(body), esc(footer or "")))


def main():
    if len(sys.argv) > 1:
        texts = []
        for p in sys.argv[1:]:
            with open(p, encoding="utf-8") as f:
                texts.append(f.read())
    else:
        texts = [sys.stdin.read()]
    sys.stdout.write(render(read_sections(texts)))


if __name__ == "__main__":
    main()
