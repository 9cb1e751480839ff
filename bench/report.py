"""The benchmark's numbers and how they are written: percentiles, verdicts against the
targets of issue 14, and the Markdown and JSON files in ``bench/results/``.

Pure functions over plain data (no Django, no network), so ``tests/test_bench_report.py``
checks them without starting anything.
"""

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# Issue 14's targets.
MIN_RATIO = 0.25  # every hot read's throughput, as a share of the bare view's
MIX_READ_P95_MS, MIX_WRITE_P95_MS = 20.0, 50.0  # the seed mix at 50 req/s
CONTENTION_P95_MS = 200.0  # 200 attempts at one slot


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` (0..1) percentile of ``values``, interpolated linearly between the
    two nearest ranks (as numpy's default and ``statistics.quantiles(method="inclusive")``);
    None for no values."""
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    below, above = math.floor(position), math.ceil(position)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count and p50/p95/p99/max of latencies in milliseconds."""
    return {
        "count": len(values),
        "p50_ms": _round(percentile(values, 0.50)),
        "p95_ms": _round(percentile(values, 0.95)),
        "p99_ms": _round(percentile(values, 0.99)),
        "max_ms": _round(max(values) if values else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def server_errors(statuses: Mapping[str, int]) -> int:
    """How many answers were 5xx (status codes as strings, as JSON keeps them), or no
    answer at all (``"error"``: the connection failed)."""
    return sum(count for code, count in statuses.items() if code == "error" or code.startswith("5"))


def merge_statuses(many: Iterable[Mapping[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for statuses in many:
        for code, count in statuses.items():
            merged[code] = merged.get(code, 0) + count
    return dict(sorted(merged.items()))


def throughput_rows(measured: Mapping[str, Mapping[str, Any]], bare: str) -> list[dict[str, Any]]:
    """Each endpoint's requests per second and its ratio to the bare view's, from
    ``{name: {"requests", "seconds", "latencies_ms", "statuses", ...}}``: the requests
    that got an answer other than 5xx, over the seconds spent on that endpoint."""
    rows = []
    ceiling = _rate(measured[bare])
    for name, data in measured.items():
        rate = _rate(data)
        rows.append(
            {
                "name": name,
                "path": data.get("path", ""),
                "requests": data["requests"],
                "seconds": round(data["seconds"], 2),
                "req_per_s": round(rate, 1),
                "ratio": round(rate / ceiling, 3) if ceiling else None,
                "statuses": dict(data["statuses"]),
                **latency_summary(data["latencies_ms"]),
                "is_bare": name == bare,
            }
        )
    return rows


def _rate(data: Mapping[str, Any]) -> float:
    good = data["requests"] - server_errors(data["statuses"])
    return float(good / data["seconds"]) if data["seconds"] else 0.0


def verdicts(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 14 with the figure reached and whether it was met."""
    found: list[dict[str, Any]] = []
    for row in result.get("throughput", []):
        if row["is_bare"] or row["ratio"] is None:
            continue
        found.append(
            {
                "target": f"{row['name']}: ≥ {MIN_RATIO}x the bare view",
                "reached": f"{row['ratio']:.3f}x",
                "met": row["ratio"] >= MIN_RATIO and server_errors(row["statuses"]) == 0,
            }
        )
    for mix in result.get("mix", []):
        if mix["rate"] != 50:
            continue
        for group, target in (("read", MIX_READ_P95_MS), ("write", MIX_WRITE_P95_MS)):
            p95 = mix["groups"].get(group, {}).get("p95_ms")
            found.append(
                {
                    "target": f"seed mix at 50 req/s: {group}s p95 ≤ {target:g} ms",
                    "reached": "no requests" if p95 is None else f"{p95:.1f} ms",
                    "met": p95 is not None and p95 <= target,
                }
            )
        found.append(
            {
                "target": "seed mix at 50 req/s: no errors",
                "reached": f"{mix['errors']} errors",
                "met": mix["errors"] == 0,
            }
        )
    if contention := result.get("contention"):
        p95 = contention["latency"]["p95_ms"]
        found.append(
            {
                "target": f"{contention['attempts']} attempts at one slot: exactly one booking, "
                f"the rest 409, no 5xx, p95 ≤ {CONTENTION_P95_MS:g} ms",
                "reached": f"{contention['booked']} booked, {contention['conflicts']} x 409, "
                f"{contention['other']} other, p95 {p95} ms"
                + (
                    f" (the bare view, as many at once: p95 {bare['p95_ms']} ms)"
                    if (bare := contention.get("bare_latency"))
                    else ""
                ),
                "met": contention["booked"] == 1
                and contention["conflicts"] == contention["attempts"] - 1
                and p95 is not None
                and p95 <= CONTENTION_P95_MS,
            }
        )
    if (overlaps := result.get("overlaps")) is not None:
        found.append(
            {
                "target": "no two active appointments overlap (doctor or patient)",
                "reached": f"{overlaps['doctor']} doctor, {overlaps['patient']} patient overlaps",
                "met": overlaps["doctor"] == 0 and overlaps["patient"] == 0,
            }
        )
    return found


def markdown(result: Mapping[str, Any]) -> str:
    """The run as a Markdown page."""
    run = result["run"]
    lines = [
        "# Benchmark results (`make bench`)",
        "",
        f"- when: {run['when']}; commit {run['commit']}"
        + (" (quick mode: a smoke run, not figures)" if run.get("quick") else ""),
        f"- machine: {run['cores']} cores shared by the load generator, gunicorn and "
        f"PostgreSQL; load average before {run['load_before']}, after {run['load_after']}",
        f"- server: {run['server']}",
        f"- data: {run['data']}",
        f"- took {run['seconds']:.0f} s",
        "",
        "## Throughput, side by side",
        "",
        f"Closed loop, {run['throughput_clients']} clients, the endpoints interleaved: "
        f"{run['rounds']} rounds of {run['slice_seconds']:g} s each per endpoint.",
        "",
        "| endpoint | req/s | x bare | p50 ms | p95 ms | statuses |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in result.get("throughput", []):
        lines.append(
            f"| {row['name']} | {row['req_per_s']:.0f} | "
            f"{'1' if row['is_bare'] else _format(row['ratio'], '.3f')} | "
            f"{_format(row['p50_ms'], '.1f')} | {_format(row['p95_ms'], '.1f')} | "
            f"{_statuses(row['statuses'])} |"
        )
    for name, why in result.get("absent", {}).items():
        lines.append(f"| {name} | - | - | - | - | {why} |")
    for mix in result.get("mix", []):
        lines += [
            "",
            f"## Seed mix at {mix['rate']:g} req/s (open loop)",
            "",
            f"{mix['requests']} requests in {mix['seconds']:.1f} s from {mix['clients']} "
            "clients; latency counted from when each request was due.",
            "",
            "| request | count | p50 ms | p95 ms | p99 ms | max ms | statuses |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for kind, data in mix["kinds"].items():
            lines.append(
                f"| {kind} | {data['count']} | {_format(data['p50_ms'], '.1f')} | "
                f"{_format(data['p95_ms'], '.1f')} | {_format(data['p99_ms'], '.1f')} | "
                f"{_format(data['max_ms'], '.1f')} | {_statuses(data['statuses'])} |"
            )
        for group, data in mix["groups"].items():
            lines.append(
                f"| **all {group}s** | {data['count']} | {_format(data['p50_ms'], '.1f')} | "
                f"{_format(data['p95_ms'], '.1f')} | {_format(data['p99_ms'], '.1f')} | "
                f"{_format(data['max_ms'], '.1f')} | |"
            )
    if contention := result.get("contention"):
        latency = contention["latency"]
        lines += [
            "",
            "## Contention: one slot",
            "",
            f"{contention['attempts']} patients try to book {contention['slot']} at once "
            "(API, each with its own token and `Idempotency-Key`).",
            "",
            f"- booked: {contention['booked']}; 409: {contention['conflicts']}; "
            f"other: {contention['other']} ({_statuses(contention['statuses'])})",
            f"- active appointments at that time afterwards: {contention['in_database']}",
            f"- latency: p50 {_format(latency['p50_ms'], '.1f')} ms, "
            f"p95 {_format(latency['p95_ms'], '.1f')} ms, "
            f"max {_format(latency['max_ms'], '.1f')} ms",
        ]
        if bare := contention.get("bare_latency"):
            lines.append(
                f"- the control, {contention['attempts']} requests at once for the bare view "
                f"(`/healthz`): p50 {_format(bare['p50_ms'], '.1f')} ms, "
                f"p95 {_format(bare['p95_ms'], '.1f')} ms, max {_format(bare['max_ms'], '.1f')} ms"
                " (the floor: no answer of this server comes sooner under such a burst)"
            )
    if (overlaps := result.get("overlaps")) is not None:
        lines += [
            "",
            "## Afterwards, in the database",
            "",
            f"- overlapping active appointments: {overlaps['doctor']} of one doctor, "
            f"{overlaps['patient']} of one patient",
        ]
    lines += ["", "## Targets (issue 14)", "", "| target | reached | met |", "| --- | --- | --- |"]
    for verdict in verdicts(result):
        lines.append(
            f"| {verdict['target']} | {verdict['reached']} | {'yes' if verdict['met'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def _format(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _statuses(statuses: Mapping[str, int]) -> str:
    return ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items()))


def write(result: Mapping[str, Any], directory: Path, name: str = "bench") -> tuple[Path, Path]:
    """Write ``<name>.md`` and ``<name>.json`` into ``directory``; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    result = dict(result) | {"verdicts": verdicts(result)}
    markdown_path, json_path = directory / f"{name}.md", directory / f"{name}.json"
    markdown_path.write_text(markdown(result))
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return markdown_path, json_path
