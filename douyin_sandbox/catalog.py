"""What the sandbox shop sells and ships with: products, carriers, and a maker of ids.

Tracking numbers follow the carriers' public shapes (shipgate.codes.CARRIER_PATTERNS) and are
unique by construction: a per-carrier serial sits in the middle of each one.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    category: str
    code: str  # the merchant's sku code
    price: int  # fen


@dataclass(frozen=True)
class Carrier:
    code: str  # Douyin's logistics company code
    name: str
    express_company_id: int
    prefix: str
    serial_digits: int
    random_digits: int
    intercept_cost: int  # fen
    weight: int

    def tracking_no(self, serial: int, rng: random.Random) -> str:
        tail = rng.randrange(10**self.random_digits)
        return f"{self.prefix}{serial:0{self.serial_digits}d}{tail:0{self.random_digits}d}"


_PRODUCTS = [
    ("女装", "法式碎花连衣裙 夏季新款", "QZ-1024", 15900),
    ("女装", "高腰阔腿牛仔裤", "NZK-207", 12900),
    ("男装", "纯棉圆领短袖T恤 白色", "TX-0088", 5900),
    ("男装", "冰丝速干运动短裤", "DK-3301", 6900),
    ("鞋靴", "轻便透气跑步鞋 43码", "XP-9012", 19900),
    ("美妆护肤", "玻尿酸补水面膜 10片装", "MM-0510", 8900),
    ("美妆护肤", "氨基酸洗面奶 120g", "XM-1200", 4990),
    ("食品饮料", "云南高山普洱茶饼 357g", "PE-357", 16800),
    ("食品饮料", "每日坚果混合装 30袋", "JG-3030", 9900),
    ("食品饮料", "五常稻花香大米 5kg", "DM-0005", 6990),
    ("个护家清", "薰衣草洗衣液 3kg", "XY-3000", 3990),
    ("个护家清", "抽纸 24包整箱", "CZ-2424", 4590),
    ("母婴", "婴儿纸尿裤 L码 52片", "NK-L52", 11900),
    ("母婴", "宝宝硅胶辅食勺", "FS-0101", 2990),
    ("数码配件", "20W快充充电器 Type-C", "CD-2000", 3900),
    ("数码配件", "蓝牙降噪耳机 白色", "EJ-5201", 29900),
    ("家居", "记忆棉护颈枕", "ZT-7070", 8900),
    ("家居", "北欧陶瓷马克杯 2只装", "BZ-0202", 4900),
    ("宠物用品", "全价猫粮 2kg", "ML-2000", 7900),
    ("运动户外", "瑜伽垫 加厚10mm", "YJ-1010", 5900),
]

PRODUCTS: tuple[Product, ...] = tuple(
    Product(product_id=f"3{600000000000000000 + i * 7919:018d}", name=n, category=c, code=code, price=p)
    for i, (c, n, code, p) in enumerate(_PRODUCTS)
)

CARRIERS: tuple[Carrier, ...] = (
    Carrier("zhongtong", "中通快递", 15, "75", 7, 5, 500, 30),
    Carrier("yuantong", "圆通速递", 12, "YT7", 7, 5, 500, 20),
    Carrier("yunda", "韵达快递", 16, "31", 8, 5, 500, 15),
    Carrier("jtexpress", "极兔速递", 1016, "JT5", 7, 5, 600, 15),
    Carrier("shentong", "申通快递", 14, "77", 8, 5, 500, 10),
    Carrier("shunfeng", "顺丰速运", 7, "SF1", 6, 5, 1000, 8),
    Carrier("jd", "京东物流", 1129, "JDVA", 6, 5, 1000, 2),
    # A courier the platform names without a company code (the order's logistics_info says only
    # its name): never chosen at random; ship(carrier=NO_CODE) uses it.
    Carrier("", "同城配送", 0, "TC8", 8, 5, 0, 0),
)
NO_CODE = "no_code"
CARRIERS_BY_CODE = {c.code or NO_CODE: c for c in CARRIERS}


class IdMaker:
    """Deterministic 19-digit ids (unique per kind), tracking numbers and tokens from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._serials: dict[str, int] = {}

    def _next(self, kind: str) -> int:
        self._serials[kind] = self._serials.get(kind, 0) + 1
        return self._serials[kind]

    def _id(self, prefix: str, kind: str) -> str:
        return f"{prefix}{self._next(kind):013d}{self.rng.randrange(10_000):04d}"

    def order_id(self) -> str:
        return self._id("69", "order")

    def aftersale_id(self) -> str:
        return self._id("70", "aftersale")

    def msg_id(self) -> str:
        return self._id("71", "msg")

    def delivery_id(self) -> str:
        return self._id("72", "delivery")

    def tracking_no(self, carrier: Carrier) -> str:
        return carrier.tracking_no(self._next("tn:" + carrier.code), self.rng)

    def token(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def carrier(self) -> Carrier:
        return self.rng.choices(CARRIERS, weights=[c.weight for c in CARRIERS])[0]

    def product(self) -> Product:
        return self.rng.choice(PRODUCTS)
