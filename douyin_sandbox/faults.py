"""Fault switches for the sandbox, and the dice that decide when a fault strikes.

Set with POST /sandbox/faults (JSON) or `Faults.update(...)`. Deterministic for a given seed.
- latency_ms: added to every gateway call.
- error_rate / rate_limit_rate: share of gateway calls answered 20000 / 60000.
- error_next / rate_limit_next: the next N gateway calls answer 20000 / 60000 (a storm).
- offline_methods: methods answered 70000 (isp.api-service-off).
- push_drop_rate / push_duplicate_rate: share of pushes never sent / sent twice.
- push_reorder: hold N pushes, then send them newest first (0 = off).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from douyin_sandbox.protocol import GatewayError


@dataclass
class FaultSettings:
    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    error_next: int = 0
    rate_limit_next: int = 0
    offline_methods: list[str] = field(default_factory=list)
    push_drop_rate: float = 0.0
    push_duplicate_rate: float = 0.0
    push_reorder: int = 0


_RATES = {"error_rate", "rate_limit_rate", "push_drop_rate", "push_duplicate_rate"}
_COUNTS = {"latency_ms", "error_next", "rate_limit_next", "push_reorder"}


def _coerce(name: str, value: Any) -> Any:
    if name in _RATES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be a number from 0 to 1")
        return float(value)
    if name in _COUNTS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer")
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of method names")
    return list(value)


class Faults:
    """Thread-safe holder of the switches and their random source."""

    def __init__(self, seed: int | None = None) -> None:
        self.settings = FaultSettings()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def update(self, changes: dict[str, Any]) -> FaultSettings:
        """Apply switches by name (ValueError on an unknown name or a bad value; nothing changes then).
        A `seed` key reseeds the dice."""
        known = {f.name for f in fields(FaultSettings)}
        unknown = set(changes) - known - {"seed"}
        if unknown:
            raise ValueError(f"unknown fault switch: {', '.join(sorted(unknown))}")
        coerced = {k: _coerce(k, v) for k, v in changes.items() if k != "seed"}
        with self._lock:
            if changes.get("seed") is not None:
                self._rng.seed(int(changes["seed"]))
            for name, value in coerced.items():
                setattr(self.settings, name, value)
            return self.snapshot()

    def reset(self) -> None:
        with self._lock:
            self.settings = FaultSettings()

    def snapshot(self) -> FaultSettings:
        return FaultSettings(**asdict(self.settings))

    def gateway_fault(self, method: str) -> GatewayError | None:
        """The error this call should get, if any."""
        with self._lock:
            s = self.settings
            if method in s.offline_methods:
                return GatewayError(70000, "isp.api-service-off", f"{method} 已下线")
            if s.error_next > 0:
                s.error_next -= 1
                return _service_error()
            if s.rate_limit_next > 0:
                s.rate_limit_next -= 1
                return _rate_limited()
            if s.error_rate and self._rng.random() < s.error_rate:
                return _service_error()
            if s.rate_limit_rate and self._rng.random() < s.rate_limit_rate:
                return _rate_limited()
            return None

    def latency(self) -> float:
        return self.settings.latency_ms / 1000.0

    def drop_push(self) -> bool:
        with self._lock:
            rate = self.settings.push_drop_rate
            return bool(rate) and self._rng.random() < rate

    def duplicate_push(self) -> bool:
        with self._lock:
            rate = self.settings.push_duplicate_rate
            return bool(rate) and self._rng.random() < rate

    @property
    def reorder_window(self) -> int:
        return self.settings.push_reorder


def _service_error() -> GatewayError:
    return GatewayError(20000, "isp.service-error:1000", "服务暂不可用，请稍后重试")


def _rate_limited() -> GatewayError:
    return GatewayError(60000, "isv.traffic-limited", "触发限流，请稍后重试")
