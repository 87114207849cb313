"""The request context every handler starts from.

As in Placement, a handler's first line is ``context.can(policies.X)``: one
way to authorise, checked before anything is looked up, so a caller who may
not act learns nothing and costs nothing.
"""
import flask
from oslo_context import context as oslo_context

from cyborg_placement.api import policy


class RequestContext(oslo_context.RequestContext):

    def can(self, rule: str, target: dict | None = None) -> None:
        """Raise Forbidden unless this caller may do ``rule`` on ``target``
        (by default, a target in the caller's own project)."""
        policy.authorize(self._enforcer(), rule, self, target)

    def allowed(self, rule: str, target: dict | None = None) -> bool:
        """Whether this caller may do ``rule``: for what a caller sees,
        not whether it may ask."""
        return policy.allowed(self._enforcer(), rule, self, target)

    @staticmethod
    def _enforcer():
        return flask.current_app.extensions['cyborg'].enforcer
