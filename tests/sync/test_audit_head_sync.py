"""A sync run carries the station's audit-chain head to the real gateway, which keeps it;
the station keeps the gateway's verdict, so its doctor notices a chain cut at the end
(invisible to a local walk) and the gateway flags the head that went backwards."""

from __future__ import annotations

from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.audit_chain import ACK_KEY, GatewayAck
from desktop_app.context import AppContext
from desktop_app.setup.doctor import run_doctor
from desktop_app.setup.doctor_report import FAIL, OK
from desktop_app.sync.service import SyncService
from local_db import audit_chain, outbox
from provincial_gateway.db import AuditHead
from provincial_gateway.server import GatewayServer

from ..test_audit_chain import tamper
from .test_sync_engine import engine, receive, synced_station  # noqa: F401


def gateway_heads(gw: GatewayServer) -> list[tuple[str, int, str, str]]:
    with gw.sessions() as s:
        return [(r.chain, r.seq, r.hash, r.verdict)
                for r in s.scalars(select(AuditHead).order_by(AuditHead.id))]


def doctor_check(ctx: AppContext):  # type: ignore[no-untyped-def]
    return run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=0.5,
                      device_deadline_s=0.5).check("audit_chain")


def test_the_head_travels_and_a_cut_chain_is_noticed(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer) -> None:
    receive(ctx, clerk)
    with ctx.db.read() as s:
        head = audit_chain.head(s, ctx.db.audit_chain)
    assert head is not None
    report = engine(synced_station).run_once()
    assert report.online and not report.errors and report.dossiers_sent == 1
    assert gateway_heads(gateway) == [(head.chain, head.seq, head.hash, "accepted")]
    with ctx.db.read() as s:
        ack = GatewayAck.decode(outbox.get_state(s, ACK_KEY))
    assert ack == GatewayAck(head.chain, head.seq, head.hash, "accepted")
    check = doctor_check(ctx)
    assert check.status == OK and f"khớp với đầu chuỗi tỉnh đã nhận (số {head.seq})" \
        in check.message_vi

    # Cut the chain's end, from the acknowledged entry on: each remaining link is intact.
    tamper(ctx.db, "DELETE FROM audit_log WHERE chain = :c AND seq >= :seq",
           {"c": head.chain, "seq": head.seq})
    with ctx.db.read() as s:
        assert audit_chain.verify_chain(s, head.chain).broken is None
    check = doctor_check(ctx)
    assert check.status == FAIL
    assert f"mục số {head.seq} của chuỗi máy này khác với bản tỉnh đã xác nhận" \
        in check.message_vi

    # The next sync reports a shorter chain: the gateway flags it, the station keeps it.
    engine(synced_station).run_once()
    last = gateway_heads(gateway)[-1]
    assert (last[1], last[3]) == (head.seq - 1, "rewound")
    with ctx.db.read() as s:
        ack = GatewayAck.decode(outbox.get_state(s, ACK_KEY))
    assert ack is not None and (ack.seq, ack.verdict) == (head.seq - 1, "rewound")
    assert "tỉnh đã đánh dấu đầu chuỗi" in doctor_check(ctx).message_vi
