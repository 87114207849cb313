"""Write oslo.config files from dicts, for the services we start ourselves.

The demo, the tests and the benchmarks configure Placement, Keystone and our
own services the way an operator would: through a file.
"""
import os
import pathlib

from oslo_config import cfg

Sections = dict[str, dict[str, object]]


def render(sections: Sections) -> str:
    lines = []
    for group, options in sections.items():
        lines.append(f'[{group}]')
        for key, value in options.items():
            values = value if isinstance(value, list | tuple) else [value]
            lines += [f'{key} = {item}' for item in values]
    return '\n'.join(lines) + '\n'


def write(path: str | os.PathLike, sections: Sections) -> pathlib.Path:
    path = pathlib.Path(path)
    path.write_text(render(sections))
    return path


def token_auth(endpoint: str, token: str = 'admin') -> dict[str, str]:
    """keystoneauth options for a local service without Keystone.

    ``[placement]`` of a noauth2 Placement and ``[accelerator_api]`` of a
    noauth API both take a fixed token and the endpoint, as operators write.
    """
    return {'auth_type': 'admin_token', 'endpoint': endpoint, 'token': token}


def cyborg_conf(path: str | os.PathLike, sections: Sections
                ) -> cfg.ConfigOpts:
    """Write ``sections`` to ``path`` and parse it as our services do."""
    from cyborg_placement import conf
    write(path, sections)
    opts = cfg.ConfigOpts()
    conf.register_opts(opts)
    opts(['--config-file', str(path)], project='cyborg',
         default_config_files=[])
    return opts
