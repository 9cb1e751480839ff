"""The benchmark's arithmetic and its result files (bench/report.py)."""

import json
from pathlib import Path

import pytest

from bench import report


def test_it_interpolates_percentiles_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert report.percentile(values, 0.5) == pytest.approx(50.5)
    assert report.percentile(values, 0.95) == pytest.approx(95.05)
    assert report.percentile(values, 0) == 1
    assert report.percentile(values, 1) == 100


def test_it_takes_percentiles_of_unsorted_values() -> None:
    assert report.percentile([30.0, 10.0, 20.0], 0.5) == 20


def test_a_single_value_is_every_percentile() -> None:
    assert report.percentile([7.0], 0.95) == 7


def test_no_values_have_no_percentile() -> None:
    assert report.percentile([], 0.95) is None
    assert report.latency_summary([])["p95_ms"] is None


def test_it_refuses_a_share_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="share"):
        report.percentile([1.0], 95)


def test_server_errors_count_5xx_and_failed_connections_only() -> None:
    assert report.server_errors({"200": 5, "409": 3, "500": 2, "503": 1, "error": 4}) == 7


def measured(requests: int, seconds: float, **statuses: int) -> dict[str, object]:
    return {
        "path": "/x",
        "requests": requests,
        "seconds": seconds,
        "latencies_ms": [1.0] * requests,
        "statuses": statuses or {"200": requests},
    }


def test_ratios_are_to_the_bare_view_of_the_same_run() -> None:
    rows = report.throughput_rows(
        {"bare": measured(1000, 2.0), "page": measured(250, 2.0)}, bare="bare"
    )
    by_name = {row["name"]: row for row in rows}
    assert by_name["bare"]["req_per_s"] == 500
    assert by_name["page"]["req_per_s"] == 125
    assert by_name["page"]["ratio"] == 0.25


def test_answers_that_were_errors_do_not_count_as_throughput() -> None:
    rows = report.throughput_rows(
        {"bare": measured(100, 1.0), "page": measured(100, 1.0, **{"200": 50, "500": 50})},
        bare="bare",
    )
    assert rows[1]["req_per_s"] == 50


def result() -> dict[str, object]:
    rows = report.throughput_rows(
        {"bare": measured(1000, 2.0), "page": measured(200, 2.0)}, bare="bare"
    )
    group = report.latency_summary([5.0, 10.0, 15.0])
    return {
        "run": {
            "when": "2026-12-02 15:00 UTC",
            "commit": "abc1234",
            "quick": False,
            "cores": 2,
            "load_before": "0.5 0.5 0.5",
            "load_after": "1.0 1.0 1.0",
            "server": "gunicorn",
            "data": "50 doctors",
            "seconds": 100.0,
            "throughput_clients": 16,
            "rounds": 3,
            "slice_seconds": 4.0,
        },
        "throughput": rows,
        "absent": {"search": "absent: `/api/v1/slots` answers 404"},
        "mix": [
            {
                "rate": 50,
                "seconds": 40.0,
                "clients": 16,
                "requests": 3,
                "kinds": {"read: page": group | {"statuses": {"200": 3}}},
                "groups": {"read": group, "write": report.latency_summary([60.0])},
                "errors": 0,
            }
        ],
        "contention": {
            "attempts": 200,
            "slot": "doctor 1 at 10:00",
            "booked": 1,
            "conflicts": 199,
            "other": 0,
            "statuses": {"201": 1, "409": 199},
            "in_database": 1,
            "latency": report.latency_summary([100.0, 150.0]),
        },
        "overlaps": {"doctor": 0, "patient": 0},
    }


def test_the_verdicts_say_which_targets_were_met() -> None:
    found = {v["target"]: v["met"] for v in report.verdicts(result())}
    assert found["page: ≥ 0.25x the bare view"] is False  # 0.2x
    assert found["seed mix at 50 req/s: reads p95 ≤ 20 ms"] is True  # 14.5 ms
    assert found["seed mix at 50 req/s: writes p95 ≤ 50 ms"] is False  # 60 ms
    assert found["seed mix at 50 req/s: no errors"] is True
    assert found["no two active appointments overlap (doctor or patient)"] is True
    assert any(target.startswith("200 attempts") and met for target, met in found.items())


def test_two_bookings_of_one_slot_fail_the_contention_target() -> None:
    run = result()
    run["contention"] |= {"booked": 2, "conflicts": 198}  # type: ignore[operator]
    assert not next(v for v in report.verdicts(run) if "attempts" in v["target"])["met"]


def test_it_writes_markdown_and_json(tmp_path: Path) -> None:
    markdown_path, json_path = report.write(result(), tmp_path)
    text = markdown_path.read_text()
    assert "| page | 100 | 0.200 |" in text
    assert "| search | - | - | - | - | absent: `/api/v1/slots` answers 404 |" in text
    assert "| page: ≥ 0.25x the bare view | 0.200x | NO |" in text
    data = json.loads(json_path.read_text())
    assert data["contention"]["booked"] == 1
    assert {v["target"] for v in data["verdicts"]} >= {"seed mix at 50 req/s: no errors"}


def test_the_contention_names_the_bare_views_own_burst_beside_it(tmp_path: Path) -> None:
    run = result()
    run["contention"]["bare_latency"] = report.latency_summary([40.0, 80.0])  # type: ignore[index]
    markdown_path, _json_path = report.write(run, tmp_path)
    text = markdown_path.read_text()
    assert "200 requests at once for the bare view (`/healthz`): p50 60.0 ms" in text
    verdict = next(v for v in report.verdicts(run) if "attempts" in v["target"])
    assert "the bare view, as many at once: p95" in verdict["reached"]
