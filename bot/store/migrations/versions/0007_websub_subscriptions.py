"""websub subscriptions: the hub, topic, callback, secret and lease of each pushed feed

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "feed_id",
            sa.Integer(),
            sa.ForeignKey("feeds.id", ondelete="SET NULL"),
            unique=True,
            nullable=True,
        ),
        sa.Column("hub", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("callback_token", sa.String(length=64), nullable=False, unique=True),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pending_mode", sa.String(length=16), nullable=True),
        sa.Column("requested_at", sa.Float(), nullable=True),
        sa.Column("lease_seconds", sa.Float(), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("next_action_at", sa.Float(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("signature_algorithm", sa.String(length=16), nullable=True),
        sa.Column("last_push_at", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("websub_subscriptions")
