"""Real engines the scale-out tests start and stop: PgBouncer, throwaway PostgreSQL
clusters (a primary and its streaming replica), gunicorn and ``qcluster`` processes.

Everything listens on 127.0.0.1 on a free port and lives in a temporary directory that
is removed afterwards, failure or not. PostgreSQL and PgBouncer refuse to run as root,
so when the tests run as root (CI does) those processes run as the ``postgres`` user
(``runuser``), in a directory that user owns. Anything missing (a binary, the user) is a
failure with what to install, never a skip: .ci/run installs it.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
PGBOUNCER = Path("/usr/sbin/pgbouncer")
GUNICORN = Path(sys.executable).parent / "gunicorn"
SERVICE_USER = "postgres"
READY_SECONDS = 30

# The variables of the tests' own environment a child must not inherit.
APP_VARIABLES = {
    "DATABASE_URL",
    "DATABASE_REPLICA_URLS",
    "DATABASE_POOLER",
    "REPLICA_PIN_SECONDS",
    "REDIS_URL",
    "EMAIL_URL",
    "Q_WORKERS",
    "WEB_CONCURRENCY",
    "DJANGO_SETTINGS_MODULE",
}


def need(path: Path, package: str) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: apt-get install -y {package} (.ci/run does).")
    return path


def as_service_user(command: list[str]) -> list[str]:
    """``command`` as the postgres user when we are root, as ourselves otherwise."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVICE_USER, "--", *command]


@contextmanager
def service_directory(prefix: str) -> Iterator[Path]:
    """A fresh directory the service user owns (pytest's tmp_path is root's, mode 700)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, SERVICE_USER, SERVICE_USER)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def write_as_service_user(path: Path, text: str) -> None:
    path.write_text(text)
    if os.geteuid() == 0:
        shutil.chown(path, SERVICE_USER, SERVICE_USER)


def run_checked(command: list[str], what: str, timeout: float = 60) -> str:
    # Our own commands: the PostgreSQL and PgBouncer binaries with generated arguments.
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def wait_for(condition: Callable[[], bool], what: str, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up after {READY_SECONDS} s waiting for {what}.\n{logs()}")
        time.sleep(0.1)


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# --- PostgreSQL clusters ----------------------------------------------------------------


@dataclass
class Cluster:
    """A throwaway PostgreSQL 15 cluster, its data directory in ``directory``."""

    name: str
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / self.name

    @property
    def log(self) -> Path:
        return self.directory / f"{self.name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        pg_ctl = need(POSTGRES_BIN / "pg_ctl", "postgresql-15")
        run_checked(
            as_service_user(
                [str(pg_ctl), "start", "-w", "-t", "30", "-D", str(self.data), "-l", str(self.log)]
            ),
            f"starting the {self.name} cluster",
        )

    def stop(self) -> None:
        pg_ctl = POSTGRES_BIN / "pg_ctl"
        if (self.data / "postmaster.pid").exists():
            # Immediate: nothing in it is kept, and a stuck client cannot delay the stop.
            subprocess.run(  # noqa: S603
                as_service_user([str(pg_ctl), "stop", "-m", "immediate", "-D", str(self.data)]),
                capture_output=True,
                timeout=30,
                check=False,
            )

    def configure(self, settings: dict[str, str]) -> None:
        lines = [f"{name} = '{value}'" for name, value in settings.items()]
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")


# Fast and small: nothing here must survive a crash.
THROWAWAY_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "50",
    "shared_buffers": "32MB",
    "wal_level": "replica",
    "max_wal_senders": "4",
    "hot_standby": "on",
}


def start_primary(directory: Path) -> Cluster:
    initdb = need(POSTGRES_BIN / "initdb", "postgresql-15")
    primary = Cluster("primary", directory, free_port())
    run_checked(
        as_service_user(
            [
                str(initdb),
                "--pgdata",
                str(primary.data),
                "--username",
                "postgres",
                # Trust on 127.0.0.1, replication included: a throwaway cluster that
                # listens on the loopback address only.
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-sync",
            ]
        ),
        "initdb of the primary",
    )
    primary.configure(
        THROWAWAY_SETTINGS | {"port": str(primary.port), "unix_socket_directories": str(directory)}
    )
    primary.start()
    return primary


def start_replica(primary: Cluster, *, apply_delay: str) -> Cluster:
    """A streaming replica of ``primary`` (pg_basebackup -R) that applies each commit
    ``apply_delay`` after it happened on the primary."""
    basebackup = need(POSTGRES_BIN / "pg_basebackup", "postgresql-15")
    replica = Cluster("replica", primary.directory, free_port())
    run_checked(
        as_service_user(
            [
                str(basebackup),
                "--host",
                "127.0.0.1",
                "--port",
                str(primary.port),
                "--username",
                "postgres",
                "--pgdata",
                str(replica.data),
                "--write-recovery-conf",
                "--wal-method",
                "stream",
                "--checkpoint",
                "fast",
                "--no-sync",
            ]
        ),
        "pg_basebackup of the replica",
    )
    replica.configure({"port": str(replica.port), "recovery_min_apply_delay": apply_delay})
    replica.start()
    return replica


# --- PgBouncer ---------------------------------------------------------------------------


@dataclass
class Bouncer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def pgbouncer(
    *, server_host: str, server_port: int, user: str, password: str, pool_size: int
) -> Iterator[Bouncer]:
    """PgBouncer in transaction pooling mode in front of the server, at most
    ``pool_size`` server connections per database (fewer than its clients, so that
    transactions of different clients really share server connections) handed out in
    turn (server_round_robin) rather than the last used first."""
    binary = need(PGBOUNCER, "pgbouncer")
    with service_directory("clinic-pgbouncer-") as directory:
        port = free_port()
        write_as_service_user(
            directory / "pgbouncer.ini",
            f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "userlist.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_round_robin = 1
pidfile = {directory / "pgbouncer.pid"}
""",
        )
        # trust: PgBouncer asks its clients nothing but still needs the user listed; the
        # password is what it sends the server, if the server asks for one.
        write_as_service_user(directory / "userlist.txt", f'"{user}" "{password}"\n')
        log = directory / "pgbouncer.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 (Debian's binary, our generated ini)
                as_service_user([str(binary), str(directory / "pgbouncer.ini")]),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        bouncer = Bouncer(port, process, log)
        try:
            wait_for(lambda: accepts_connections(port), "PgBouncer", lambda: log.read_text())
            yield bouncer
        finally:
            bouncer.stop()


