"""outbox queue indexes: pending rows in id order per platform, and per chat, so a claim walks
only the heads it hands out and never a chat's sent history

Revision ID: 0007
Revises: 0004
"""

from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # whole-table indexes with the status inside rather than partial ones: a planner whose
    # statistics predate a broadcast would take a partial index for nearly empty and scan it
    # whole for a lookup by id
    op.create_index("ix_outbox_due", "outbox", ["platform", "status", "id"])
    op.create_index("ix_outbox_chat_queue", "outbox", ["chat_ref", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_queue", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
