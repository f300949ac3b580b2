"""Render captured ESC/POS bytes as a picture of the slip (PNG): text, size, bold, inverted, red,
alignment, QR codes and CODE128 barcodes. For the demo, for IT checking a layout without paper,
and for the README. It understands the commands Shipgate's slips use; others are skipped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
RED = (200, 0, 0)
BLACK = (0, 0, 0)
WHITE = (255, 255, 255)
DOTS_PER_MM = 8


def _font(size: int) -> ImageFont.ImageFont:
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


@dataclass
class _Mode:
    chinese: bool = False
    red: bool = False
    invert: bool = False
    bold: bool = False
    align: int = 0  # 0 left, 1 centre, 2 right
    width: int = 1
    height: int = 1


@dataclass
class _Canvas:
    width: int
    rows: list[Image.Image] = field(default_factory=list)
    line: list[tuple[str, _Mode]] = field(default_factory=list)
    line_align: int = 0

    def text(self, text: str, mode: _Mode) -> None:
        if not self.line:
            self.line_align = mode.align
        self.line.append((text, _Mode(**mode.__dict__)))

    def newline(self, mode: _Mode) -> None:
        height = max([24 * m.height for _t, m in self.line] or [24 * mode.height])
        row = Image.new("RGB", (self.width, height + 6), WHITE)
        draw = ImageDraw.Draw(row)
        widths = [self._measure(t, m) for t, m in self.line]
        x = {0: 0, 1: (self.width - sum(widths)) // 2, 2: self.width - sum(widths)}[self.line_align]
        for (text, m), w in zip(self.line, widths, strict=True):
            colour = RED if m.red else BLACK
            font = _font(22 * m.height)
            if m.invert:
                draw.rectangle([x, 0, x + w, height + 5], fill=colour)
            draw.text(
                (x, 2),
                text,
                font=font,
                fill=WHITE if m.invert else colour,
                stroke_width=1 if m.bold else 0,
                stroke_fill=WHITE if m.invert else colour,
            )
            x += w
        self.rows.append(row)
        self.line = []

    def _measure(self, text: str, mode: _Mode) -> int:
        font = _font(22 * mode.height)
        return int(font.getlength(text) * mode.width / mode.height) if mode.height else 0

    def image(self, picture: Image.Image, align: int) -> None:
        if self.line:
            self.newline(_Mode())
        row = Image.new("RGB", (self.width, picture.height + 8), WHITE)
        x = {0: 0, 1: (self.width - picture.width) // 2, 2: self.width - picture.width}[align]
        row.paste(picture, (max(0, x), 4))
        self.rows.append(row)

    def cut(self) -> None:
        if self.line:
            self.newline(_Mode())
        row = Image.new("RGB", (self.width, 12), WHITE)
        ImageDraw.Draw(row).line([0, 6, self.width, 6], fill=(150, 150, 150), width=1)
        self.rows.append(row)

    def render(self) -> Image.Image:
        if self.line:
            self.newline(_Mode())
        total = sum(r.height for r in self.rows) or 1
        out = Image.new("RGB", (self.width, total), WHITE)
        y = 0
        for row in self.rows:
            out.paste(row, (0, y))
            y += row.height
        return out


def _qr(data: str, module: int) -> Image.Image:
    import qrcode

    code = qrcode.QRCode(box_size=max(2, module), border=1)
    code.add_data(data)
    return code.make_image(fill_color="black", back_color="white").convert("RGB")


def _barcode(data: str) -> Image.Image:
    import barcode
    from barcode.writer import ImageWriter

    out = io.BytesIO()
    barcode.get("code128", data, writer=ImageWriter()).write(out, {"module_height": 10, "font_size": 8})
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def render(data: bytes, width_mm: int = 80) -> Image.Image:
    """Render ESC/POS bytes (one or several slips) to an image."""
    width = 72 * DOTS_PER_MM if width_mm == 80 else 48 * DOTS_PER_MM
    canvas, mode = _Canvas(width), _Mode()
    qr_data, qr_size = "", 6
    text = bytearray()
    i = 0

    def flush_text() -> None:
        if text:
            canvas.text(bytes(text).decode("gb18030" if mode.chinese else "cp437", "replace"), mode)
            text.clear()

    while i < len(data):
        b = data[i]
        if b == 0x0A:
            flush_text()
            canvas.newline(mode)
            i += 1
        elif b == 0x1B and i + 1 < len(data):  # ESC
            flush_text()
            cmd = data[i + 1]
            arg = data[i + 2] if i + 2 < len(data) else 0
            if cmd == 0x40:  # ESC @
                mode = _Mode()
                i += 2
                continue
            if cmd == ord("r"):
                mode.red = bool(arg & 1)
            elif cmd == ord("E"):
                mode.bold = bool(arg & 1)
            elif cmd == ord("a"):
                mode.align = arg % 3
            elif cmd == ord("d"):
                for _ in range(min(arg, 10)):
                    canvas.newline(mode)
            elif cmd == ord("B"):  # buzzer: ESC B n t
                i += 4
                continue
            elif cmd == ord("!"):
                mode.bold = bool(arg & 0x08)
            elif cmd == ord("t") or cmd == ord("-") or cmd == ord("M") or cmd == ord("G") or cmd == ord("{"):
                pass
            i += 3
        elif b == 0x1C and i + 1 < len(data):  # FS
            flush_text()
            if data[i + 1] == 0x26:
                mode.chinese = True
            elif data[i + 1] == 0x2E:
                mode.chinese = False
            i += 2
        elif b == 0x1D and i + 1 < len(data):  # GS
            flush_text()
            cmd = data[i + 1]
            if cmd == ord("!"):
                n = data[i + 2]
                mode.width, mode.height = (n >> 4) + 1, (n & 0x0F) + 1
                i += 3
            elif cmd == ord("B"):
                mode.invert = bool(data[i + 2] & 1)
                i += 3
            elif cmd == ord("V"):
                canvas.cut()
                i += 3 if data[i + 2] in (0, 1, 48, 49) else 4
            elif cmd == ord("(") and data[i + 2] == ord("k"):
                length = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5 : i + 5 + length]
                if body[:3] == b"1P0":
                    qr_data = body[3:].decode("utf-8", "replace")
                elif body[:2] == b"1C":
                    qr_size = body[2]
                elif body[:3] == b"1Q0" and qr_data:
                    canvas.image(_qr(qr_data, qr_size), mode.align)
                i += 5 + length
            elif cmd == ord("k"):
                m = data[i + 2]
                if m >= 65:  # GS k m n data
                    n = data[i + 3]
                    payload = data[i + 4 : i + 4 + n].decode("ascii", "replace")
                    i += 4 + n
                else:  # GS k m data NUL
                    end = data.index(0, i + 3)
                    payload = data[i + 3 : end].decode("ascii", "replace")
                    i = end + 1
                canvas.image(
                    _barcode(payload.removeprefix("{B").removeprefix("{A").removeprefix("{C")), mode.align
                )
            elif cmd in (ord("h"), ord("w"), ord("H"), ord("f"), ord("L"), ord("W")):
                i += 3 if cmd in (ord("h"), ord("w"), ord("H"), ord("f")) else 4
            else:
                i += 2
        else:
            if b >= 0x20 or b >= 0x80:
                text.append(b)
            i += 1
    flush_text()
    return canvas.render()


def save_png(data: bytes, path: str | Path, width_mm: int = 80) -> Path:
    path = Path(path)
    render(data, width_mm).save(path, "PNG")
    return path
