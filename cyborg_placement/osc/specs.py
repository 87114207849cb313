"""``--spec KEY=VALUE`` and ``--spec-file F``: the acc_specs a user means.

The API types a few keys (``remote`` and ``num`` are integers,
``acc_capability`` an object); a value typed on a command line is text, so
those keys' values are read as JSON and every other value stays a string
(``vendor_id=10de`` must not become a number). A file gives any structure.
"""
import json
import pathlib

import yaml

#: Keys whose value is JSON rather than a string.
JSON_KEYS = frozenset({'remote', 'num', 'acc_capability'})


class SpecError(ValueError):
    """Input the user must fix; the text names what is wrong."""


def parse_pair(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` to ``(key, value)``, typed as the API expects."""
    key, sep, raw = text.partition('=')
    key = key.strip()
    if not sep or not key:
        raise SpecError(f'--spec {text!r}: expected KEY=VALUE.')
    if key not in JSON_KEYS:
        return key, raw
    try:
        return key, json.loads(raw)
    except ValueError:
        raise SpecError(
            f'--spec {text!r}: the value of {key} must be JSON '
            f'(a number or an object), not {raw!r}.') from None


def parse_pairs(pairs: list[str] | None) -> dict:
    return dict(parse_pair(text) for text in pairs or ())


def load_file(path: str) -> dict:
    """The acc_specs object in a JSON or YAML file (``-`` is not special)."""
    try:
        text = pathlib.Path(path).read_text()
    except OSError as exc:
        raise SpecError(f'--spec-file {path}: {exc.strerror}.') from None
    try:
        specs = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        reason = ' '.join(str(exc).split())
        raise SpecError(f'--spec-file {path}: not JSON or YAML: {reason}'
                        ) from None
    if isinstance(specs, dict) and set(specs) == {'acc_specs'}:
        specs = specs['acc_specs']
    if not isinstance(specs, dict):
        raise SpecError(f'--spec-file {path}: expected an object of '
                        f'acc_specs keys, found {type(specs).__name__}.')
    return specs
