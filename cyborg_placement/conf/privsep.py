"""Options of the agent's privileged helper (``[privsep_sysfs]``).

They are oslo.privsep's own options of one context; the context
(``cyborg_agent.privileged``) registers them when it is made. This module
gives the generator the same options with the context's defaults, and the
group name both use.
"""
import copy

from oslo_config import cfg
from oslo_privsep import priv_context

GROUP_NAME = 'privsep_sysfs'
#: What the daemon keeps of root's powers; why, in cyborg_agent.privileged.
CAPABILITIES = ('CAP_DAC_OVERRIDE',)

GROUP = cfg.OptGroup(
    GROUP_NAME, title='Privileged helper of the agent (oslo.privsep)',
    help='The agent runs as its own user; the sysfs writes of host '
         'attachments go to an oslo.privsep daemon that runs as root with '
         'only the capabilities below. When the agent is not root, it starts '
         'the daemon with helper_command (default: "sudo -n privsep-helper" '
         "and the agent's own --config-file arguments), which sudoers must "
         'allow (etc/sudoers.d/cyborg-agent). An agent that runs as root '
         'forks the daemon instead, unless helper_command is set.')


def list_opts() -> dict:
    opts = copy.deepcopy(priv_context.OPTS)
    for opt in opts:
        if opt.name == 'capabilities':
            opt.sample_default = ', '.join(CAPABILITIES)
    return {GROUP: opts}
