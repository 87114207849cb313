"""Alembic environment: migrations run on the connection the caller passes."""
from alembic import context

from cyborg_placement.db import models

connection = context.config.attributes['connection']
context.configure(connection=connection, target_metadata=models.Base.metadata,
                  render_as_batch=connection.dialect.name == 'sqlite')
with context.begin_transaction():
    context.run_migrations()
