"""Buyer-contact messages, one per situation: the defaults, rendering, and the compliance check.

The rules every message keeps (the platform's, and the merchant's own): the mistake is ours, so
the buyer never pays for it (return freight is on us); no pressure and no threats; contact only
through Douyin's channels (抖店客服 / 站内信); never ask for or write down a phone number or an
address. Admins may edit the wording; `problems` refuses text that breaks these rules.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.incidents.pii import pii_problem
from server.models.incidents import ContactTemplate

CHANNELS = {"doudian_im": "抖店客服（飞鸽）", "station_letter": "抖店站内信"}
PLACEHOLDERS = {
    "shop": "店铺名",
    "order_id": "订单号",
    "goods": "商品",
    "coupon": "优惠券金额（元）",
    "compensation": "补偿金额（元）",
}
MAX_BODY = 1000
# What a message to a buyer must never contain, and why (shown to the admin who typed it).
FORBIDDEN = {
    "手机号": "不得索要或写入买家手机号",
    "电话": "不得索要或写入买家电话",
    "地址": "不得索要或写入买家地址",
    "微信": "只能通过抖店平台渠道联系买家",
    "QQ": "只能通过抖店平台渠道联系买家",
    "加我": "只能通过抖店平台渠道联系买家",
    "起诉": "不得威胁买家",
    "报警": "不得威胁买家",
    "律师": "不得威胁买家",
    "法院": "不得威胁买家",
    "征信": "不得威胁买家",
    "不当得利": "不得威胁买家",
    "后果自负": "不得威胁买家",
    "由您承担": "错发是我方责任，费用不能由买家承担",
    "您承担": "错发是我方责任，费用不能由买家承担",
    "到付": "退回运费由我方承担，不能让买家到付",
}


@dataclass(frozen=True)
class Default:
    title: str
    body: str


DEFAULTS: dict[str, Default] = {
    "keep_goods": Default(
        "买家愿意保留：补回货款并赠券",
        "您好，这里是{shop}。非常抱歉，您已退款成功的订单（订单号 {order_id}）因我们仓库的失误仍被发出，"
        "给您添麻烦了。如果您仍需要这件商品（{goods}），可以直接留用；方便的话，可以通过客服发给您的"
        "补拍链接补回货款，我们另外送上一张 {coupon} 元的店铺优惠券表示歉意。如果不需要，也请告诉我们，"
        "我们会安排退回，运费全部由我们承担。再次向您致歉，感谢您的理解！",
    ),
    "refuse_delivery": Default(
        "请买家拒签：运费由我方承担",
        "您好，这里是{shop}。非常抱歉，您已退款成功的订单（订单号 {order_id}）因我们的失误被误发出。"
        "包裹送到时，麻烦您直接拒收即可，退回的运费全部由我们承担，不会让您多花一分钱。"
        "给您带来不便，我们深感抱歉，感谢您的配合！",
    ),
    "signed_return": Default(
        "已签收：我方预付运费寄回，另致谢",
        "您好，这里是{shop}。非常抱歉，您已退款成功的订单（订单号 {order_id}）因我们的失误被误发，"
        "包裹已经送到您手中。如果方便的话，能否帮我们把商品（{goods}）寄回？寄回运费由我们预付，"
        "收到后我们另外补偿您 {compensation} 元表示感谢。如果不方便，也请告诉我们。再次向您致歉！",
    ),
    "lost_damaged": Default(
        "丢件或破损：已向物流索赔",
        "您好，这里是{shop}。关于订单 {order_id} 的误发包裹，很抱歉，包裹在退回途中出现了丢失或破损。"
        "我们已经向物流公司发起索赔，这件事由我们负责处理，您不需要做任何事情，也不会产生任何费用。"
        "有进展我们会第一时间在这里告诉您，给您带来困扰，非常抱歉！",
    ),
    "intercepted": Default(
        "拦截成功：告知买家",
        "您好，这里是{shop}。您已退款成功的订单（订单号 {order_id}）此前被我们误发，"
        "现在包裹已经成功拦截并退回，您无需做任何处理。给您带来的不便，我们再次致歉，感谢您的理解！",
    ),
}


def problems(text: str) -> list[str]:
    """Why a message may not be used (empty when it may), in zh-CN."""
    found = []
    if not text.strip():
        found.append("内容不能为空")
    if len(text) > MAX_BODY:
        found.append(f"内容不能超过 {MAX_BODY} 个字")
    flat = unicodedata.normalize("NFKC", text).lower()  # full-width ＱＱ is QQ
    for word, why in FORBIDDEN.items():
        if word.lower() in flat:
            found.append(f"含有「{word}」：{why}")
    pii = pii_problem(text)
    if pii:
        found.append(pii)
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        found.append("花括号不成对：占位符写法为 {order_id}")
    else:
        unknown = sorted(n for n in names if n not in PLACEHOLDERS)
        if unknown:
            found.append("未知的占位符：" + "、".join("{" + n + "}" for n in unknown))
    return found


def render(body: str, values: Mapping[str, object]) -> str:
    """Fill the placeholders; any missing value shows as an empty string."""
    return string.Formatter().vformat(body, (), _Blank(values))


class _Blank(dict):
    def __init__(self, values: Mapping[str, object]):
        super().__init__({k: v for k, v in values.items() if k in PLACEHOLDERS})

    def __missing__(self, key: str) -> str:
        return ""


def ensure_defaults(session: Session) -> None:
    """Seed the default of every situation that has no row (first use, or after a wipe)."""
    have = set(session.scalars(select(ContactTemplate.key)))
    for key, default in DEFAULTS.items():
        if key not in have:
            session.add(ContactTemplate(key=key, title=default.title, body=default.body))
    session.flush()


def all_templates(session: Session) -> list[ContactTemplate]:
    """Every template in the defaults' order; a situation never saved reads as its default (an
    unsaved row: reading writes nothing; `save` stores it)."""
    rows = {t.key: t for t in session.scalars(select(ContactTemplate))}
    return [
        rows.get(key) or ContactTemplate(key=key, title=default.title, body=default.body)
        for key, default in DEFAULTS.items()
    ]


def save(session: Session, key: str, title: str, body: str, actor: str) -> ContactTemplate:
    """Change a template; ValueError with the problems when the text breaks the rules."""
    if key not in DEFAULTS:
        raise KeyError(key)
    found = problems(body) + [p for p in problems(title) if "占位符" not in p and "为空" not in p]
    if not title.strip():
        found.append("标题不能为空")
    if found:
        raise ValueError("；".join(found))
    ensure_defaults(session)
    row = session.get(ContactTemplate, key)
    row.title, row.body, row.updated_at, row.updated_by = (
        title.strip(),
        body.strip(),
        clock.of(session).now(),
        actor,
    )
    return row


def reset(session: Session, key: str, actor: str) -> ContactTemplate:
    default = DEFAULTS[key]
    return save(session, key, default.title, default.body, actor)
