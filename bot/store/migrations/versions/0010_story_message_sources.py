"""how many other outlets a story's message names, so that an edit naming no more is not sent
(Telegram refuses an edit that changes nothing)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("story_messages") as table:
        table.add_column(
            sa.Column("shown_sources", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("story_messages") as table:
        table.drop_column("shown_sources")
