"""All tables, importable from one place: `from server.models import Order, Scan, ...`."""

from server.models.base import Base
from server.models.bench import AuditLog, ExceptionStatus, Operator, Scan, ScanException, Station
from server.models.drills import Drill, DrillRun
from server.models.incidents import (
    AlertSettings,
    ContactTemplate,
    Incident,
    IncidentEvent,
    Robot,
    RobotMessage,
)
from server.models.orders import AfterSale, Counter, GateCode, GateEntry, Order, SkuOrder, Waybill
from server.models.places import Shop, Warehouse, warehouse_shops
from server.models.sync import SyncState, WebhookMessage
from server.models.users import BenchPending, GateOverride, LoginThrottle, Role, User

__all__ = [
    "AlertSettings",
    "ContactTemplate",
    "Incident",
    "IncidentEvent",
    "Robot",
    "RobotMessage",
    "Drill",
    "DrillRun",
    "BenchPending",
    "GateOverride",
    "LoginThrottle",
    "Role",
    "User",
    "AfterSale",
    "AuditLog",
    "Base",
    "Counter",
    "ExceptionStatus",
    "GateCode",
    "GateEntry",
    "Operator",
    "Order",
    "Scan",
    "ScanException",
    "Shop",
    "SkuOrder",
    "Station",
    "SyncState",
    "Warehouse",
    "Waybill",
    "WebhookMessage",
    "warehouse_shops",
]
