"""outbox queue indexes over the whole table, the status inside: a planner whose statistics
predate a broadcast took the partial ones for nearly empty and scanned them whole to lease or
settle one row by its id

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_chat_queue", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["platform", "status", "id"])
    op.create_index("ix_outbox_chat_queue", "outbox", ["chat_ref", "status", "id"])


def downgrade() -> None:
    import sqlalchemy as sa

    pending = sa.text("status = 'pending'")
    op.drop_index("ix_outbox_chat_queue", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["platform", "id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )
    op.create_index(
        "ix_outbox_chat_queue",
        "outbox",
        ["chat_ref", "id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )
