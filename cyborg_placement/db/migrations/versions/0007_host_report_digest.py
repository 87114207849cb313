"""The digest of each host's last accepted device report.

Revision ID: 0007
Revises: 0006

Hosts reported before this revision have none: the feed says so, and each
host's agent sends its report again on its next cycle.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'host_reports',
        sa.Column('host', sa.String(255), primary_key=True),
        sa.Column('digest', sa.String(64), nullable=False),
        sa.Column('reported_at', sa.DateTime, nullable=False))
