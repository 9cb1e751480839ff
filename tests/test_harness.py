"""The test harness itself: what the Makefile's pytest command promises.

`make test` runs pytest-xdist with `--dist loadgroup` so that every test marked
`xdist_group("postgres_races")` runs on one worker: each such test holds tens of
PostgreSQL connections, and two at once on different workers could exhaust the
server's max_connections and fail for a reason that has nothing to do with the code.
pytest 9.2 silently broke that grouping (pytest-xdist#1386), so requirements-dev.txt
pins 9.1; this test fails if an upgrade breaks it again.
"""

import re
import subprocess
import sys
from pathlib import Path

GROUPED_TESTS = """
import pytest

@pytest.mark.xdist_group("postgres_races")
@pytest.mark.parametrize("attempt", range(4))
def test_grouped(attempt):
    pass

@pytest.mark.parametrize("attempt", range(4))
def test_ungrouped(attempt):
    pass
"""


def test_loadgroup_runs_every_test_of_a_group_on_one_worker(tmp_path: Path):
    for name in ("test_first.py", "test_second.py"):
        (tmp_path / name).write_text(GROUPED_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:cov",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workers_of_grouped = set(re.findall(r"\[(gw\d+)\] .*PASSED .*test_grouped", result.stdout))
    workers_of_all = set(re.findall(r"\[(gw\d+)\] .*PASSED", result.stdout))
    # The control: the ungrouped tests did spread over both workers, so one worker for
    # the group is the grouping's doing, not a run that used one worker for everything.
    assert workers_of_all == {"gw0", "gw1"}, result.stdout
    assert len(workers_of_grouped) == 1, result.stdout
