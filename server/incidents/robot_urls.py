"""Which webhook URLs a group robot may have, and how a robot message is kept from carrying
someone else's Markdown. Pure apart from the DNS look-up, which is passed in.

A robot posts to its platform only: WeCom qyapi.weixin.qq.com, DingTalk oapi.dingtalk.com,
Feishu open.feishu.cn / open.larksuite.com, over https, and only while the name resolves to
public addresses (never loopback, private, link-local or reserved ones). `robot_hosts` (a
setting) adds hosts the operator trusts, e.g. an internal relay: those are taken as they are.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

PLATFORM_HOSTS = {
    "wecom": frozenset({"qyapi.weixin.qq.com"}),
    "dingtalk": frozenset({"oapi.dingtalk.com"}),
    "feishu": frozenset({"open.feishu.cn", "open.larksuite.com"}),
}
NOT_ALLOWED = "只能填写企业微信、钉钉或飞书的机器人 Webhook 地址（https）"
UNREACHABLE = "无法连接机器人平台"


def _host(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    if not host or parts.username or parts.password:
        return None
    return parts.scheme.lower(), host


def url_problem(kind: str, url: str, extra_hosts: Iterable[str] = ()) -> str | None:
    """Why `url` may not be a `kind` robot's webhook (zh-CN), or None. No DNS here."""
    found = _host(url)
    if found is None:
        return NOT_ALLOWED
    scheme, host = found
    if host in {h.strip().lower() for h in extra_hosts if h.strip()}:
        return None if scheme in ("http", "https") else NOT_ALLOWED
    if scheme != "https" or host not in PLATFORM_HOSTS.get(kind, ()):
        return NOT_ALLOWED
    return None


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def send_problem(
    kind: str,
    url: str,
    extra_hosts: Iterable[str] = (),
    resolve: Callable[[str], list[str]] | None = None,
) -> str | None:
    """`url_problem`, and for a platform host also: every address it resolves to is public."""
    extra = [h.strip().lower() for h in extra_hosts if h.strip()]
    problem = url_problem(kind, url, extra)
    if problem is not None:
        return problem
    _scheme, host = _host(url)
    if host in extra:
        return None
    try:
        addresses = (resolve or _resolve)(host)
    except OSError:
        return UNREACHABLE
    if not addresses or not all(_public(a) for a in addresses):
        return NOT_ALLOWED
    return None


def _resolve(host: str) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)]


# Markdown: WeCom and DingTalk render the message; a product name, an operator name or anything a
# station or Douyin sent must not add a link, an image or a heading. Their Markdown dialects do not
# agree on backslash escapes, so the characters that make syntax become their full-width twins.
_MARKDOWN = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "#": "＃",
        "!": "！",
        "|": "｜",
        "~": "～",
        "\\": "＼",
        "\n": " ",
        "\r": " ",
    }
)


def markdown_text(text: str) -> str:
    """Untrusted text as plain text inside a Markdown message."""
    return str(text).translate(_MARKDOWN)
