"""Buyer phone numbers and addresses never go into templates or notes. Pure.

Text is normalised before matching: NFKC (full-width digits and letters become ASCII), and the
separators people put inside numbers (spaces, dashes, dots, brackets, zero-width characters) are
taken out, so 138-1234-5678, １３８ １２３４ ５６７８ and +86 138.1234.5678 all match.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"(?<=\d)[\s\-‐‑‒–—―_.·•()（）\[\]/\\\u200b\u200c\u200d\ufeff]+(?=\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}\d{7,8}(?!\d)")
# A street address: a place word, then (soon) a house number; or a building / unit / room number.
_ADDRESS = re.compile(
    r"(?:省|市|区|县|镇|乡|村|街道|路|街|巷|弄|大道|胡同|小区|花园|大厦|公寓).{0,12}?\d+\s*(?:号|弄|栋|幢|座)"
    r"|\d+\s*(?:号楼|栋|幢|单元|室)"
)

PHONE = "含有电话号码样式的数字：不得写入买家手机号或电话"
ADDRESS = "含有地址样式的内容：不得写入买家地址"


def normalise(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def pii_problem(text: str) -> str | None:
    """Why `text` may not be kept (zh-CN), or None."""
    flat = normalise(text)
    if _MOBILE.search(flat) or _LANDLINE.search(flat):
        return PHONE
    if _ADDRESS.search(flat):
        return ADDRESS
    return None
