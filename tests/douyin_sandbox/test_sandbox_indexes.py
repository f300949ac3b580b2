"""The sorted time index behind the windows, and the latency fault (with an injected sleep)."""

from __future__ import annotations

import random

from douyin_sandbox import Sandbox, SandboxConfig, create_sandbox_app
from douyin_sandbox.indexes import TimeIndex


def test_pages_in_both_directions_cover_the_window_exactly():
    rng = random.Random(5)
    pairs = [(rng.randrange(100), f"{i:04d}") for i in range(500)]
    index = TimeIndex()
    index.rebuild(pairs)
    window = sorted(p for p in pairs if 20 <= p[0] <= 70)
    for descending in (False, True):
        expected = [k for _, k in (reversed(window) if descending else window)]
        got, offset = [], 0
        while True:
            total, ids = index.page(20, 70, offset, 33, descending=descending)
            got += ids
            offset += 33
            if offset >= total:
                break
        assert total == len(window) and got == expected


def test_add_move_remove():
    index = TimeIndex()
    index.add(5, "a"), index.add(5, "b"), index.add(3, "c")
    assert index.window(None, None) == ["c", "a", "b"]
    index.move(5, 1, "b")
    assert index.window(None, None) == ["b", "c", "a"]
    index.remove(3, "c")
    index.remove(3, "zz")  # absent: nothing happens
    assert index.window(2, 10) == ["a"] and len(index) == 2


def test_latency_fault_sleeps_before_answering():
    slept = []
    sandbox = Sandbox(SandboxConfig(n_orders=0), sleep=slept.append)
    sandbox.faults.update({"latency_ms": 250})
    web = create_sandbox_app(sandbox=sandbox).test_client()
    answer = web.post("/token/create", data="{}").get_json()
    assert answer["code"] == 40001 and slept == [0.25]
