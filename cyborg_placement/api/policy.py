"""The policy enforcer (``oslo.policy.enforcer`` entry point) and checks."""
from oslo_config import cfg
from oslo_policy import policy

from cyborg_placement.api import errors
from cyborg_placement.api import policies


def get_enforcer(conf: cfg.ConfigOpts | None = None) -> policy.Enforcer:
    """An enforcer with our defaults; oslopolicy tools call it without args."""
    if conf is None:
        conf = cfg.ConfigOpts()
        conf([], project='cyborg', default_config_files=[])
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    return enforcer


def allowed(enforcer: policy.Enforcer, rule: str, context,
            target: dict | None = None) -> bool:
    """Whether ``context`` may do ``rule`` on ``target`` (by default, a
    target in the caller's own project)."""
    target = target if target is not None else {
        'project_id': context.project_id}
    return enforcer.authorize(rule, target, context, do_raise=False)


def authorize(enforcer: policy.Enforcer, rule: str, context,
              target: dict | None = None) -> None:
    """Raise :class:`errors.Forbidden` unless ``context`` may do ``rule``."""
    if not allowed(enforcer, rule, context, target):
        raise errors.Forbidden(f'Policy does not allow {rule} to be '
                               'performed.')
