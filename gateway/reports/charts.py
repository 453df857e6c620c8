"""Small bar charts drawn on the server without heavy libraries: inline SVG for pages, PNG for e-mail.

The PNG writer is a few lines of ``zlib`` and ``struct`` (no Pillow, no matplotlib on the Pi); e-mail
clients that refuse SVG show PNG. Labels live in the HTML around the PNG, so it needs no fonts.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from html import escape

Colour = tuple[int, int, int]
BAR: Colour = (47, 111, 178)
ALERT: Colour = (214, 92, 52)
GRID: Colour = (222, 226, 230)
AXIS: Colour = (120, 128, 136)
WHITE: Colour = (255, 255, 255)


def _hex(c: Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def bars_svg(values: Sequence[float], labels: Sequence[str], *, width: int = 640, height: int = 180,
             highlight: Sequence[bool] | None = None, unit: str = "", title: str = "") -> str:
    """An inline ``<svg>`` bar chart with value labels on top and ``labels`` under the bars."""
    n = max(1, len(values))
    top = max([v for v in values if v > 0], default=1.0)
    pad_l, pad_r, pad_t, pad_b = 8, 8, 24, 28
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.7)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for i in range(1, 4):
        y = pad_t + plot_h * i / 4
        parts.append(f'<line x1="{pad_l}" y1="{y:.1f}" x2="{width - pad_r}" y2="{y:.1f}" stroke="{_hex(GRID)}"/>')
    small = n > 12
    for i, v in enumerate(values):
        h = plot_h * (max(v, 0.0) / top)
        x = pad_l + i * slot + (slot - bar_w) / 2
        y = pad_t + plot_h - h
        colour = ALERT if highlight and i < len(highlight) and highlight[i] else BAR
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{_hex(colour)}">'
                     f"<title>{escape(labels[i] if i < len(labels) else '')}: {v:,.2f} {escape(unit)}</title></rect>")
        if not small:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" font-size="17" '
                         f'fill="#333">{v:,.1f}</text>')
        if i < len(labels) and (not small or i % 3 == 0):
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="17" '
                         f'fill="#555">{escape(labels[i])}</text>')
    base = pad_t + plot_h
    parts.append(f'<line x1="{pad_l}" y1="{base}" x2="{width - pad_r}" y2="{base}" stroke="{_hex(AXIS)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def bars_png(values: Sequence[float], *, width: int = 560, height: int = 160,
             highlight: Sequence[bool] | None = None) -> bytes:
    """A PNG bar chart (RGB), bars scaled to the largest value, with grid lines and a base line."""
    px = bytearray(bytes(WHITE) * (width * height))

    def fill(x0: int, y0: int, x1: int, y1: int, c: Colour) -> None:
        x0, x1 = max(0, x0), min(width, x1)
        y0, y1 = max(0, y0), min(height, y1)
        row = bytes(c) * max(0, x1 - x0)
        for y in range(y0, y1):
            i = (y * width + x0) * 3
            px[i:i + len(row)] = row

    pad = 6
    plot_h = height - 2 * pad
    for i in range(1, 4):
        y = pad + plot_h * i // 4
        fill(pad, y, width - pad, y + 1, GRID)
    n = max(1, len(values))
    top = max([v for v in values if v > 0], default=1.0)
    slot = (width - 2 * pad) / n
    bar_w = max(1, int(slot * 0.7))
    for i, v in enumerate(values):
        h = round(plot_h * max(v, 0.0) / top)
        x = int(pad + i * slot + (slot - bar_w) / 2)
        colour = ALERT if highlight and i < len(highlight) and highlight[i] else BAR
        fill(x, pad + plot_h - h, x + bar_w, pad + plot_h, colour)
    fill(pad, pad + plot_h, width - pad, pad + plot_h + 1, AXIS)
    return encode_png(width, height, bytes(px))


def encode_png(width: int, height: int, rgb: bytes) -> bytes:
    """Encode raw RGB rows as a PNG file."""
    if len(rgb) != width * height * 3:
        raise ValueError(f"expected {width * height * 3} bytes of RGB, got {len(rgb)}")
    stride = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride:(y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
