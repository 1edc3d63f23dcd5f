"""A TCP proxy that emulates the commune's bad internet link, for tests and benchmarks.

It sits between a client (the app under test) and an upstream server and forwards bytes
both ways while applying a `LinkProfile`: one-way latency, bandwidth caps shared by all
connections, random stalls, cuts (TCP RST), the link being down, or a captive portal
answering instead of the upstream server.

    with FaultProxy("127.0.0.1", server_port) as proxy:
        proxy.set_profile(LinkProfile.commune())
        requests.get(proxy.url_for() + "/api/ping")

The proxy runs its own asyncio loop in a daemon thread so synchronous tests can drive it;
every public method is thread-safe and returns once the change has taken effect.

With ``record=True`` the proxy also keeps what the link did (`LinkSchedule`): when each
connection was accepted and let through, each slice's time on the shared line, when it
was due and when it was delivered, and the stalls. Tests check the link's behaviour on
that schedule, which does not depend on how busy the machine is; how close the measured
times come to the ideal link is a benchmark (bench/bench_fault_proxy.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import math
import random
import socket
import struct
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = ["ConnRecord", "FaultProxy", "LinkCounters", "LinkProfile", "LinkSchedule",
           "SliceRecord"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

_READ_SIZE = 64 * 1024
# One Ethernet segment: slow links are fed in slices this small so a 256 kbit/s transfer
# trickles smoothly instead of in 64 kB bursts two seconds apart.
_MSS = 1460
# Fast links use bigger slices (about this much link time each) to keep the overhead down.
_SLICE_SECONDS = 0.005
# Timer wake-ups are late by a millisecond or so; forgiving that much idle time keeps the
# measured rate on target without allowing a noticeable burst.
_SLACK_SECONDS = 0.02
# Chunks in flight per direction per connection (covers bandwidth x latency many times).
_QUEUE_CHUNKS = 64
# Random stalls and cuts are drawn on a fixed tick so a seed replays the same schedule.
_TICK_SECONDS = 0.1
_CONNECT_TIMEOUT = 10.0
_CLOSE_TIMEOUT = 5.0
_CAPTIVE_READ_TIMEOUT = 5.0
_CALL_TIMEOUT = 10.0

_CAPTIVE_HTML = """<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>Đăng nhập Wi-Fi</title></head>
<body>
<h1>Wi-Fi miễn phí</h1>
<p>Vui lòng đăng nhập để sử dụng Internet.</p>
<form method="post" action="/login">
<label>Số điện thoại: <input name="phone" type="tel"></label>
<button type="submit">Đăng nhập</button>
</form>
</body>
</html>
""".encode()
_CAPTIVE_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"Content-Length: %d\r\n"
    b"Cache-Control: no-store\r\n"
    b"Connection: close\r\n"
    b"\r\n" % len(_CAPTIVE_HTML)
) + _CAPTIVE_HTML


@dataclass(frozen=True, slots=True)
class LinkProfile:
    """How bad the link is. Immutable: derive variants with `dataclasses.replace`.

    Bandwidths are in bits per second (None = unlimited) and are shared by all connections
    in that direction, like flows over one modem. `stall_seconds` is a fixed duration or a
    (min, max) range drawn uniformly. Rates are Poisson events per second.
    """

    latency_ms: float = 0.0  # one-way, added to each direction
    up_bps: int | None = None  # client -> upstream
    down_bps: int | None = None  # upstream -> client
    stall_rate: float = 0.0
    stall_seconds: float | tuple[float, float] = 0.0
    cut_after_bytes_up: int | None = None  # per connection
    cut_after_bytes_down: int | None = None
    cut_rate: float = 0.0  # random cuts per second, one open connection each
    offline: bool = False  # new connections reset on arrival, open ones cut
    captive_portal: bool = False  # answered by the "gateway" at once, upstream untouched
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("latency_ms", "stall_rate", "cut_rate"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("up_bps", "down_bps"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 or None")
        for name in ("cut_after_bytes_up", "cut_after_bytes_down"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0 or None")
        low, high = self.stall_range
        if not 0 <= low <= high:
            raise ValueError("stall_seconds must be >= 0 and (min, max) ordered")

    @property
    def stall_range(self) -> tuple[float, float]:
        if isinstance(self.stall_seconds, tuple):
            return self.stall_seconds
        return (self.stall_seconds, self.stall_seconds)

    @classmethod
    def commune(cls) -> LinkProfile:
        """The commune's link: 256 kbit/s both ways, 300 ms round trip."""
        return cls(latency_ms=150, up_bps=256_000, down_bps=256_000)

    @classmethod
    def commune_with_stalls(cls, seed: int | None = None) -> LinkProfile:
        """The commune's link freezing for 2-5 s about once every 50 s."""
        return replace(cls.commune(), stall_rate=0.02, stall_seconds=(2.0, 5.0), seed=seed)


