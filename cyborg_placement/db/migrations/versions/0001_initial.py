"""Accelerators, attachments and per-host revisions.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime)]


def upgrade() -> None:
    op.create_table(
        'accelerators',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('host', sa.String(255)),
        sa.Column('pci_address', sa.String(32)),
        sa.Column('pool_provider_uuid', sa.String(36)),
        sa.Column('resource_class', sa.String(255)),
        sa.Column('numa_node', sa.Integer),
        sa.Column('driver', sa.String(255)),
        sa.Column('device_type', sa.String(32), nullable=False),
        sa.Column('acc_type', sa.String(255)),
        sa.Column('acc_capability', sa.JSON),
        sa.Column('vendor_id', sa.String(8)),
        sa.Column('product_id', sa.String(8)),
        sa.Column('remotable', sa.Integer, nullable=False),
        sa.Column('extra_specs', sa.JSON),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('revision', sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('host', 'pci_address',
                            name='uniq_accelerators0host0pci_address'),
    )
    op.create_index('accelerators_device_type_idx', 'accelerators',
                    ['device_type'])
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('accelerator_id', sa.Integer,
                  sa.ForeignKey('accelerators.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('active_accelerator_id', sa.Integer, unique=True),
        sa.Column('agent_host', sa.String(255), nullable=False),
        sa.Column('instance_uuid', sa.String(36)),
        sa.Column('host', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('reason', sa.Text),
        sa.Column('consumer_uuid', sa.String(36)),
        sa.Column('api_claim', sa.Boolean, nullable=False),
        sa.Column('claimed', sa.Boolean, nullable=False),
        sa.Column('base_units', sa.Integer, nullable=False),
        sa.Column('host_revision', sa.Integer, nullable=False),
        *_timestamps(),
    )
    op.create_index('attachments_instance_uuid_idx', 'attachments',
                    ['instance_uuid'])
    op.create_index('attachments_agent_host_revision_idx', 'attachments',
                    ['agent_host', 'host_revision'])
    op.create_table(
        'host_revisions',
        sa.Column('host', sa.String(255), primary_key=True),
        sa.Column('revision', sa.Integer, nullable=False),
    )
