"""The CPU socket of a unit's NUMA node, as its agent reports it.

Revision ID: 0010
Revises: 0007

NUMA affinity's ``socket`` policy compares it with the sockets of the
guest's NUMA cells. Units reported before this revision have none until
their host's agent reports again (its report differs, so it is sent on its
next cycle).
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('accelerators', sa.Column('socket', sa.Integer))
