"""fees charged per case, per copy or per page; the fees assessed at receipt and the
money collected, both append-only

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:20:00

Until now a dossier kept only ``fee_total``, the catalog's flat sum, and no payment was
ever recorded, so the return receipt could only say what the schedule asks. From here:

- ``procedure_fees`` says how a line is charged (``basis``: case, copy, page; for pages a
  lower rate from a page on and a cap per copy);
- ``dossier_fees`` holds the lines assessed at receipt (rate, copies and pages counted,
  amount); ``dossiers.fee_total`` stays their sum;
- ``fee_payments`` holds each collection (amount, payer, method, receipt number, reason
  when it differs from what was owed, who, when, at intake or at the return counter); a
  mistake is corrected by a reversing row.

Existing dossiers get one assessed line, "Phí, lệ phí", with their stored ``fee_total``
(what their receipt printed); no payment is invented for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_APPEND_ONLY = ("dossier_fees", "fee_payments")


def upgrade() -> None:
    with op.batch_alter_table("procedure_fees") as batch:
        batch.add_column(sa.Column("basis", sa.String(10), nullable=False,
                                   server_default="case"))
        batch.add_column(sa.Column("later_from_page", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("later_amount", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("cap_per_copy", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.create_table(
        "dossier_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fee_code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("basis", sa.String(10), nullable=False),
        sa.Column("rate_text", sa.Text(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("quantity_text", sa.Text(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"],
                                name="fk_dossier_fees_dossier_id_dossiers"),
        sa.PrimaryKeyConstraint("id", name="pk_dossier_fees"),
    )
    op.create_index("ix_dossier_fees_dossier", "dossier_fees", ["dossier_id"])
    op.create_table(
        "fee_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("payer_name", sa.Text(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("receipt_number", sa.String(60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("collected_by_id", sa.Integer(), nullable=True),
        sa.Column("collected_by", sa.Text(), nullable=False),
        sa.Column("collected_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"],
                                name="fk_fee_payments_dossier_id_dossiers"),
        sa.ForeignKeyConstraint(["reverses_id"], ["fee_payments.id"],
                                name="fk_fee_payments_reverses_id_fee_payments"),
        sa.ForeignKeyConstraint(["collected_by_id"], ["clerks.id"],
                                name="fk_fee_payments_collected_by_id_clerks"),
        sa.PrimaryKeyConstraint("id", name="pk_fee_payments"),
    )
    op.create_index("ix_fee_payments_dossier", "fee_payments", ["dossier_id"])
    # What each existing receipt printed, as one line; nothing was ever collected.
    op.execute(
        "INSERT INTO dossier_fees (dossier_id, position, fee_code, name, kind, basis, "
        "rate_text, counts, quantity_text, amount) "
        "SELECT id, 0, '', 'Phí, lệ phí', '', 'case', '', '[]', '', fee_total "
        "FROM dossiers WHERE fee_total > 0")
    dialect = op.get_bind().dialect.name
    for table in _APPEND_ONLY:
        _append_only(table, dialect)


def _append_only(table: str, dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
        op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        else:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    op.drop_index("ix_fee_payments_dossier", table_name="fee_payments")
    op.drop_table("fee_payments")
    op.drop_index("ix_dossier_fees_dossier", table_name="dossier_fees")
    op.drop_table("dossier_fees")
    with op.batch_alter_table("procedure_fees") as batch:
        for col in ("cap_per_copy", "later_amount", "later_from_page", "basis"):
            batch.drop_column(col)
