"""Operator rules (``[agent] device_rule``): include, exclude or re-type devices.

In the spirit of Nova's ``[pci] device_spec``: each option value is one JSON
object, matched against each PCI function before the default classification
table; the first rule that matches wins. A rule matches on any of ``vendor_id``,
``product_id`` (hex), ``address`` (a shell glob such as ``0000:3b:*``) and
``class`` (a hex prefix such as ``0200`` or ``12``), all of which must match.
It then either excludes the function (``"exclude": true``) or makes it an
accelerator of ``device_type`` (or keeps the default type when that is left out),
optionally with its own ``resource_class`` and extra ``traits``.

A GPU in vGPU mode is shared: ``vgpu_profiles`` names the profiles its VFs
offer, as the driver lists them, each with the most vGPUs of that profile
one GPU holds (NVIDIA's "maximum vGPUs per GPU"; ``null``: as many as the
driver lists), e.g. ``{"product_id": "2335", "vgpu_profiles":
{"NVIDIA H200X-1-18C": 7}}``. Such a GPU is never offered whole; its VFs
are one unit per profile (:mod:`.vgpu`).

A typo in a rule must not silently publish or hide devices, so every rule is
validated up front and a bad one is refused with a message naming it.
"""
import dataclasses
import fnmatch
import json
import re

import os_resource_classes as orc

from cyborg_agent.discovery.sysfs import PciRecord
from cyborg_placement.vocabulary import DEVICE_TYPES

MATCH_KEYS = ('vendor_id', 'product_id', 'address', 'class')
ACTION_KEYS = ('exclude', 'device_type', 'resource_class', 'traits',
               'vgpu_profiles')
_HEX_ID = re.compile(r'^(0x)?[0-9a-fA-F]{1,4}$')
_CLASS = re.compile(r'^(0x)?([0-9a-fA-F]{2}){1,3}$')
_ADDRESS_GLOB = re.compile(r'^[0-9a-fA-F:.*?\[\]!-]+$')
_CUSTOM_NAME = re.compile(r'^CUSTOM_[A-Z0-9_]{1,248}$')


class InvalidRule(ValueError):
    """A ``[agent] device_rule`` value that cannot be used; says which and why."""


@dataclasses.dataclass(frozen=True)
class PciMatch:
    """Which PCI functions a rule is for; ``None`` fields match anything.

    Shared by discovery rules and the reconciler's host-attach driver rules,
    so both read ids, address globs and classes the same way.
    """

    vendor_id: str | None = None
    product_id: str | None = None
    address: str | None = None
    pci_class: str | None = None

    def matches(self, address: str, vendor_id: str, product_id: str,
                pci_class: str = '') -> bool:
        return ((self.vendor_id is None or vendor_id == self.vendor_id)
                and (self.product_id is None or product_id == self.product_id)
                and (self.pci_class is None
                     or pci_class.startswith(self.pci_class))
                and (self.address is None
                     or fnmatch.fnmatchcase(address, self.address)))


@dataclasses.dataclass(frozen=True)
class Rule:
    """One validated operator rule."""

    text: str
    match: PciMatch
    exclude: bool = False
    device_type: str | None = None
    resource_class: str | None = None
    traits: frozenset[str] = frozenset()
    #: Profile name -> most vGPUs of it per GPU (None: the driver's lists).
    vgpu_profiles: tuple[tuple[str, int | None], ...] = ()

    def matches(self, record: PciRecord) -> bool:
        return self.match.matches(record.address, record.vendor_id,
                                  record.product_id, record.pci_class)


def _hex_id(value, key: str) -> str:
    if not isinstance(value, str) or not _HEX_ID.match(value):
        raise ValueError(f'{key} must be a hex id of up to 4 digits, '
                         f'such as "10de", not {value!r}')
    return value.lower().removeprefix('0x').rjust(4, '0')


def _pci_class(value) -> str:
    if not isinstance(value, str) or not _CLASS.match(value):
        raise ValueError('class must be a hex class prefix of 2, 4 or 6 '
                         f'digits, such as "0302" or "12", not {value!r}')
    return value.lower().removeprefix('0x')


def _address(value) -> str:
    if not isinstance(value, str) or not _ADDRESS_GLOB.match(value):
        raise ValueError('address must be a PCI address or a glob of one, '
                         f'such as "0000:3b:00.*", not {value!r}')
    return value.lower()


def _device_type(value) -> str:
    if value not in DEVICE_TYPES:
        raise ValueError(f'device_type must be one of {", ".join(DEVICE_TYPES)}'
                         f', not {value!r}')
    return value


