"""`make demo` runs the whole flow: exercised here headless, for one bounded scripted shift."""

from __future__ import annotations

from liveserver import free_port
from test_station_preview import red_pixels

from server.demo import DemoOptions, run


def test_the_scripted_shift(tmp_path):
    lines: list[str] = []
    options = DemoOptions(
        port=free_port(),
        sandbox_port=free_port(),
        output=tmp_path / "demo",
        exit_after_shift=True,
        say=lines.append,
    )
    shift = run(options)
    outcomes = [(decision, reason) for _label, decision, reason in shift.scans]
    assert outcomes[:3] == [("PASS", "clear")] * 3
    assert ("BLOCK", "refunded") in outcomes
    assert ("HOLD", "refund_pending") in outcomes
    assert ("HOLD", "partial_refund") in outcomes
    assert ("HOLD", "invalid_code") in outcomes
    assert outcomes[-2:] == [("HOLD", "awaiting_resolution"), ("PASS", "exception_cleared")]
    names = [path.name for path in shift.slips]
    assert len(names) == 4 and all(
        path.exists() for path in shift.slips
    )  # BLOCK and HOLDs; a PASS prints none
    from PIL import Image

    block = next(path for path in shift.slips if "block-refunded" in path.name)
    assert red_pixels(Image.open(block)) > 5_000
    hold = next(path for path in shift.slips if "hold-invalid_code" in path.name)
    assert red_pixels(Image.open(hold)) == 0
    # The inline gate: the packing PC got exactly the four passed codes, never the refunded one.
    passed = [label for label, decision, reason in shift.scans if (decision, reason) == ("PASS", "clear")]
    assert len(passed) == len(shift.waybills) == 4
    assert "the refunded order's code never arrived" in "\n".join(lines)
    text = "\n".join(lines)
    assert "控制台 console" in text and shift.lead_password in text
    assert shift.incidents == 1  # the refund that succeeded right after the pass
