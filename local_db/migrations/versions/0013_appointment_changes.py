"""the receipt's appointment kept for ever; every later change of it is an event row

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:00:00

Until now an apology, a supplement received at the counter and a new date pulled from the
province overwrote ``dossiers.appointment_at``. From here ``appointment_at`` is the
appointment printed on the receipt and never changes; ``due_at`` is the deadline lateness
is judged against (moved only by a supplement, which restarts the clock with a new
receipt); ``current_appointment_at`` is the date the citizen was last given; and
``appointment_changes`` holds one append-only row per change.

Recovery of existing data, from what the station stored (the audit log is append-only and
never purged; the outbox keeps each dossier document as sent):

- the original appointment is the ``appointment`` of the dossier's ``dossier_received``
  audit entry, else the ``NgayHenTra`` of its first outbox document;
- each ``dossier_apology`` entry gives a change to its ``new_appointment`` (with its
  reason and clerk); each ``status_pulled`` entry with a ``new_appointment`` gives a change
  decided by the province (a supplement when it ended a supplement request);
- each ``dossier_supplement_received`` entry gives a supplement whose new date is the
  ``NgayHenTra`` of the outbox document written in the same transaction (same time).

What cannot be recovered: a dossier without a received audit entry and without an outbox
document keeps its present appointment as the original (nothing older is stored); a
supplement whose outbox document is gone is recorded only if it was the last change (its
date is then the present one); the clerk's name is the account's present name.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SUPPLEMENT_REQUESTED = 5


def upgrade() -> None:
    op.add_column("dossiers", sa.Column("due_at", sa.DateTime(), nullable=True))
    op.add_column("dossiers", sa.Column("current_appointment_at", sa.DateTime(),
                                        nullable=True))
    op.create_table(
        "appointment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("old_at", sa.DateTime(), nullable=True),
        sa.Column("new_at", sa.DateTime(), nullable=False),
        sa.Column("restarts_clock", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clerk_id"], ["clerks.id"],
                                name="fk_appointment_changes_clerk_id_clerks"),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"],
                                name="fk_appointment_changes_dossier_id_dossiers"),
        sa.PrimaryKeyConstraint("id", name="pk_appointment_changes"),
    )
    op.create_index("ix_appointment_changes_dossier", "appointment_changes", ["dossier_id"])
    op.execute("UPDATE dossiers SET due_at = appointment_at, "
               "current_appointment_at = appointment_at")
    _recover(op.get_bind())
    _append_only(op.get_bind().dialect.name)


def _append_only(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION appointment_changes_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'appointment_changes is append-only'; END $$")
        op.execute("CREATE TRIGGER appointment_changes_no_change BEFORE UPDATE OR DELETE "
                   "ON appointment_changes FOR EACH ROW "
                   "EXECUTE FUNCTION appointment_changes_append_only()")
        op.execute("CREATE TRIGGER appointment_changes_no_truncate BEFORE TRUNCATE "
                   "ON appointment_changes FOR EACH STATEMENT "
                   "EXECUTE FUNCTION appointment_changes_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER appointment_changes_no_{verb.lower()} BEFORE {verb} "
                "ON appointment_changes BEGIN "
                "SELECT RAISE(ABORT, 'appointment_changes is append-only'); END")


def _when(value: Any) -> datetime | None:
    """An ISO (audit) or yyyyMMddHHmmss (national) date; None when absent or unreadable."""
    if not value:
        return None
    text = str(value)
    try:
        if text.isdigit() and len(text) == 14:
            return datetime.strptime(text, "%Y%m%d%H%M%S")
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _detail(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _recover(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    dossiers = sa.Table("dossiers", meta, autoload_with=conn)
    audit = sa.Table("audit_log", meta, autoload_with=conn)
    outbox = sa.Table("outbox", meta, autoload_with=conn)
    clerks = sa.Table("clerks", meta, autoload_with=conn)
    changes = sa.Table("appointment_changes", meta, autoload_with=conn)
    actions = ("dossier_apology", "dossier_supplement_received", "status_pulled")
    # Most dossiers have status_pulled entries; only those carrying a date matter. One
    # streamed pass picks the few dossiers to rebuild, so a large store is not read
    # dossier by dossier.
    touched: set[str] = set()
    candidates = conn.execute(
        sa.select(audit.c.entity_id, audit.c.action, audit.c.detail)
        .where(audit.c.entity_type == "dossier", audit.c.action.in_(actions))
        .execution_options(yield_per=5000))
    for uuid, action, detail in candidates:
        if action != "status_pulled" or _detail(detail).get("new_appointment"):
            touched.add(uuid)
    names = {i: n for i, n in conn.execute(sa.select(clerks.c.id, clerks.c.full_name))}
    for uuid in sorted(touched):
        row = conn.execute(sa.select(dossiers.c.id, dossiers.c.appointment_at)
                           .where(dossiers.c.uuid == uuid)).first()
        if row is None or row.appointment_at is None:
            continue
        entries = conn.execute(
            sa.select(audit.c.at, audit.c.clerk_id, audit.c.action, audit.c.detail)
            .where(audit.c.entity_type == "dossier", audit.c.entity_id == uuid)
            .order_by(audit.c.id)).all()
        documents = [(at, op_, _detail(payload)) for at, op_, payload in conn.execute(
            sa.select(outbox.c.created_at, outbox.c.operation, outbox.c.payload)
            .where(outbox.c.entity_type == "dossier", outbox.c.entity_id == uuid)
            .order_by(outbox.c.id))]
        original = next((_when(_detail(e.detail).get("appointment")) for e in entries
                         if e.action == "dossier_received"), None)
        if original is None and documents:
            original = _when(documents[0][2].get("NgayHenTra"))
        present = row.appointment_at
        current = due = original or present
        found: list[dict[str, Any]] = []
        for k, e in enumerate(entries):
            detail = _detail(e.detail)
            kind, reason, new, restarts = "", "", None, False
            by = names.get(e.clerk_id, "") if e.clerk_id is not None else ""
            if e.action == "dossier_apology":
                kind, reason = "apology", str(detail.get("reason", ""))
                new = _when(detail.get("new_appointment"))
            elif e.action == "status_pulled" and detail.get("new_appointment"):
                restarts = (detail.get("from") == SUPPLEMENT_REQUESTED
                            and detail.get("to") != SUPPLEMENT_REQUESTED)
                kind = "supplement" if restarts else "province"
                reason, by = str(detail.get("note", "")), str(detail.get("by", ""))
                new = _when(detail.get("new_appointment"))
            elif e.action == "dossier_supplement_received":
                kind, restarts, reason = "supplement", True, str(detail.get("note", ""))
                new = next((_when(doc.get("NgayHenTra")) for at, op_, doc in documents
                            if op_ == "supplement_received" and at == e.at), None)
                if new is None and not any(x.action in actions for x in entries[k + 1:]):
                    new = present  # the last change: the present date is its result
            if not kind or new is None:
                continue
            found.append({"dossier_id": row.id, "kind": kind, "old_at": current,
                          "new_at": new, "restarts_clock": restarts, "reason": reason,
                          "clerk_id": e.clerk_id, "decided_by": by, "decided_at": e.at})
            current = new
            if restarts:
                due = new
        if found:
            conn.execute(changes.insert(), found)
        conn.execute(dossiers.update().where(dossiers.c.id == row.id).values(
            appointment_at=original or present, due_at=due, current_appointment_at=current))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER appointment_changes_no_truncate ON appointment_changes")
        op.execute("DROP TRIGGER appointment_changes_no_change ON appointment_changes")
        op.execute("DROP FUNCTION appointment_changes_append_only()")
    # The version before this one shows the date last given as the appointment.
    op.execute("UPDATE dossiers SET appointment_at = current_appointment_at "
               "WHERE current_appointment_at IS NOT NULL")
    op.drop_index("ix_appointment_changes_dossier", table_name="appointment_changes")
    op.drop_table("appointment_changes")
    # Plain DROP COLUMN (SQLite 3.35+): a batch table copy would drop the search triggers.
    op.drop_column("dossiers", "current_appointment_at")
    op.drop_column("dossiers", "due_at")
