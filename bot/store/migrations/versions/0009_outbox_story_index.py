"""outbox rows by story: a poll looks up which chats already have a story by its id, which read
the whole outbox (every alert kept until retention) without an index

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_STORY_ROWS = sa.text("story_id IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_story",
        "outbox",
        ["story_id", "chat_ref"],
        postgresql_where=_STORY_ROWS,
        sqlite_where=_STORY_ROWS,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_story", table_name="outbox")
