"""outbox queue indexes: pending rows in id order per platform, and per chat, so a claim walks
only the heads it hands out and never a chat's sent history

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["platform", "id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        "ix_outbox_chat_queue",
        "outbox",
        ["chat_ref", "id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_queue", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
