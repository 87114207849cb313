"""Device profiles and accelerator requests (the Cyborg v2 subset Nova
uses), and whether an operator disabled a unit (Cyborg's device disable).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime)]


def upgrade() -> None:
    op.add_column('accelerators', sa.Column(
        'disabled', sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        'device_profiles',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('groups', sa.JSON, nullable=False),
        sa.Column('description', sa.Text),
        *_timestamps())
    op.create_table(
        'accelerator_requests',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('device_profile_id', sa.Integer,
                  sa.ForeignKey('device_profiles.id'), nullable=False),
        sa.Column('device_profile_group_id', sa.Integer, nullable=False),
        sa.Column('project_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('hostname', sa.String(255)),
        sa.Column('device_rp_uuid', sa.String(36)),
        sa.Column('instance_uuid', sa.String(36)),
        sa.Column('attachment_id', sa.Integer,
                  sa.ForeignKey('attachments.id', ondelete='SET NULL'),
                  unique=True),
        *_timestamps())
    op.create_index('accelerator_requests_instance_uuid_idx',
                    'accelerator_requests', ['instance_uuid'])
    op.create_index('accelerator_requests_project_id_idx',
                    'accelerator_requests', ['project_id'])
