"""Schema pieces more than one resource uses."""
UUID = {'type': 'string', 'format': 'uuid'}
HEX4 = {'type': 'string', 'pattern': '^[0-9a-fA-F]{4}$'}
PCI_ADDRESS = {'type': 'string',
               'pattern': '^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}'
                          r'\.[0-7]$'}
HOST = {'type': 'string', 'minLength': 1, 'maxLength': 255}
RESOURCE_CLASS = {'type': 'string', 'pattern': '^[A-Z0-9_]+$',
                  'maxLength': 255}
#: A kernel driver name, as in ``/sys/bus/pci/drivers/<name>``: it becomes
#: one path component on the host, so no '/' and no leading '.' ('..').
DRIVER = {'type': 'string', 'pattern': '^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
          'maxLength': 64}
