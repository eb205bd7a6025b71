"""stories: reports of one event from many feeds, and the message each chat got for it

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_item_at", sa.Float(), nullable=False),
        sa.Column("topics", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "story_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("feed_name", sa.String(length=64), nullable=False),
        sa.Column("item_key", sa.String(length=512), nullable=False),
        sa.Column("source", sa.String(length=128), server_default="", nullable=False),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("feed_name", "item_key", name="uq_story_items_item"),
    )
    op.create_index("ix_story_items_story", "story_items", ["story_id", "id"])
    op.create_table(
        "story_messages",
        sa.Column("chat_ref", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("message_chat", sa.String(length=64), server_default="", nullable=False),
        sa.Column("caption", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.Column("edited_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["chat_ref"], ["chats.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_ref", "story_id"),
    )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="alert", nullable=False)
        )
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("chats") as batch_op:
        batch_op.add_column(sa.Column("stories", sa.Boolean(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.drop_column("stories")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("story_id")
        batch_op.drop_column("kind")
    op.drop_table("story_messages")
    op.drop_index("ix_story_items_story", table_name="story_items")
    op.drop_table("story_items")
    op.drop_table("stories")