# --- gunicorn and qcluster ---------------------------------------------------------------


@dataclass
class Child:
    """A process group of ours: a gunicorn master and its workers, or a qcluster."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    def log_tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(lines[-40:])

    def stop(self) -> None:
        stop_all([self])


def stop_all(children: list[Child]) -> None:
    """SIGTERM to every group at once, then SIGKILL to any still running after 5 s: the
    test waits for a graceful stop no longer than that."""
    running = [child for child in children if child.process.poll() is None]
    for child in running:
        os.killpg(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for child in running:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait(timeout=10)


def app_environment(**variables: str) -> dict[str, str]:
    """The environment of a web or worker process: development mode (no real keys
    needed), with the tests' database-related variables replaced by ``variables``."""
    env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
    return env | {"DEBUG": "true", "PYTHONUNBUFFERED": "1"} | variables


def spawn(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Child:
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our interpreter, gunicorn, manage.py)
            command,
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group, so that one killpg reaches all its processes.
            start_new_session=True,
        )
    return Child(name, process, log)


def start_gunicorn(
    name: str, env: dict[str, str], log_dir: Path, *, workers: int = 3, app: str = "clinic.wsgi"
) -> Child:
    port = free_port()
    command = [str(GUNICORN), "--config", "gunicorn.conf.py", "--workers", str(workers), app]
    child = spawn(name, command, env | {"GUNICORN_BIND": f"127.0.0.1:{port}"}, log_dir)
    child.port = port
    return child


def wait_until_serving(children: list[Child]) -> None:
    def serving() -> bool:
        for child in children:
            if child.process.poll() is not None:
                pytest.fail(f"{child.name} exited.\n{child.log_tail()}")
        return all(accepts_connections(child.port) for child in children)

    wait_for(serving, "gunicorn", lambda: "\n".join(c.log_tail() for c in children))


def start_qcluster(name: str, env: dict[str, str], log_dir: Path, *, workers: int = 2) -> Child:
    command = [sys.executable, "manage.py", "qcluster"]
    return spawn(name, command, env | {"Q_WORKERS": str(workers)}, log_dir)


def wait_until_running(children: list[Child]) -> None:
    def running() -> bool:
        for child in children:
            if child.process.poll() is not None:
                pytest.fail(f"{child.name} exited.\n{child.log_tail()}")
        return all("running." in child.log.read_text(errors="replace") for child in children)

    wait_for(running, "the clusters", lambda: "\n".join(c.log_tail() for c in children))
