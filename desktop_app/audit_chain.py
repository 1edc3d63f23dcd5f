"""The station's side of the tamper-evident audit log: walking every chain for the doctor
(first broken link, in Vietnamese for the technician and as a precise English log line),
and reporting this PC's chain head to the gateway on each sync run, keeping the head the
gateway last acknowledged so a later walk can compare against it.

A local walk finds an entry deleted, inserted, edited or back-dated in the middle of a
chain; only a copy held elsewhere finds a chain cut at its end or rewritten from some
point on with fresh hashes. That copy is the gateway's history of heads."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from local_db import audit_chain, outbox
from local_db.audit_chain import Break, Head
from local_db.engine import Database
from sync_contract import wire

log = logging.getLogger(__name__)

ACK_KEY = "audit_head_ack"  # sync_state: "chain;seq;hash;verdict" the gateway answered
ACCEPTED = "accepted"

_KIND_VI = {
    "gap": "thiếu hoặc thừa mục (số thứ tự nhảy từ {expected} sang {found}): có mục đã bị "
           "xóa hoặc chèn thêm",
    "link": "mục đứng trước nó đã bị sửa hoặc xóa (mã băm nối không khớp)",
    "hash": "nội dung hoặc thời điểm của mục đã bị sửa (mã băm không khớp)",
    "anchor": "phần nhật ký cũ (ghi trước khi có chuỗi băm) đã bị cắt hoặc sửa",
}


def break_vi(b: Break) -> str:
    """One Vietnamese sentence for the technician: where the chain breaks and how."""
    expected, found = b.expected.removeprefix("seq "), b.found.removeprefix("seq ")
    how = _KIND_VI[b.kind].format(expected=expected, found=found)
    return (f"chuỗi “{b.chain}” đứt tại mục số thứ tự {b.seq} (mã mục {b.entry_id}): {how}")


@dataclass(frozen=True)
class GatewayAck:
    """The head this PC last sent and the gateway's verdict on it."""

    chain: str
    seq: int
    hash: str
    verdict: str

    def encode(self) -> str:
        return f"{self.chain};{self.seq};{self.hash};{self.verdict}"

    @staticmethod
    def decode(value: str) -> GatewayAck | None:
        parts = value.split(";")
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return GatewayAck(parts[0], int(parts[1]), parts[2], parts[3])


@dataclass
class Verification:
    """Every chain walked, and what the gateway's acknowledged head says of this PC's."""

    reports: list[audit_chain.ChainReport]
    elapsed_s: float
    ack: GatewayAck | None = None
    ack_problem: str = ""  # English, for the log; empty when the ack agrees
    ack_problem_vi: str = ""

    @property
    def broken(self) -> list[Break]:
        return [r.broken for r in self.reports if r.broken is not None]

    @property
    def entries(self) -> int:
        return sum(r.entries for r in self.reports)


def _compare_ack(db: Database, s: Any, ack: GatewayAck, v: Verification) -> None:
    if ack.chain != db.audit_chain:
        return
    here = audit_chain.hash_at(s, ack.chain, ack.seq)
    if here != ack.hash:
        v.ack_problem = (f"audit chain {ack.chain!r} at seq={ack.seq} has hash "
                         f"{here or 'none (entry missing)'}, the gateway acknowledged "
                         f"{ack.hash}")
        v.ack_problem_vi = (f"mục số {ack.seq} của chuỗi máy này khác với bản tỉnh đã xác "
                            "nhận: nhật ký đã bị viết lại hoặc cắt bớt sau lần đồng bộ đó")
    elif ack.verdict != ACCEPTED:
        v.ack_problem = (f"the gateway flagged this PC's audit head seq={ack.seq} as "
                         f"{ack.verdict}")
        v.ack_problem_vi = (f"tỉnh đã đánh dấu đầu chuỗi số {ack.seq} của máy này là bất "
                            f"thường ({ack.verdict}): nhật ký có thể đã bị viết lại")


def verify(db: Database, *, batch: int = 5000) -> Verification:
    """Walk every chain of the database (read only) and compare this PC's chain with the
    head the gateway acknowledged. Logs one English line per problem, no content."""
    started = time.monotonic()
    with db.read() as s:
        reports = audit_chain.verify_all(s, batch=batch)
        ack = GatewayAck.decode(outbox.get_state(s, ACK_KEY))
        v = Verification(reports, 0.0, ack)
        if ack is not None:
            _compare_ack(db, s, ack, v)
    v.elapsed_s = time.monotonic() - started
    for b in v.broken:
        log.error(b.log_line())
    if v.ack_problem:
        log.error(v.ack_problem)
    return v


# --- the head on the wire -------------------------------------------------------------


class HeadReporter:
    """Puts this PC's chain head (and the anchor the gateway checks it against) on every
    request of a sync run, and keeps the gateway's verdict when the run ends."""

    def __init__(self, db: Database, session: requests.Session) -> None:
        self.db = db
        self.session = session
        self.sent: Head | None = None
        self.verdict = ""
        session.hooks["response"].append(self._on_response)

    def _on_response(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        verdict = resp.headers.get(wire.AUDIT_VERDICT_HEADER, "")
        if verdict and self.sent is not None:
            self.verdict = verdict

    def before_run(self) -> None:
        self.sent, self.verdict = None, ""
        for name in (wire.AUDIT_HEAD_HEADER, wire.AUDIT_ANCHOR_HEADER):
            self.session.headers.pop(name, None)
        with self.db.read() as s:
            head = audit_chain.head(s, self.db.audit_chain)
            ack = GatewayAck.decode(outbox.get_state(s, ACK_KEY))
            anchor = (audit_chain.hash_at(s, ack.chain, ack.seq)
                      if ack is not None and ack.chain == self.db.audit_chain else None)
        if head is None:
            return
        self.sent = head
        self.session.headers[wire.AUDIT_HEAD_HEADER] = f"{head.chain};{head.seq};{head.hash}"
        if ack is not None and ack.chain == head.chain:
            # What this chain holds today where the gateway last saw it ("" if gone).
            self.session.headers[wire.AUDIT_ANCHOR_HEADER] = f"{ack.seq};{anchor or ''}"

    def after_run(self, now: datetime) -> None:
        if self.sent is None or not self.verdict:
            return
        ack = GatewayAck(self.sent.chain, self.sent.seq, self.sent.hash, self.verdict)
        with self.db.write() as s:
            outbox.set_state(s, ACK_KEY, ack.encode(), now)
        if self.verdict != ACCEPTED:
            log.error("the gateway flagged audit head chain=%r seq=%d as %s", ack.chain,
                      ack.seq, ack.verdict)
