"""the daily rhythm: 16:00 unit reports and their amendments, 19:00 task lists, the clock

- daily_reports: one per unit (grid, village, combat unit) and town day: the figures as
  computed when it was confirmed (counts, never people), the corrections and note of the
  responsible person, whether it was a zero report or late, and the last visit id taken in
  (`visits_through`: visits that reach the server later count in the next day's figures
  unless an amendment takes them in).
- daily_amendments: every change to a confirmed report, with the figures it made.
- daily_task_lists: a grid worker's task list for a day, as built the evening before.
- daily_runs: which step of the daily clock (freeze, tasks) was done for which day, so that
  running the clock twice changes nothing.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOWN_ROLE = "wangge_town"
TABLES = ("daily_reports", "daily_amendments", "daily_task_lists", "daily_runs")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str, *, default: str | None = None) -> sa.Column[object]:
    return sa.Column(
        name,
        postgresql.JSONB(astext_type=sa.Text()),
        nullable=False,
        server_default=None if default is None else sa.text(default),
    )


def upgrade() -> None:
    op.create_table(
        "daily_reports",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit_kind", sa.String(16), nullable=False),
        sa.Column("unit_key", sa.String(128), nullable=False),
        sa.Column("zero", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("late", sa.Boolean(), nullable=False),
        _json("figures"),
        _json("corrections", default="'{}'"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("visits_through", sa.BigInteger(), nullable=False, server_default="0"),
        _at("confirmed_at"),
        sa.Column("confirmed_by", sa.Text(), nullable=False),
        sa.Column("amendments", sa.Integer(), nullable=False, server_default="0"),
        _at("amended_at", nullable=True),
        _at("frozen_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_reports")),
        sa.UniqueConstraint("day", "unit_kind", "unit_key", name="uq_daily_reports_unit_day"),
        sa.CheckConstraint(
            "unit_kind IN ('grid', 'village', 'combat_unit')",
            name=op.f("ck_daily_reports_unit_kind_known"),
        ),
    )
    op.create_table(
        "daily_amendments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "report_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "daily_reports.id",
                ondelete="CASCADE",
                name=op.f("fk_daily_amendments_report_id_daily_reports"),
            ),
            nullable=False,
        ),
        _at("at"),
        sa.Column("by", sa.Text(), nullable=False),
        _json("corrections"),
        _json("figures"),
        sa.Column("took_in", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_amendments")),
    )
    op.create_index(op.f("ix_daily_amendments_report_id"), "daily_amendments", ["report_id"])
    op.create_table(
        "daily_task_lists",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        _json("tasks"),
        _at("built_at"),
        sa.PrimaryKeyConstraint("day", "worker", name=op.f("pk_daily_task_lists")),
    )
    op.create_table(
        "daily_runs",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        _at("done_at"),
        _json("detail", default="'{}'"),
        sa.PrimaryKeyConstraint("day", "step", name=op.f("pk_daily_runs")),
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {TOWN_ROLE}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
