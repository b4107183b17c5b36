"""Server-side SVG bar charts: no JavaScript, labels escaped."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 48, 56, 16


def bar_chart(title: str, labels: list[str], values: list[float], unit: str = "") -> Markup:
    """A bar chart as inline SVG with a title and a text alternative."""
    if not values:
        return Markup(f'<p class="meta">{escape(title)}: —</p>')
    top = max(values) or 1.0
    inner_w, inner_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = inner_w / len(values)
    bar_w = max(2.0, step * 0.7)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + inner_h}" x2="{WIDTH - 8}" y2="{PAD_TOP + inner_h}" stroke="#888"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 10}" text-anchor="end" font-size="11">'
        f"{escape(_fmt(top))}{escape(unit)}</text>",
    ]
    label_every = max(1, len(labels) // 12)
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        h = inner_h * (value / top)
        x = PAD_LEFT + i * step + (step - bar_w) / 2
        y = PAD_TOP + inner_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#0b5cad">'
            f"<title>{escape(label)}: {escape(_fmt(value))}{escape(unit)}</title></rect>"
        )
        if i % label_every == 0:
            short = label if len(label) <= 14 else label[:13] + "…"
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{PAD_TOP + inner_h + 14}" font-size="10" '
                f'text-anchor="end" transform="rotate(-30 {x + bar_w / 2:.1f} {PAD_TOP + inner_h + 14})">'
                f"{escape(short)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
