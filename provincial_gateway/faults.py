"""Fault injection for tests and training: slow, failing, lying or vanishing answers.

A `FaultPlan` (on `app.state.faults`) holds rules; the ASGI `FaultMiddleware` consults it
for every request outside /admin. Kinds:

- `delay`: wait `delay_s` seconds, then answer normally.
- `status_5xx`: answer `status` (503) with `Retry-After`; nothing is processed.
- `truncate`: process the request, send the headers with the full Content-Length and
  half of the body, then close the connection.
- `captive_portal`: answer 200 text/html with a Wi-Fi login page; nothing is processed.
- `drop_before`: close the connection without any answer; nothing is processed.
- `drop_after`: process and commit the request, then close the connection without
  sending the answer: the client cannot know its request took effect.

Closing without an answer needs the TCP transport, which ASGI does not expose; uvicorn's
`receive` callable is a bound method of its request cycle, which holds the transport.
The middleware aborts that transport and waits until uvicorn has seen the connection
drop, so uvicorn does not try to send a 500 of its own.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FaultKind = Literal["delay", "status_5xx", "truncate", "captive_portal", "drop_before",
                    "drop_after"]
KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]
EXEMPT_PREFIX = "/admin"  # a trainer must always be able to clear the faults

CAPTIVE_PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Đăng nhập Wi-Fi</title></head>
<body><h1>Chào mừng đến với mạng Wi-Fi công cộng</h1>
<form method="post" action="/login"><label>Số điện thoại <input name="phone"></label>
<button>Đăng nhập</button></form></body></html>
""".encode()


@dataclass
class FaultRule:
    """One fault. `times`: fire on the next N matching requests; `rate`: fire with that
    probability (seeded RNG); neither: fire on every matching request."""

    kind: FaultKind
    path: str = ".*"  # regular expression searched in the request path
    method: str = ".*"  # regular expression matched against the whole method name
    times: int | None = None
    rate: float | None = None
    delay_s: float = 2.0
    status: int = 503
    retry_after: int = 1
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if not 500 <= self.status <= 599:
            raise ValueError("status must be a 5xx code")
        re.compile(self.path)
        re.compile(self.method)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str) -> bool:
        return bool(re.fullmatch(self.method, method, re.IGNORECASE)
                    and re.search(self.path, path))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "fired"}
        return cls(**known)


@dataclass(frozen=True)
class FaultHit:
    kind: str
    method: str
    path: str


class FaultPlan:
    """Thread-safe list of rules; the first matching, non-exhausted rule that fires wins."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = list(rules or [])
        self.seed = seed
        self._rng = random.Random(seed)
        self.hits: list[FaultHit] = []

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def add(self, kind: FaultKind, **options: Any) -> FaultRule:
        rule = FaultRule(kind=kind, **options)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def replace(self, rules: list[FaultRule], seed: int | None = None) -> None:
        with self._lock:
            self._rules = list(rules)
            if seed is not None:
                self.seed = seed
                self._rng = random.Random(seed)

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                if rule.rate is not None and self._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                self.hits.append(FaultHit(rule.kind, method, path))
                return rule
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [r.to_dict() for r in self.rules]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultPlan:
        return cls([FaultRule.from_dict(r) for r in data.get("rules", [])],
                   seed=int(data.get("seed", 0)))


async def _close_connection(receive: Receive, *, flush: bool) -> None:
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("connection faults need uvicorn's h11 or httptools protocol")
    if flush:
        transport.close()  # send what is buffered (the half body), then FIN
    else:
        transport.abort()  # drop at once
    for _ in range(200):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0.01)


async def _send_simple(send: Send, status: int, body: bytes, content_type: str,
                       extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIX):
            await self.app(scope, receive, send)
            return
        plan: FaultPlan | None = getattr(scope["app"].state, "faults", None)
        rule = plan.pick(scope["method"], scope["path"]) if plan else None
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.kind == "delay":
            await asyncio.sleep(rule.delay_s)
            await self.app(scope, receive, send)
        elif rule.kind == "status_5xx":
            body = json.dumps({"code": "unavailable", "missing": [],
                               "message": "Cổng tỉnh tạm thời không phục vụ; hãy thử lại sau."},
                              ensure_ascii=False).encode()
            await _send_simple(send, rule.status, body, "application/json",
                               ((b"retry-after", str(rule.retry_after).encode()),))
        elif rule.kind == "captive_portal":
            await _send_simple(send, 200, CAPTIVE_PAGE, "text/html; charset=utf-8")
        elif rule.kind == "drop_before":
            await _close_connection(receive, flush=False)
        else:
            messages: list[Message] = []

            async def capture(message: Message) -> None:
                messages.append(message)

            await self.app(scope, receive, capture)  # processed and committed here
            if rule.kind == "drop_after":
                await _close_connection(receive, flush=False)
                return
            start = next(m for m in messages if m["type"] == "http.response.start")
            body = b"".join(m.get("body", b"") for m in messages
                            if m["type"] == "http.response.body")
            await send(start)
            await send({"type": "http.response.body", "body": body[: len(body) // 2],
                        "more_body": True})
            await _close_connection(receive, flush=True)
