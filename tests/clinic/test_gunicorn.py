"""gunicorn.conf.py starts gunicorn with JSON logs (the first test starts it: slow), and
its access log has no query strings (they carry what people search for) but the
response's request id."""

import json
import subprocess
import sys
import time
from datetime import timedelta
from http.client import HTTPConnection
from pathlib import Path

import pytest
from gunicorn.config import Config

from clinic.gunicorn_logs import JsonLogger
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def get(port: int, path: str, headers: dict[str, str]) -> int:
    connection = HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers=headers)
    return connection.getresponse().status


@pytest.mark.slow
def test_gunicorn_writes_json_access_lines_without_the_query_string(tmp_path):
    port = free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    with access.open("wb") as stdout, errors.open("wb") as stderr:
        # Our own gunicorn on 127.0.0.1 with the repository's configuration.
        server = subprocess.Popen(  # noqa: S603
            [str(GUNICORN), "--config", "gunicorn.conf.py", "--workers", "1", "clinic.wsgi"],
            cwd=REPO,
            env={
                "PATH": str(Path(sys.executable).parent),
                "DEBUG": "true",
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            },
            stdout=stdout,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    status = get(
                        port,
                        "/healthz?q=ada@example.com",
                        {"X-Request-ID": "probe-request-0001"},
                    )
                    break
                except OSError:
                    assert time.monotonic() < deadline, errors.read_text()
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=30)

    assert status == 200
    [line] = [json.loads(line) for line in access.read_text().splitlines()]
    assert line["logger"] == "gunicorn.access"
    assert line["request_id"] == "probe-request-0001"
    assert line["http"]["path"] == "/healthz"
    assert line["http"]["status"] == 200
    assert "ada@example.com" not in access.read_text()
    assert "q=" not in access.read_text()
    error_lines = [json.loads(line) for line in errors.read_text().splitlines()]
    assert any("Listening at" in entry["message"] for entry in error_lines)


class FakeResponse:
    status = "404 Not Found"
    headers = (("Content-Type", "text/html"), ("X-Request-ID", "edge-0000aaaa"))
    sent = 3120


def test_an_access_line_has_the_path_without_its_query_and_the_responses_request_id(capsys):
    config = Config()
    config.set("accesslog", "-")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/staff/patients/",
        "QUERY_STRING": "q=Ada+Lovelace",
        "RAW_URI": "/staff/patients/?q=Ada+Lovelace",
        "HTTP_REFERER": "https://clinic.example.com/staff/patients/?q=Ada",
    }

    JsonLogger(config).access(FakeResponse(), None, environ, timedelta(milliseconds=12.5))

    [line] = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert entry["message"] == "GET /staff/patients/ 404"
    assert entry["request_id"] == "edge-0000aaaa"
    assert entry["http"] == {
        "method": "GET",
        "path": "/staff/patients/",
        "status": 404,
        "bytes": 3120,
        "duration_ms": 12.5,
    }
    assert "Ada" not in line
