"""supplies: each holder and item's net change per calendar month of town-time days

- supply_month_totals: (holder, item, month) → the sum of the ledger's entries in that month,
  kept by a trigger on INSERT into ledger_entries (entries are never changed or removed, so
  adding each new entry keeps it exact). Stock as of a day reads the months before the day's
  month here and only that month's entries from the ledger. `wangge supplies verify` checks
  that every total equals the sum of its entries.
- disinfection_places' GiST index takes the name the model gives it (idx_..._geom).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOWN_ROLE = "wangge_town"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE supply_month_totals (
            holder_id integer NOT NULL
                CONSTRAINT fk_supply_month_totals_holder_id_supply_holders
                REFERENCES supply_holders (id),
            item_id smallint NOT NULL
                CONSTRAINT fk_supply_month_totals_item_id_supply_items REFERENCES supply_items (id),
            month date NOT NULL,
            net bigint NOT NULL,
            CONSTRAINT pk_supply_month_totals PRIMARY KEY (holder_id, item_id, month)
        );
        CREATE INDEX ix_ledger_entries_day ON ledger_entries (day)
            INCLUDE (to_holder_id, from_holder_id, item_id, quantity);
        CREATE FUNCTION supply_month_totals_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.to_holder_id IS NOT NULL THEN
                INSERT INTO supply_month_totals (holder_id, item_id, month, net)
                VALUES (NEW.to_holder_id, NEW.item_id, date_trunc('month', NEW.day)::date,
                        NEW.quantity)
                ON CONFLICT (holder_id, item_id, month)
                DO UPDATE SET net = supply_month_totals.net + EXCLUDED.net;
            END IF;
            IF NEW.from_holder_id IS NOT NULL THEN
                INSERT INTO supply_month_totals (holder_id, item_id, month, net)
                VALUES (NEW.from_holder_id, NEW.item_id, date_trunc('month', NEW.day)::date,
                        -NEW.quantity)
                ON CONFLICT (holder_id, item_id, month)
                DO UPDATE SET net = supply_month_totals.net + EXCLUDED.net;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER supply_month_totals_add AFTER INSERT ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION supply_month_totals_add();
        INSERT INTO supply_month_totals (holder_id, item_id, month, net)
        SELECT holder_id, item_id, month, sum(q) FROM (
            SELECT to_holder_id AS holder_id, item_id, date_trunc('month', day)::date AS month,
                   quantity AS q FROM ledger_entries WHERE to_holder_id IS NOT NULL
            UNION ALL
            SELECT from_holder_id, item_id, date_trunc('month', day)::date, -quantity
            FROM ledger_entries WHERE from_holder_id IS NOT NULL
        ) AS m GROUP BY holder_id, item_id, month;
        """
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON supply_month_totals TO {TOWN_ROLE}")
    # GeoAlchemy2's name for a geometry column's GiST index, as the model declares it.
    op.execute("ALTER INDEX ix_disinfection_places_geom RENAME TO idx_disinfection_places_geom")


def downgrade() -> None:
    op.execute("ALTER INDEX idx_disinfection_places_geom RENAME TO ix_disinfection_places_geom")
    op.execute("DROP TRIGGER supply_month_totals_add ON ledger_entries")
    op.execute("DROP FUNCTION supply_month_totals_add()")
    op.execute("DROP INDEX ix_ledger_entries_day")
    op.execute("DROP TABLE supply_month_totals")
