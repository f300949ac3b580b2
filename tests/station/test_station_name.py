"""`[station] name` is optional: the station takes the name it was enrolled with from the server's
heartbeat answer and caches it for offline starts."""

from __future__ import annotations

from station_testkit import TOKEN

from station.bench import UNNAMED, build_bench
from station.config import parse_config


def _config(tmp_path, url, **station):
    return parse_config(
        {
            "server": {"url": url, "token": TOKEN},
            "printer": {"kind": "dummy"},
            "station": {"data_dir": str(tmp_path / "data"), **station},
            "display": {"enabled": False},
            "screen": {"enabled": False},
        },
        base_dir=tmp_path,
    )


def _bench(config):
    return build_bench(config, with_scanner=False, with_printer=False, with_display=False)


def test_the_enrolled_name_is_learned_and_cached(tmp_path, gate_server):
    bench = _bench(_config(tmp_path, gate_server.url))
    assert bench.station_name == UNNAMED
    assert bench.uplink.heartbeat_once()
    assert bench.station_name == "打包台-07"
    bench.stop()
    gate_server.stop()  # an offline start uses the cached name
    offline = _bench(_config(tmp_path, gate_server.url))
    assert offline.station_name == "打包台-07"
    offline.stop()


def test_a_configured_name_wins(tmp_path, gate_server):
    bench = _bench(_config(tmp_path, gate_server.url, name="A-01"))
    assert bench.uplink.heartbeat_once()
    assert bench.station_name == "A-01"
    bench.stop()
