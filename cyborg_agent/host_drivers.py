"""Which kernel drivers host attachments may bind units to.

``[agent] host_attach_driver`` and the drivers ``[agent] host_attach_rule``
names are allowed, and those listed in ``[agent]
host_attach_allowed_drivers`` for attach requests that name a driver. Both
sides read this set from their own configuration: the agent refuses an
attach outside it with a clear reason before it changes anything, and the
privileged daemon refuses it again, whoever asks.
"""
import dataclasses
import json
import re

from oslo_config import cfg

from cyborg_agent.discovery import rules

_MATCH_KEYS = ('vendor_id', 'product_id', 'address')
#: As the API's schema for a driver (one entry of ``bus/pci/drivers``).
_DRIVER_NAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}')


def bad_driver_name(name) -> bool:
    """A name that cannot be one entry of ``bus/pci/drivers``."""
    return not isinstance(name, str) or not _DRIVER_NAME.fullmatch(name)


@dataclasses.dataclass(frozen=True)
class DriverRule:
    """``[agent] host_attach_rule``: the host driver for the units it matches."""

    driver: str
    match: rules.PciMatch

    def matches(self, address: str, vendor_id: str, product_id: str) -> bool:
        return self.match.matches(address, vendor_id, product_id)


def parse_driver_rule(text: str) -> DriverRule:
    """One ``[agent] host_attach_rule`` value; a bad one names itself."""
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise rules.InvalidRule(
            f'host_attach_rule {text!r}: not JSON: {exc}') from None
    if not isinstance(spec, dict) or not isinstance(spec.get('driver'), str):
        raise rules.InvalidRule(
            f'host_attach_rule {text!r}: needs a "driver" name')
    unknown = set(spec) - set(_MATCH_KEYS) - {'driver'}
    if unknown:
        raise rules.InvalidRule(f'host_attach_rule {text!r}: unknown keys '
                                f'{", ".join(sorted(unknown))}')
    if bad_driver_name(spec['driver']):
        raise rules.InvalidRule(f'host_attach_rule {text!r}: bad driver name')
    try:
        match = rules.parse_match(spec, _MATCH_KEYS)
    except ValueError as exc:
        raise rules.InvalidRule(f'host_attach_rule {text!r}: {exc}') from None
    return DriverRule(spec['driver'], match)


def parse_rules(conf: cfg.ConfigOpts) -> list[DriverRule]:
    return [parse_driver_rule(value) for value in conf.agent.host_attach_rule]


def allowed(conf: cfg.ConfigOpts) -> frozenset[str]:
    """The drivers a unit may be bound to on this host."""
    return frozenset([conf.agent.host_attach_driver,
                      *(rule.driver for rule in parse_rules(conf)),
                      *conf.agent.host_attach_allowed_drivers])
