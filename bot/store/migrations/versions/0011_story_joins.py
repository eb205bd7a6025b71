"""the story a story was joined into: a report that matches two stories of one event makes them
one, and a process that still knows the joined story files its later reports where they now go

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as table:
        table.add_column(sa.Column("joined_into", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stories") as table:
        table.drop_column("joined_into")
