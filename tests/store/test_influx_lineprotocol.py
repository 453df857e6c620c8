"""Line protocol, InfluxQL building/parsing, [influxdb] settings and API choice: pure functions."""

from __future__ import annotations

import json
from datetime import UTC, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.config import parse_config
from gateway.errors import ConfigError, StoreError
from gateway.store import influxql
from gateway.store.influx import choose_api
from gateway.store.influx_settings import InfluxSettings
from gateway.store.lineprotocol import LineProtocolError, line


def test_line_escapes_measurement_tags_and_fields() -> None:
    got = line("my meas,x", {"site": "a b", "device": "d=1,2", "kind": ""}, {"temp c": 4.0}, 1790000000123)
    assert got == r"my\ meas\,x,device=d\=1\,2,site=a\ b temp\ c=4.0 1790000000123"


def test_line_writes_every_value_as_a_float() -> None:
    assert line("m", {}, {"v": 3}, 1) == "m v=3.0 1"
    assert line("m", {}, {"v": 1e16}, 1) == "m v=1e+16 1"
    assert line("m", {}, {"v": -0.125}, 1) == "m v=-0.125 1"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_line_refuses_non_finite_values(value: float) -> None:
    with pytest.raises(LineProtocolError, match="finite"):
        line("m", {"device": "d"}, {"v": value}, 1)


@pytest.mark.parametrize("device", ["a\nb", "trailing\\"])
def test_line_refuses_what_line_protocol_cannot_carry(device: str) -> None:
    with pytest.raises(LineProtocolError):
        line("m", {"device": device}, {"v": 1.0}, 1)


def test_line_leaves_empty_tags_out() -> None:
    assert line("m", {"device": "", "site": "s"}, {"v": 1.0}, 1) == "m,site=s v=1.0 1"


def test_influxql_quotes_identifiers_and_strings() -> None:
    q = influxql.range_query('me"as', "s'x", "d\\1", "temperature", 1.0, 2.5)
    assert q == ('SELECT "temperature" FROM "me\\"as" WHERE "site" = \'s\\\'x\' AND "device" = \'d\\\\1\' '
                 "AND time >= 1000ms AND time < 2500ms ORDER BY time ASC")


@pytest.mark.parametrize(("seconds", "text"), [(86400, "1d"), (604800, "1w"), (3600, "1h"), (300, "5m"),
                                               (90, "90s"), (1.5, "1500ms"), (172800, "2d")])
def test_influxql_durations(seconds: float, text: str) -> None:
    assert influxql.duration(seconds) == text


def test_aggregate_query_uses_tz_only_for_named_non_utc_zones() -> None:
    q = influxql.aggregate_query("houqin", "s", "d", "usage_l", 0, 86400, 86400, "sum", ZoneInfo("Asia/Shanghai"))
    assert q.endswith("GROUP BY time(1d) fill(none) tz('Asia/Shanghai')")
    assert "tz(" not in influxql.aggregate_query("houqin", "s", "d", "m", 0, 1, 1, "sum", UTC)
    assert "tz(" not in influxql.aggregate_query("houqin", "s", "d", "m", 0, 1, 1, "sum", ZoneInfo("UTC"))
    with pytest.raises(ValueError, match="IANA"):
        influxql.aggregate_query("houqin", "s", "d", "m", 0, 1, 1, "sum", timezone(timedelta(hours=8)))
    with pytest.raises(ValueError, match="median"):
        influxql.aggregate_query("houqin", "s", "d", "m", 0, 1, 1, "median", None)


def test_parse_chunked_answer_merges_series_and_statements() -> None:
    docs = [
        {"results": [{"statement_id": 0, "series": [{"name": "h", "columns": ["time", "v"], "values": [[1, 1.0]]}],
                      "partial": True}]},
        {"results": [{"statement_id": 0, "series": [{"name": "h", "columns": ["time", "v"], "values": [[2, 2.0]]}]}]},
        {"results": [{"statement_id": 1, "series": [{"name": "h", "tags": {"device": "x"}, "columns": ["time", "v"],
                                                      "values": [[3, 3.0]]}]}]},
    ]
    body = "\n".join(json.dumps(d) for d in docs) + "\n"
    first, second = influxql.parse_response(body, 2)
    assert [s.values for s in first] == [[[1, 1.0], [2, 2.0]]]
    assert second[0].tags == {"device": "x"}


def test_parse_answer_with_an_error_raises_store_error() -> None:
    with pytest.raises(StoreError, match="error parsing query"):
        influxql.parse_response(json.dumps({"results": [{"statement_id": 0, "error": "error parsing query: x"}]}))


def test_settings_need_credentials_for_the_chosen_api() -> None:
    with pytest.raises(ValueError, match="org, bucket and token; missing: org, bucket"):
        InfluxSettings(api="v2", token="t")
    with pytest.raises(ValueError, match="needs database"):
        InfluxSettings(api="v1")
    with pytest.raises(ValueError, match="username and password go together"):
        InfluxSettings(database="h", username="u")
    s = InfluxSettings(url="http://user:secret@influx.local:8086/", database="h", timeout="3s", token="tok")
    assert s.timeout == 3.0
    assert s.safe_url == "http://influx.local:8086"
    assert "tok" not in repr(s)


def test_config_requires_an_influxdb_section_when_chosen() -> None:
    with pytest.raises(ConfigError) as e:
        parse_config({"site": {"id": "s"}, "storage": {"timeseries": "influxdb"}})
    assert 'needs an [influxdb] section' in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse_config({"site": {"id": "s"}, "storage": {"timeseries": "influxdb"},
                      "influxdb": {"database": "h", "batch_size": 0, "url": "influx:8086"}})
    problems = e.value.problems
    assert any("influxdb.batch_size" in p for p in problems)
    assert any("influxdb.url" in p and "http(s) URL" in p for p in problems)
    cfg = parse_config({"site": {"id": "s"}, "storage": {"timeseries": "influxdb"},
                        "influxdb": {"database": "h", "backoff_max": "10m"}})
    assert cfg.influxdb is not None and cfg.influxdb.backoff_max == 600.0


@pytest.mark.parametrize(
    ("version", "v2_creds", "expected"),
    [("1.6.7~rc0", False, "v1"), ("1.6.7~rc0", True, "v1"), ("1.8.10", True, "v2"), ("1.8.10", False, "v1"),
     ("v2.7.4", True, "v2"), ("3.0.1", True, "v2"), ("", True, "v2"), ("", False, "v1")],
)
def test_api_detection_from_ping_version(version: str, v2_creds: bool, expected: str) -> None:
    creds = {"org": "o", "bucket": "b", "token": "t"} if v2_creds else {"database": "h"}
    assert choose_api(InfluxSettings(**creds), version) == expected  # type: ignore[arg-type]
