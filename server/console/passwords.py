"""What makes a console password acceptable: the one place for the rules. Pure.

Length first (8 to 128), then zxcvbn (Dropbox's estimator, with its lists of common passwords,
names and keyboard patterns): a guess-count score under 3 of 4 is refused, and so is a password
built from the user's own name or the product's. Every answer is a zh-CN sentence.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash attacks"
PRODUCT_WORDS = ("shipgate", "douyin", "抖店", "仓库", "warehouse", "admin", "password")

_BY_PATTERN = {
    "dictionary": "这是常见密码或常见单词，很容易被猜到",
    "spatial": "键盘上相邻的字符（如 qwerty、1qaz）很容易被猜到",
    "repeat": "重复的字符（如 aaaa、abcabc）很容易被猜到",
    "sequence": "连续的字母或数字（如 12345678、abcdef）很容易被猜到",
    "date": "日期和年份很容易被猜到",
    "regex": "年份或简单规律很容易被猜到",
}


def problem(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` is refused (zh-CN), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 位"
    inputs = [word for word in (*user_inputs, *PRODUCT_WORDS) if word]
    lowered = password.lower()
    if any(len(word) >= 3 and word.lower() in lowered for word in user_inputs):
        return "密码不能包含用户名"
    result = zxcvbn(password, user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return None
    weakest = min(result["sequence"], key=lambda match: match.get("guesses", 0) / max(len(match["token"]), 1))
    reason = _BY_PATTERN.get(weakest.get("pattern"), "太容易被猜到")
    return f"密码太简单：{reason}。请用更长的、不常见的词组，夹杂数字或符号"
