"""vGPU units: one per (VF, profile), so a host's units are unique by
(PCI address, vGPU type) instead of by address.

Revision ID: 0008
Revises: 0007

Whole devices keep NULL in the new columns. The new unique constraint does
not stop two whole devices of one address (SQL's NULLs are distinct), but
their names do: a reported unit is named after its host, address and type
(``accelerators.reported_name``), and names are unique.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite this rebuilds the table (batch mode); migration.upgrade
    # turns foreign keys off meanwhile, or dropping the old table would
    # cascade to its attachments and attributes.
    with op.batch_alter_table('accelerators') as batch:
        batch.add_column(sa.Column('vgpu_interface', sa.String(8)))
        batch.add_column(sa.Column('vgpu_type', sa.String(64)))
        batch.add_column(sa.Column('vgpu_profile', sa.String(255)))
        batch.add_column(sa.Column('parent_address', sa.String(32)))
        batch.add_column(sa.Column('mdev_uuid', sa.String(36)))
        batch.drop_constraint('uniq_accelerators0host0pci_address',
                              type_='unique')
        batch.create_unique_constraint(
            'uniq_accelerators0host0pci_address0vgpu_type',
            ['host', 'pci_address', 'vgpu_type'])