@dataclass
class LinkCounters:
    bytes_up: int = 0  # forwarded to upstream
    bytes_down: int = 0  # forwarded to the client
    connections: int = 0  # client connections accepted, including refused ones
    refused: int = 0  # reset on arrival because the link was offline
    cuts: int = 0  # connections killed on purpose (cut_after_bytes, cut_rate, cut_all, offline)
    stalls: int = 0


@dataclass(frozen=True, slots=True)
class SliceRecord:
    """One slice's trip across the link, in the proxy loop's clock (time.monotonic())."""

    conn: int
    direction: str  # "up" (client -> upstream) or "down"
    nbytes: int  # forwarded (fewer than read when a cut fell inside this slice)
    offered_at: float  # read from the sender and offered to the link
    line: tuple[float, float] | None  # (start, end) on the shared line; None: no cap
    due: float  # may arrive from then on: off the line (or offered) + one-way latency
    delivered_at: float  # handed to the receiver


@dataclass(frozen=True, slots=True)
class ConnRecord:
    id: int
    accepted_at: float
    upstream_at: float | None = None  # connecting upstream began (after the handshake)


@dataclass(frozen=True)
class LinkSchedule:
    connections: tuple[ConnRecord, ...]
    slices: tuple[SliceRecord, ...]
    stalls: tuple[tuple[float, float], ...]  # (start, end) as booked

    def of(self, direction: str, conn: int | None = None) -> list[SliceRecord]:
        return [s for s in self.slices
                if s.direction == direction and (conn is None or s.conn == conn)]


class _Dir(enum.IntEnum):
    UP = 0  # client -> upstream
    DOWN = 1  # upstream -> client


@dataclass(frozen=True, slots=True)
class _Slice:
    """A slice in the pipe between the two pumps of one direction."""

    due: float
    data: bytes
    offered_at: float
    line: tuple[float, float] | None


@dataclass(eq=False)
class _Conn:
    id: int
    client: asyncio.StreamWriter
    task: asyncio.Task[None]  # the handler; cancelling it tears the connection down
    upstream: asyncio.StreamWriter | None = None
    sent: list[int] = field(default_factory=lambda: [0, 0])  # bytes forwarded, by _Dir

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]


class _Shaper:
    """One direction of the link as a serial line that sends one slice after another.

    A token bucket with (almost) no burst, written as reservations: each slice books the
    next free slot, so concurrent connections share the capacity in FIFO order and a slice
    never waits longer than the link needs.
    """

    def __init__(self) -> None:
        self._free_at = 0.0

    def reserve(self, nbytes: int, bps: int, now: float) -> tuple[float, float]:
        """Book the line for nbytes; return (start, end): when their first bit goes and
        when their last bit has left."""
        start = max(self._free_at, now - _SLACK_SECONDS)
        self._free_at = start + nbytes * 8 / bps
        return start, self._free_at


