import pytest

from shipgate.codes import CodeKind, classify, s10_check_digit_ok


@pytest.mark.parametrize(
    "raw, carrier",
    [
        ("SF1234567890123", "SF"),
        ("SF123456789012", "SF"),
        ("YT1234567890123", "YTO"),
        ("JT0001234567890", "JT"),
        ("73123456789012", "ZTO"),
        ("781234567890", "ZTO"),
        ("771234567890123", "STO"),
        ("4312345678901234567"[:17], "STO"),
        ("312345678901234", "YUNDA"),
        ("9812345678901", "EMS"),
        ("JDVA12345678901", "JD"),
        ("DPK123456789012", "DEPPON"),
        ("sf1234567890123", "SF"),
    ],
)
def test_tracking_numbers_by_carrier(raw, carrier):
    code = classify(raw)
    assert code.kind is CodeKind.TRACKING_NO
    assert code.carrier == carrier
    assert code.value == raw.upper()


def test_order_ids_stay_strings_of_19_digits():
    code = classify("4835804142146756441")
    assert code.kind is CodeKind.ORDER_ID and code.value == "4835804142146756441"
    assert classify("483580414214675644").kind is CodeKind.INVALID  # 18 digits
    assert classify("48358041421467564411").kind is CodeKind.INVALID  # 20 digits


def test_s10_check_digit():
    # RR473124829CN: a documented UPU S10 example (weights 8,6,4,2,3,5,9,7 → check digit 9)
    assert s10_check_digit_ok("RR473124829CN")
    assert classify("RR473124829CN").carrier == "EMS_S10"
    bad = classify("RR473124828CN")
    assert bad.kind is CodeKind.INVALID and "check digit" in bad.problem


@pytest.mark.parametrize("prefix", ["]C0", "]E0", "]Q1", "]d2"])
def test_aim_prefix_is_stripped(prefix):
    assert classify(prefix + "4835804142146756441").value == "4835804142146756441"
    assert classify(prefix + "SF1234567890123").kind is CodeKind.TRACKING_NO


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("]C0", "empty"),
        ("4835804142146756441\x00", "control characters"),
        ("48358\x1b04142146756441", "control characters"),
        ("X" * 65, "too long"),
        ("X" * 1000, "too long"),
        ("hello world", "not an order id"),
        ("SF12", "not an order id"),
        ("已退款", "not an order id"),
    ],
)
def test_garbage_is_invalid_with_a_reason(raw, problem):
    code = classify(raw)
    assert code.kind is CodeKind.INVALID
    assert problem in code.problem


def test_shipgate_own_codes():
    assert classify("SG-OP-A0001").kind is CodeKind.BADGE
    assert classify("SG-OP-A0001").value == "A0001"
    assert classify("SG-EX-5f0c2b1e-aaaa").kind is CodeKind.EXCEPTION
    assert classify("SG-RS-misscan").kind is CodeKind.RESOLUTION
    assert classify("SG-DR-abc123").kind is CodeKind.DRILL
    assert classify("SG-XX-abc").kind is CodeKind.INVALID


def test_whitespace_and_line_endings_are_trimmed():
    assert classify("  SF1234567890123\r\n").value == "SF1234567890123"


def test_non_text_is_invalid():
    assert classify(None).kind is CodeKind.INVALID  # type: ignore[arg-type]
