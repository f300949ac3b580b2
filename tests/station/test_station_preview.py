"""The slip preview renders what the printer would: red where ESC r 1 is, none elsewhere."""

from __future__ import annotations

from test_station_printing import BLOCK, CTX, HOLD, PASS

from station.preview import render as preview
from station.printer import render
from station.slips import SlipContext, block_slip, hold_slip, pass_slip


def pixels(image):
    data = image.convert("RGB").tobytes()
    return zip(data[0::3], data[1::3], data[2::3], strict=True)


def red_pixels(image) -> int:
    return sum(1 for r, g, b in pixels(image) if r > 150 and g < 80 and b < 80)


def test_block_slip_preview_is_red_at_the_top():
    image = preview(render(block_slip(BLOCK, CTX)))
    top = image.crop((0, 0, image.width, image.height // 4))
    assert red_pixels(top) > 5_000  # the inverted 已退款 banner


def test_black_only_block_slip_is_still_a_black_banner():
    image = preview(render(block_slip(BLOCK, SlipContext("A-01", None, "t", 80, red=False, buzzer=False))))
    assert red_pixels(image) == 0
    top = image.crop((0, 0, image.width, image.height // 4))
    dark = sum(1 for r, g, b in pixels(top) if r < 60 and g < 60 and b < 60)
    assert dark > 5_000


def test_hold_and_pass_slips_have_no_red():
    assert red_pixels(preview(render(hold_slip(HOLD, CTX)))) == 0
    assert red_pixels(preview(render(pass_slip(PASS, CTX)))) == 0


def test_58mm_paper_is_narrower():
    narrow = preview(
        render(block_slip(BLOCK, SlipContext("A-01", None, "t", 58, red=True, buzzer=False))), 58
    )
    wide = preview(render(block_slip(BLOCK, CTX)), 80)
    assert narrow.width < wide.width
