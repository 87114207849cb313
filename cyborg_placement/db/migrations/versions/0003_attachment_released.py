"""Whether the claim of a finished attachment is gone from Placement.

Revision ID: 0003
Revises: 0002

Attachments finished before this revision had their claims released
before their state was written, so they are marked released.
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('attachments', sa.Column(
        'released', sa.Boolean, nullable=False, server_default=sa.false()))
    attachments = sa.table('attachments', sa.column('state', sa.String),
                           sa.column('released', sa.Boolean))
    op.execute(attachments.update()
               .where(attachments.c.state.in_(('attach_failed', 'detached')))
               .values(released=True))
