"""Health of a unit (from its agent), and why and since when an operator
disabled it (0004 added whether).

Revision ID: 0005
Revises: 0004

Existing units are healthy and enabled until their agent says otherwise.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('accelerators', sa.Column(
        'health', sa.String(16), nullable=False, server_default='healthy'))
    op.add_column('accelerators', sa.Column('health_reason', sa.String(255)))
    op.add_column('accelerators', sa.Column('health_since', sa.DateTime))
    op.add_column('accelerators', sa.Column('disabled_reason',
                                            sa.String(255)))
    op.add_column('accelerators', sa.Column('disabled_at', sa.DateTime))
