"""chat preferences: the excerpt length, image and link preview a chat chose with /format

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.add_column(sa.Column("excerpt", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("image", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("preview", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.drop_column("preview")
        batch_op.drop_column("image")
        batch_op.drop_column("excerpt")