def _resource_class(value) -> str:
    if not isinstance(value, str) or not (
            _CUSTOM_NAME.match(value) or value in orc.STANDARDS):
        raise ValueError('resource_class must be a standard resource class or '
                         f'a CUSTOM_ name in [A-Z0-9_], not {value!r}')
    return value


def _traits(value) -> frozenset[str]:
    items = value.split(',') if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError('traits must be a non-empty list of CUSTOM_ trait '
                         f'names, not {value!r}')
    for trait in items:
        if not isinstance(trait, str) or not _CUSTOM_NAME.match(trait.strip()):
            raise ValueError(f'trait {trait!r} is not a CUSTOM_ trait name '
                             '(upper-case letters, digits and _ only)')
    return frozenset(trait.strip() for trait in items)


def _vgpu_profiles(value) -> tuple[tuple[str, int | None], ...]:
    if not isinstance(value, dict) or not value:
        raise ValueError('vgpu_profiles must be a non-empty object of '
                         'profile name -> most vGPUs of it per GPU (or '
                         'null), such as {"NVIDIA H200X-1-18C": 7}, not '
                         f'{value!r}')
    for name, most in value.items():
        if not name.strip():
            raise ValueError('a vgpu_profiles name cannot be empty')
        if most is not None and (isinstance(most, bool)
                                 or not isinstance(most, int) or most < 1):
            raise ValueError(f'vgpu_profiles {name!r}: the most vGPUs per '
                             f'GPU must be a positive integer or null, not '
                             f'{most!r}')
    return tuple(sorted(value.items()))


def _exclude(value) -> bool:
    if value is not True:
        raise ValueError(f'exclude can only be true, not {value!r}')
    return True


_FIELDS = {
    'vendor_id': ('vendor_id', lambda v: _hex_id(v, 'vendor_id')),
    'product_id': ('product_id', lambda v: _hex_id(v, 'product_id')),
    'address': ('address', _address),
    'class': ('pci_class', _pci_class),
    'exclude': ('exclude', _exclude),
    'device_type': ('device_type', _device_type),
    'resource_class': ('resource_class', _resource_class),
    'traits': ('traits', _traits),
    'vgpu_profiles': ('vgpu_profiles', _vgpu_profiles),
}


def _check_shape(spec) -> None:
    if not isinstance(spec, dict):
        raise ValueError('a rule must be a JSON object')
    unknown = sorted(set(spec) - set(_FIELDS))
    if unknown:
        raise ValueError(f'unknown key(s) {", ".join(unknown)}; known keys: '
                         f'{", ".join(_FIELDS)}')
    if not set(spec) & set(MATCH_KEYS):
        raise ValueError('a rule needs at least one of '
                         f'{", ".join(MATCH_KEYS)} to match on')
    if not set(spec) & set(ACTION_KEYS):
        raise ValueError(f'a rule needs at least one of {", ".join(ACTION_KEYS)}')
    if spec.get('exclude') and len(set(spec) & set(ACTION_KEYS)) > 1:
        raise ValueError('exclude cannot be combined with device_type, '
                         'resource_class, traits or vgpu_profiles')
    if 'vgpu_profiles' in spec and (
            'resource_class' in spec
            or spec.get('device_type', 'GPU') != 'GPU'):
        raise ValueError('vgpu_profiles makes GPU units of resource class '
                         'VGPU: it cannot be combined with resource_class '
                         'or another device_type')


def _converted(spec: dict, keys) -> dict:
    return {_FIELDS[key][0]: _FIELDS[key][1](spec[key])
            for key in keys if key in spec}


def parse_match(spec: dict, keys=MATCH_KEYS) -> PciMatch:
    """The match part of a rule's JSON object, validated (``ValueError``)."""
    return PciMatch(**_converted(spec, keys))


def parse_rule(text: str) -> Rule:
    """One option value -> a Rule; ``ValueError`` says what is wrong with it."""
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise ValueError(f'not valid JSON ({exc})') from None
    _check_shape(spec)
    return Rule(text, parse_match(spec), **_converted(spec, ACTION_KEYS))


def parse_rules(values: list[str] | None) -> list[Rule]:
    """Every ``[agent] device_rule`` value, in order, or ``InvalidRule``."""
    rules = []
    for index, text in enumerate(values or (), start=1):
        try:
            rules.append(parse_rule(text))
        except ValueError as exc:
            raise InvalidRule(
                f'[agent] device_rule #{index} {text!r}: {exc}') from None
    return rules


def first_match(rules: list[Rule], record: PciRecord) -> Rule | None:
    return next((rule for rule in rules if rule.matches(record)), None)
