"""The loss ledger: amounts in fen, net loss, totals per month and warehouse, input checks."""

from __future__ import annotations

import pytest

from server.incidents.ledger import Ledger, parse_ledger, parse_yuan, total, totals_by, updated, yuan


def test_net_loss_is_costs_less_what_came_back():
    entry = Ledger(goods_value=15900, return_freight=1200, compensation=1000, coupon=500, claim_recovered=0,
                   written_off=0)  # fmt: skip
    assert entry.net_loss == 1200 + 1000 + 500 == 2700
    kept = Ledger(goods_value=15900, coupon=1000, written_off=15900, claim_recovered=15900)  # buyer paid back
    assert kept.net_loss == 1000
    lost = Ledger(goods_value=8900, return_freight=800, written_off=8900, claim_recovered=5000)
    assert lost.net_loss == 800 + 8900 - 5000 == 4700


def test_totals_per_month_and_warehouse():
    rows = [
        (("2026-11", "华东仓"), Ledger(return_freight=1200, written_off=8900)),
        (("2026-11", "华东仓"), Ledger(coupon=500, claim_recovered=300)),
        (("2026-11", "华南仓"), Ledger(compensation=1000)),
        (("2026-10", "华东仓"), Ledger(return_freight=600)),
    ]
    sums = totals_by(rows)
    assert sums[("2026-11", "华东仓")].net_loss == 1200 + 8900 + 500 - 300 == 10300
    assert sums[("2026-11", "华南仓")].net_loss == 1000
    assert sums[("2026-10", "华东仓")].net_loss == 600
    assert total(ledger for _key, ledger in rows).net_loss == 10300 + 1000 + 600
    by_month = totals_by((month, ledger) for (month, _house), ledger in rows)
    assert by_month["2026-11"].as_dict()["net_loss"] == 11300


@pytest.mark.parametrize(
    ("text", "fen"),
    [("12", 1200), ("12.5", 1250), ("12.05", 1205), ("0.01", 1), ("", 0), ("¥1,234.50", 123450)],
)
def test_yuan_as_typed_becomes_fen(text, fen):
    assert parse_yuan(text, "金额") == fen
    assert parse_yuan(yuan(fen), "金额") == fen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", "不能为负数"),
        ("12.345", "最多两位小数"),
        ("abc", "请填写金额"),
        ("1e3", "请填写金额"),
        ("9999999999", "请填写金额"),
    ],
)
def test_bad_amounts_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_yuan(text, "运费")


def test_a_form_with_any_bad_field_gives_no_ledger():
    ledger, errors = parse_ledger({"return_freight": "12", "coupon": "-1", "written_off": "x"})
    assert ledger is None and set(errors) == {"coupon", "written_off"}
    values, errors = parse_ledger({"return_freight": "12", "coupon": "5", "written_off": ""})
    assert errors == {} and values == {"return_freight": 1200, "coupon": 500, "written_off": 0}
    assert updated(Ledger(goods_value=8900, written_off=100), values) == Ledger(
        goods_value=8900, return_freight=1200, coupon=500
    )  # what the form did not send stays as it was


@pytest.mark.parametrize("bad", [-1, 1.5, "100", True, None])
def test_the_ledger_holds_only_non_negative_integers(bad):
    with pytest.raises((TypeError, ValueError)):
        Ledger(coupon=bad)


def test_changed_names_each_field_before_and_after():
    assert Ledger(coupon=500).changed(Ledger(coupon=800, written_off=100)) == {
        "coupon": [500, 800],
        "written_off": [0, 100],
    }
