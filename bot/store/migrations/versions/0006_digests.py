"""digests, quiet hours and language: a chat's /mode, /quiet and /lang, and outbox rows held for
a digest

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        # NULL while the chat chose nothing: the operator's default applies
        batch_op.add_column(sa.Column("delivery", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("quiet", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("digest_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("triaged", sa.Boolean(), nullable=False, server_default="0"))
    alone = sa.text("status = 'pending' AND digest_at IS NULL")
    held = sa.text("status = 'pending' AND digest_at IS NOT NULL")
    op.create_index(
        "ix_outbox_due_alone",
        "outbox",
        ["platform", "id"],
        postgresql_where=alone,
        sqlite_where=alone,
    )
    op.create_index(
        "ix_outbox_digests_due",
        "outbox",
        ["platform", "digest_at"],
        postgresql_where=held,
        sqlite_where=held,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_digests_due", table_name="outbox")
    op.drop_index("ix_outbox_due_alone", table_name="outbox")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("triaged")
        batch_op.drop_column("digest_at")
    with op.batch_alter_table("chats") as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("quiet")
        batch_op.drop_column("delivery")
