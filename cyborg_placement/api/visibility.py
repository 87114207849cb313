"""What a caller may see of who holds a unit and where it is.

Projects are isolated, as Nova isolates servers: one project never learns
what another holds (the instance, project, user or consumer of its
attachment), and host names and PCI addresses are for admins, services and
the project holding the unit. Each of the three is an oslo.policy rule whose
target is the holding project (``accelerator:show:holder``, ``:host``,
``:pci_address``), so an operator can open them.

This module is the one place that decides; the views and the list filters
ask it. Any resource held by a project (attachments, instance bindings,
accelerator requests) asks :meth:`Viewer.sight` with its holder's project.
"""
from collections.abc import Callable
import dataclasses
from typing import TypeVar

from cyborg_placement.api import context as request_context
from cyborg_placement.api.policies import accelerators as policies
from cyborg_placement.db import accelerators
from cyborg_placement.db import models

T = TypeVar('T')


@dataclasses.dataclass(frozen=True)
class Sight:
    """What one caller may see of one holder's unit."""

    holder: bool
    host: bool
    pci_address: bool


def holder_project(attachment: models.Attachment | None) -> str | None:
    """The project an attachment is held for: its instance's. A host
    attachment is the cloud's (its project is only the admin who asked)."""
    if attachment is None or not attachment.instance_uuid:
        return None
    return attachment.project_id


def target(project_id: str | None) -> dict:
    """The policy target of a holder. Without a project it has no
    ``project_id`` key, so no ``project_id:%(project_id)s`` check matches
    it, not even for a token without a project."""
    return {'project_id': project_id} if project_id else {}


class Viewer:
    """One request's caller, deciding per holder (each decision once)."""

    def __init__(self, context: request_context.RequestContext) -> None:
        self.context = context
        self._decided: dict[tuple[str | None, bool], Sight] = {}

    def sight(self, project_id: str | None, holds: bool) -> Sight:
        """What the caller sees of a unit whose holder is ``project_id``:
        the holder's details whenever that is its project, the unit's place
        only while the holder ``holds`` it."""
        key = (project_id, holds)
        if key not in self._decided:
            place = target(project_id if holds else None)
            self._decided[key] = Sight(
                holder=self.context.allows(policies.SHOW_HOLDER,
                                           target(project_id)),
                host=self.context.allows(policies.SHOW_HOST, place),
                pci_address=self.context.allows(policies.SHOW_PCI_ADDRESS,
                                                place))
        return self._decided[key]

    def of(self, attachment: models.Attachment | None) -> Sight:
        """The sight of a unit whose shown attachment is ``attachment``."""
        return self.sight(holder_project(attachment),
                          attachment is not None
                          and attachment.holds_accelerator)

    def matches(self, host: str | None, instance_uuid: str | None
                ) -> Callable[[accelerators.AcceleratorView], bool] | None:
        """Which listed units a filter may match for this caller, or None
        when the filters name nothing it could not see.

        A filter naming what the caller may not see answers as if it were
        not there: ``?host=`` matches only units whose host it sees (the
        same empty answer for a host that does not exist), and
        ``?instance_uuid=`` only units whose holder it sees (another
        project's instance: as one that holds nothing, as Nova answers 404
        for another project's server).
        """
        if host is None and instance_uuid is None:
            return None

        def visible(view: accelerators.AcceleratorView) -> bool:
            sight = self.of(view.attachment)
            return ((host is None or sight.host)
                    and (instance_uuid is None or sight.holder))
        return visible


def visible_page(fetch: Callable[[str | None], list[T]],
                 keep: Callable[[T], bool] | None, marker: str | None,
                 limit: int, uuid_of: Callable[[T], str]) -> list[T]:
    """Up to ``limit`` rows that ``keep`` lets through, after ``marker``.

    ``fetch(marker)`` reads one page of at most ``limit`` rows. Rows the
    caller may not see are skipped, reading on, so a short page still means
    the last one: clients that page until a short page miss nothing.
    """
    if keep is None:
        return fetch(marker)
    kept: list[T] = []
    while True:
        page = fetch(marker)
        kept += [row for row in page if keep(row)]
        if len(kept) >= limit or len(page) < limit:
            return kept[:limit]
        marker = uuid_of(page[-1])
