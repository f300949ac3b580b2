"""QR codes for printed sheets, drawn as SVG on the server (no Pillow, no browser script)."""

from __future__ import annotations

import base64
import functools

import qrcode
import qrcode.image.svg


@functools.lru_cache(maxsize=512)
def qr_svg(text: str) -> str:
    """A QR code of `text` as an SVG document (medium error correction, a 2-module quiet zone)."""
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=2,
    )
    return image.to_string(encoding="unicode")


def qr_data_uri(text: str) -> str:
    """The QR code as a data: URI for an <img> (allowed by the console's CSP: img-src data:)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text).encode("utf-8")).decode("ascii")
