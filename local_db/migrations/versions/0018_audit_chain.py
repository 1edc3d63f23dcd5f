"""audit log hash chain: chain, seq, prev_hash, entry_hash on every entry

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 07:00:00

The audit log was append-only by trigger but not tamper-evident: whoever could drop the
triggers could delete or back-date an entry and put them back unnoticed. Each entry now
carries its chain (the writing PC's install id), its position in it, the previous
entry's hash and its own (``local_db.audit_chain``). Entries already there are chained
here in id order as the chain ``legacy``; new chains start from its last hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from local_db.audit_chain import LEGACY_CHAIN, ZERO_HASH, entry_hash

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_BATCH = 5000

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()), sa.column("at", sa.DateTime()),
    sa.column("clerk_id", sa.Integer()), sa.column("action", sa.String()),
    sa.column("entity_type", sa.String()), sa.column("entity_id", sa.String()),
    sa.column("detail", sa.JSON()), sa.column("chain", sa.String()),
    sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)


def _sqlite_triggers(create: bool) -> None:
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb.lower()}")
        if create:
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def _chain_existing(conn: sa.Connection) -> None:
    """Every entry already there, in id order, as the legacy chain."""
    prev, seq, last_id = ZERO_HASH, 0, 0
    cols = (_audit.c.id, _audit.c.at, _audit.c.clerk_id, _audit.c.action,
            _audit.c.entity_type, _audit.c.entity_id, _audit.c.detail)
    update = (_audit.update().where(_audit.c.id == sa.bindparam("b_id"))
              .values(chain=LEGACY_CHAIN, seq=sa.bindparam("b_seq"),
                      prev_hash=sa.bindparam("b_prev"), entry_hash=sa.bindparam("b_hash")))
    while True:
        rows = conn.execute(sa.select(*cols).where(_audit.c.id > last_id)
                            .order_by(_audit.c.id).limit(_BATCH)).all()
        if not rows:
            return
        params = []
        for entry_id, at, clerk_id, action, etype, eid, detail in rows:
            seq += 1
            digest = entry_hash(prev, LEGACY_CHAIN, seq, at, clerk_id, action, etype, eid,
                                detail)
            params.append({"b_id": entry_id, "b_seq": seq, "b_prev": prev, "b_hash": digest})
            prev = digest
        conn.execute(update, params)
        last_id = rows[-1][0]


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        _sqlite_triggers(create=False)
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("chain", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    _chain_existing(conn)
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("chain", existing_type=sa.String(length=36), nullable=False)
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_index("ux_audit_chain_seq", ["chain", "seq"], unique=True)
    if sqlite:
        _sqlite_triggers(create=True)
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ux_audit_chain_seq")
        for name in ("entry_hash", "prev_hash", "seq", "chain"):
            batch.drop_column(name)
    if sqlite:
        _sqlite_triggers(create=True)
