"""A Kafka-frame proxy in front of the embedded broker that can hold every client's requests.

Topic rotation (``streams/kafka/rotation.py``) deletes a topic once its readers have
committed everything in it. Between "everything is read" and "delete" no record may be
written, or it would be deleted unread: Tansu has no conditional delete, so the proxy is
the fence. ``RequestGate`` listens on the broker's public address and forwards whole
request frames to Tansu on an internal port. ``hold()`` stops forwarding new requests
(they wait, the clients see a short delay) and returns once every produce request already
forwarded has been answered; ``release()`` lets the waiting requests through in order.
Requests whose client id is ``EXEMPT_CLIENT_ID`` (the rotation's own clients) always pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
import time

__all__ = ["EXEMPT_CLIENT_ID", "RequestGate", "produce_needs_answer"]

#: Requests with this client id pass a held gate (the rotation's own admin/consumer/producer).
EXEMPT_CLIENT_ID = "newswatch-rotation"
_EXEMPT = EXEMPT_CLIENT_ID.encode()
_PRODUCE = 0


def produce_needs_answer(body: bytes) -> bool:
    """True unless ``body`` is a Produce request (header v1, version < 9) with ``acks=0``."""
    api_key, version = struct.unpack_from(">hh", body, 0)
    if api_key != _PRODUCE:
        return False
    if version >= 9:  # flexible header: not parsed; counted as answered-to-come (safe side)
        return True
    (client_len,) = struct.unpack_from(">h", body, 8)
    pos = 10 + max(client_len, 0)
    if version >= 3:  # transactional_id (nullable string) comes first
        (txn_len,) = struct.unpack_from(">h", body, pos)
        pos += 2 + max(txn_len, 0)
    (acks,) = struct.unpack_from(">h", body, pos)
    return bool(acks != 0)


def _client_id(body: bytes) -> bytes:
    (size,) = struct.unpack_from(">h", body, 8)
    return body[10 : 10 + size] if size > 0 else b""


async def _read_frame(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One Kafka frame: its 4-byte size prefix and the request or response it sizes."""
    head = await reader.readexactly(4)
    return head, await reader.readexactly(struct.unpack(">i", head)[0])


class _Link:
    """One client connection: the produce requests forwarded and not answered yet."""

    def __init__(self) -> None:
        self.pending: set[int] = set()


class RequestGate:
    """Forwards Kafka frames from ``listen`` to ``upstream``; ``hold`` fences new requests."""

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int]) -> None:
        self.listen = listen
        self.upstream = upstream
        self._loop = asyncio.new_event_loop()
        self._open = asyncio.Event()
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="broker-gate")
        self._thread.daemon = True

    def start(self) -> RequestGate:
        """Listen on ``listen`` (raises OSError when the port is taken)."""
        self._thread.start()
        self._call(self._start_server(), 10.0)
        return self

    def stop(self) -> None:
        """Close the listener and every connection, end the thread and its loop."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._call(self._close(), 5.0)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5.0)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()

    def hold(self, timeout_s: float = 5.0) -> bool:
        """Stop forwarding; True once no forwarded produce awaits its answer (else release)."""
        self._loop.call_soon_threadsafe(self._open.clear)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._call(self._quiet(), timeout_s):
                return True
            time.sleep(0.005)
        self.release()
        return False

    def release(self) -> None:
        """Forward again (the held requests first, in their order per connection)."""
        self._loop.call_soon_threadsafe(self._open.set)

    def _call(self, coro: object, timeout_s: float) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)  # type: ignore[arg-type]

    async def _quiet(self) -> bool:
        return not self._open.is_set() and not any(link.pending for link in self._links)

    async def _start_server(self) -> None:
        self._open.set()
        self._server = await asyncio.start_server(self._serve, *self.listen)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in asyncio.all_tasks(self._loop):
            if task is not asyncio.current_task():
                task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        link = _Link()
        self._links.add(link)
        pumps = [
            asyncio.ensure_future(self._requests(reader, up_writer, link)),
            asyncio.ensure_future(self._responses(up_reader, writer, link)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # the gate is closing: end quietly (asyncio logs a cancelled handler)
        finally:
            for pump in pumps:
                pump.cancel()
            self._links.discard(link)
            for w in (writer, up_writer):
                w.close()

    async def _requests(
        self, reader: asyncio.StreamReader, out: asyncio.StreamWriter, link: _Link
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, struct.error):
            while True:
                head, body = await _read_frame(reader)
                if _client_id(body) != _EXEMPT:
                    await self._open.wait()  # returns at once when open: no switch before write
                if produce_needs_answer(body):
                    link.pending.add(struct.unpack_from(">i", body, 4)[0])
                out.write(head + body)
                await out.drain()

    async def _responses(
        self, reader: asyncio.StreamReader, out: asyncio.StreamWriter, link: _Link
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, struct.error):
            while True:
                head, body = await _read_frame(reader)
                link.pending.discard(struct.unpack_from(">i", body, 0)[0])
                out.write(head + body)
                await out.drain()