class _Dice:
    """Random stalls and cuts; one roll per tick so a seed gives the same schedule."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)

    def roll(self, profile: LinkProfile, dt: float) -> tuple[float | None, bool]:
        """Return (stall duration or None, whether to cut a connection) for one tick."""
        stall = None
        if profile.stall_rate > 0 and self._rng.random() < _chance(profile.stall_rate, dt):
            stall = self._rng.uniform(*profile.stall_range)
        cut = profile.cut_rate > 0 and self._rng.random() < _chance(profile.cut_rate, dt)
        return stall, cut

    def pick(self, ids: list[int]) -> int:
        return self._rng.choice(ids)


def _chance(rate: float, dt: float) -> float:
    """P(at least one event within dt) for a Poisson process with this rate."""
    return -math.expm1(-rate * dt)


class FaultProxy:
    """Forward TCP from an ephemeral local port to upstream through an emulated bad link."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        listen_host: str = "127.0.0.1",
        profile: LinkProfile | None = None,
        record: bool = False,
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.listen_host = listen_host
        self._lock = threading.Lock()  # guards _profile, _counters, _loop/_thread
        self._profile = profile or LinkProfile()
        self._counters = LinkCounters()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self._port: int | None = None
        # State below is only touched on the proxy's loop thread.
        self._listener: socket.socket | None = None
        self._conns: dict[int, _Conn] = {}
        self._ids = itertools.count(1)
        self._shapers = (_Shaper(), _Shaper())
        self._stalled_until = 0.0
        self._dice = _Dice(self._profile.seed)
        self._profile_changed = asyncio.Event()
        # Strong references: the loop itself only keeps weak ones to running tasks.
        self._tasks: set[asyncio.Task[None]] = set()
        self._accept_retry: asyncio.TimerHandle | None = None
        # The schedule, when recorded (loop thread only; `schedule()` copies it).
        self._record = record
        self._conn_log: dict[int, ConnRecord] = {}
        self._slice_log: list[SliceRecord] = []
        self._stall_log: list[tuple[float, float]] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        with self._lock:
            if self._started:
                raise RuntimeError("a FaultProxy can only be started once")
            self._started = True
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=self._run_loop,
            args=(loop,),
            name=f"FaultProxy-{self.upstream_port}",
            daemon=True,  # a test that forgets stop() must not hang the interpreter
        )
        thread.start()
        try:
            port = asyncio.run_coroutine_threadsafe(self._open(), loop).result(_CALL_TIMEOUT)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            raise
        with self._lock:
            self._port, self._loop, self._thread = port, loop, thread
        return self

    def stop(self) -> None:
        """Close the listener, reset every connection and end the thread. Idempotent."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(_CALL_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_CALL_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FaultProxy not started")
        return self._port

    def url_for(self, scheme: str = "http") -> str:
        host = f"[{self.listen_host}]" if ":" in self.listen_host else self.listen_host
        return f"{scheme}://{host}:{self.port}"

    # -- control -----------------------------------------------------------------------

    @property
    def profile(self) -> LinkProfile:
        with self._lock:
            return self._profile

    def set_profile(self, profile: LinkProfile) -> None:
        """Switch the link's behaviour now; in-flight transfers pick it up per slice.

        A profile with a seed restarts the random schedule. Going offline cuts every open
        connection before this returns.
        """
        with self._lock:
            self._profile = profile
        self._in_loop(lambda: self._apply_profile(profile))

    def cut_all(self) -> int:
        """Reset every open connection now; return how many were cut."""
        return self._in_loop(self._cut_all) or 0

    def stall(self, seconds: float) -> None:
        """Freeze the link (both directions, all connections) for this long, from now."""
        self._in_loop(lambda: self._begin_stall(seconds))

    def schedule(self) -> LinkSchedule:
        """What the link did so far (needs ``record=True``)."""
        if not self._record:
            raise RuntimeError("FaultProxy(record=True) keeps the schedule")

        def snapshot() -> LinkSchedule:
            return LinkSchedule(tuple(self._conn_log.values()), tuple(self._slice_log),
                                tuple(self._stall_log))

        return self._in_loop(snapshot) or snapshot()

    # -- counters ----------------------------------------------------------------------

    def counters(self) -> LinkCounters:
        """A consistent snapshot of all counters."""
        with self._lock:
            return replace(self._counters)

    def reset_counters(self) -> None:
        with self._lock:
            self._counters = LinkCounters()

    @property
    def bytes_up(self) -> int:
        return self.counters().bytes_up

    @property
    def bytes_down(self) -> int:
        return self.counters().bytes_down

    @property
    def connections(self) -> int:
        return self.counters().connections

    @property
    def refused(self) -> int:
        return self.counters().refused

    @property
    def cuts(self) -> int:
        return self.counters().cuts

    @property
    def stalls(self) -> int:
        return self.counters().stalls

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self._counters, name, getattr(self._counters, name) + delta)

    # -- loop plumbing -----------------------------------------------------------------

    def _in_loop(self, fn: Callable[[], _T]) -> _T | None:
        """Run fn on the proxy's loop and wait for it; None if the proxy is not running."""
        with self._lock:
            loop, thread = self._loop, self._thread
        if loop is None:
            return None
        if threading.current_thread() is thread:
            return fn()

        async def call() -> _T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(_CALL_TIMEOUT)

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _open(self) -> int:
        # A plain listening socket with our own accept callback rather than start_server or
        # sock_accept: on Python 3.11 both can drop an accepted socket unclosed when the
        # server is closed or the accept is cancelled at the wrong moment.
        family = socket.AF_INET6 if ":" in self.listen_host else socket.AF_INET
        listener = socket.create_server((self.listen_host, 0), family=family, backlog=512)
        listener.setblocking(False)
        self._listener = listener
        self._dice = _Dice(self._profile.seed)
        asyncio.get_running_loop().add_reader(listener, self._accept)
        self._spawn(self._chaos())
        return listener.getsockname()[1]

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _accept(self) -> None:
        assert self._listener is not None
        loop = asyncio.get_running_loop()
        for _ in range(64):  # bounded, so a connection flood cannot starve transfers
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # e.g. EMFILE: the listener stays readable, so pause instead of spinning.
                log.warning("fault proxy: accept failed: %r", exc)
                loop.remove_reader(self._listener)
                self._accept_retry = loop.call_later(
                    0.1, loop.add_reader, self._listener, self._accept
                )
                return
            sock.setblocking(False)
            # asyncio only sets TCP_NODELAY when sock.proto is IPPROTO_TCP, and accepted
            # sockets report proto 0. Nagle would hold small slices for a delayed ACK (40 ms).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self._spawn(self._serve(sock))
            # Closed whatever happens to the task, even if it is cancelled before its first
            # step (its coroutine, and so its own cleanup, would then never run).
            task.add_done_callback(lambda _task, sock=sock: sock.close())

    async def _shutdown(self) -> None:
        assert self._listener is not None
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._listener)  # accept nothing more
        if self._accept_retry is not None:
            self._accept_retry.cancel()
        self._listener.close()  # clients still in the accept backlog get a reset
        me = asyncio.current_task()
        # Repeat until no task is left: a handler's cleanup may schedule one more step.
        while tasks := [t for t in asyncio.all_tasks() if t is not me]:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        # abort()/close() release sockets in call_soon callbacks: let those run before the
        # loop stops, or the file descriptors would leak.
        for _ in range(3):
            await asyncio.sleep(0)

    def _apply_profile(self, profile: LinkProfile) -> None:
        if profile.seed is not None:
            self._dice = _Dice(profile.seed)
        if profile.offline:
            self._cut_all()
        self._profile_changed.set()  # wake the chaos task if it was idle

    # -- link behaviour ----------------------------------------------------------------

    async def _chaos(self) -> None:
        """Draw random stalls and cuts while the profile asks for them."""
        loop = asyncio.get_running_loop()
        while True:
            profile = self._profile
            if profile.stall_rate == 0 and profile.cut_rate == 0:
                # Nothing random to do: sleep until set_profile rather than tick for nothing.
                self._profile_changed.clear()
                await self._profile_changed.wait()
                continue
            await asyncio.sleep(_TICK_SECONDS)
            stall, cut = self._dice.roll(self._profile, _TICK_SECONDS)
            if stall is not None and loop.time() >= self._stalled_until:
                self._begin_stall(stall)
            if cut and self._conns:
                self._cut(self._conns[self._dice.pick(sorted(self._conns))])

    def _begin_stall(self, seconds: float) -> None:
        now = asyncio.get_running_loop().time()
        self._stalled_until = max(self._stalled_until, now + seconds)
        self._count(stalls=1)
        if self._record:
            self._stall_log.append((now, now + seconds))

    async def _wait_stall(self) -> None:
        loop = asyncio.get_running_loop()
        while (left := self._stalled_until - loop.time()) > 0:
            await asyncio.sleep(left)

    def _cut_all(self) -> int:
        conns = list(self._conns.values())
        for conn in conns:
            self._cut(conn)
        return len(conns)

    def _cut(self, conn: _Conn) -> None:
        self._count(cuts=1)
        self._kill(conn)

    def _kill(self, conn: _Conn) -> None:
        self._conns.pop(conn.id, None)
        for writer in conn.writers():
            _reset(writer)
        conn.task.cancel()

    # -- one connection ----------------------------------------------------------------

    async def _serve(self, sock: socket.socket) -> None:
        self._count(connections=1)
        accepted_at = asyncio.get_running_loop().time()
        task = asyncio.current_task()
        assert task is not None
        try:
            reader, writer = await asyncio.open_connection(sock=sock)
        except OSError:
            return  # the client is already gone; the done-callback closes the socket
        conn = _Conn(next(self._ids), writer, task)
        self._conns[conn.id] = conn
        if self._record:
            self._conn_log[conn.id] = ConnRecord(conn.id, accepted_at)
        try:
            if await self._handle(conn, reader):
                self._conns.pop(conn.id, None)  # ended normally: nothing left to cut
                await asyncio.gather(*(_close(w) for w in conn.writers()))
        except Exception:
            # Whatever goes wrong in one connection must not take the proxy down.
            log.exception("fault proxy: connection %d failed", conn.id)
        finally:
            self._conns.pop(conn.id, None)
            for w in conn.writers():
                if not w.is_closing():  # not closed normally above: the peer sees a reset
                    _reset(w)

    async def _handle(self, conn: _Conn, creader: asyncio.StreamReader) -> bool:
        """Run the connection; True if it ended normally and may close with FIN."""
        profile = self._profile
        if profile.offline:
            self._count(refused=1)
            return False
        if profile.captive_portal:
            return await self._captive_portal(creader, conn.client)
        # The client's connect() completed locally, but over the real link the SYN and
        # SYN-ACK would have crossed it first: a new connection costs one round trip.
        await asyncio.sleep(2 * profile.latency_ms / 1000)
        await self._wait_stall()
        if self._record:
            self._conn_log[conn.id] = replace(self._conn_log[conn.id],
                                              upstream_at=asyncio.get_running_loop().time())
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT):
                ureader, conn.upstream = await asyncio.open_connection(
                    self.upstream_host, self.upstream_port
                )
        except (OSError, TimeoutError) as exc:
            log.debug("fault proxy: upstream unreachable: %r", exc)
            return False  # the client sees a reset, as it would through a real link
        if self._profile.offline:  # the link went down during the handshake
            self._count(refused=1)
            return False

        up: asyncio.Queue[_Slice | None] = asyncio.Queue(_QUEUE_CHUNKS)
        down: asyncio.Queue[_Slice | None] = asyncio.Queue(_QUEUE_CHUNKS)
        peer_reset = False
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._pump_in(creader, up, _Dir.UP))
                tg.create_task(self._pump_out(up, conn.upstream, conn, _Dir.UP))
                tg.create_task(self._pump_in(ureader, down, _Dir.DOWN))
                tg.create_task(self._pump_out(down, conn.client, conn, _Dir.DOWN))
        except* OSError:
            peer_reset = True  # one side reset or vanished: pass the reset on to the other
        return not peer_reset

    async def _pump_in(
        self,
        src: asyncio.StreamReader,
        queue: asyncio.Queue[_Slice | None],
        direction: _Dir,
    ) -> None:
        """Read, push through the shared bandwidth cap, and stamp each slice's arrival."""
        loop = asyncio.get_running_loop()
        shaper = self._shapers[direction]
        while data := await src.read(_READ_SIZE):
            offset = 0
            while offset < len(data):
                # Stop taking data while stalled, so the backlog does not burst out after.
                await self._wait_stall()
                profile = self._profile  # per slice, so set_profile applies mid-transfer
                bps = profile.up_bps if direction is _Dir.UP else profile.down_bps
                chunk = data[offset : offset + _slice_size(bps)]
                offset += len(chunk)
                offered_at = sent_at = loop.time()
                line = None
                if bps is not None:
                    line = shaper.reserve(len(chunk), bps, offered_at)
                    sent_at = line[1]
                    await _sleep_until(loop, sent_at)
                # Only the arrival time is delayed, not the next read: a pipe with a delay
                # (many slices in flight), not stop-and-wait.
                await queue.put(_Slice(sent_at + profile.latency_ms / 1000, chunk,
                                       offered_at, line))
        await queue.put(None)  # EOF travels through the pipe in order: half-close

    async def _pump_out(
        self,
        queue: asyncio.Queue[_Slice | None],
        dst: asyncio.StreamWriter,
        conn: _Conn,
        direction: _Dir,
    ) -> None:
        """Deliver slices when they are due; cut the connection at its byte limit."""
        loop = asyncio.get_running_loop()
        while (item := await queue.get()) is not None:
            due, chunk = item.due, item.data
            await _sleep_until(loop, due)
            await self._wait_stall()
            profile = self._profile
            if direction is _Dir.UP:
                limit = profile.cut_after_bytes_up
            else:
                limit = profile.cut_after_bytes_down
            if limit is not None and conn.sent[direction] + len(chunk) >= limit:
                last = chunk[: max(0, limit - conn.sent[direction])]
                self._forward(dst, last, conn, direction)
                self._note(conn, direction, item, len(last))
                self._cut(conn)
                return
            self._forward(dst, chunk, conn, direction)
            self._note(conn, direction, item, len(chunk))
            await dst.drain()  # backpressure: a slow reader stalls this pipe, not memory
        if dst.can_write_eof():
            dst.write_eof()

    def _note(self, conn: _Conn, direction: _Dir, item: _Slice, nbytes: int) -> None:
        if self._record:
            self._slice_log.append(SliceRecord(
                conn.id, "up" if direction is _Dir.UP else "down", nbytes, item.offered_at,
                item.line, item.due, asyncio.get_running_loop().time()))

    def _forward(
        self, dst: asyncio.StreamWriter, chunk: bytes, conn: _Conn, direction: _Dir
    ) -> None:
        # Count first: once written, the client may already read the counters.
        conn.sent[direction] += len(chunk)
        if direction is _Dir.UP:
            self._count(bytes_up=len(chunk))
        else:
            self._count(bytes_down=len(chunk))
        dst.write(chunk)

    async def _captive_portal(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer like a hotel/commune Wi-Fi gateway that wants a login first."""
        try:
            async with asyncio.timeout(_CAPTIVE_READ_TIMEOUT):
                if await reader.readexactly(1) == b"\x16":
                    return False  # a TLS ClientHello: the portal cannot answer HTTPS
                await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            return False
        writer.write(_CAPTIVE_RESPONSE)
        await writer.drain()
        writer.write_eof()
        # Swallow any request body until the client closes: closing a socket with unread
        # data makes the kernel send RST, and the client could lose the page.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CAPTIVE_READ_TIMEOUT):
                while await reader.read(_READ_SIZE):
                    pass
        return True


def _slice_size(bps: int | None) -> int:
    if bps is None:
        return _READ_SIZE
    return max(_MSS, min(_READ_SIZE, int(bps / 8 * _SLICE_SECONDS)))


async def _sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    delay = when - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER 0), so the peer fails fast and visibly."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close with FIN after flushing; give up and abort if the peer will not take the data."""
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        writer.transport.abort()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise
