"""One module per resource; each handler: context, policy, schema, one
data-layer call, response."""
