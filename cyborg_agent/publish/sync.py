"""Make Placement hold a host's desired provider tree, with the fewest calls.

One :class:`ProviderSync` lives as long as the agent process. It remembers
every provider of the host's tree with the generation it last saw, so a cycle
starts with one read (``GET /resource_providers?in_tree=<root>``) and re-reads
only the providers whose generation moved: someone else (an operator, an
allocation) changed them. Writes are sent only for differences. Only providers
the agent owns (``OWNER_CYBORG``) under this host's root are ever written; the
compute-node provider itself belongs to Nova and is only read.

Given a :class:`~cyborg_agent.saved_state.StateFile`, what it knows also
outlives the process: a restarted agent starts from the saved providers, and
trusts each one the first listing shows at the saved generation, so restarting
an unchanged host costs that one listing too.
"""
from collections.abc import Callable
from collections.abc import Iterable

from oslo_log import log as logging

from cyborg_agent import saved_state
from cyborg_agent.publish import pools
from cyborg_agent.publish import state
from cyborg_agent.publish import tree
from cyborg_placement.placement import client as placement_client
from cyborg_placement.vocabulary import Unit

LOG = logging.getLogger(__name__)

#: Re-read and retry a write this many times on a generation conflict.
CONFLICT_RETRIES = 4


class RootProviderMissing(Exception):
    """The compute-node provider is not (yet) in Placement."""


class ProviderSync:
    """The host's providers as last seen, and the calls that update them."""

    def __init__(self, client: placement_client.PlacementClient,
                 root_name: str, *, manage_root: bool = False,
                 pool_by_numa: bool = False,
                 saved: saved_state.StateFile | None = None) -> None:
        self.client = client
        self.root_name = root_name
        self.manage_root = manage_root
        self.pool_by_numa = pool_by_numa
        self.root_uuid: str | None = None
        self._known: dict[str, state.KnownProvider] = {}
        # Saved by an earlier process, trusted once a listing confirms them.
        self._unconfirmed: dict[str, state.KnownProvider] = {}
        self._rule_traits: dict[str, frozenset[str]] = {}
        # The custom names this cycle's writes may need (see _naming).
        self._names: tuple[frozenset[str], frozenset[str]] = (
            frozenset(), frozenset())
        self._warned_foreign: set[str] = set()
        self._saved = saved
        if saved is not None:
            self._load(saved.read())

    def sync(self, units: Iterable[Unit], held: frozenset[str] = frozenset()
             ) -> dict[str, tree.PoolProvider]:
        """One cycle: returns the desired tree, now published.

        ``held``: addresses of units an attachment holds (see
        :func:`tree.build`).
        """
        listing = self._list_tree()
        self._refresh(listing)
        desired = tree.build(self.root_name, self.root_uuid, units,
                             self.pool_by_numa, held)
        self._names = (
            frozenset().union(*(p.traits | p.rule_traits
                                for p in desired.values())),
            frozenset(p.resource_class for p in desired.values()))
        for provider in desired.values():
            self._publish(provider)
        for uuid in self._retirement_order(listing, desired):
            self._retire(self._known[uuid])
        if self._saved is not None:
            self._saved.write(state.saved_document(
                self.root_name, self.root_uuid, self._known,
                self._rule_traits))
        return desired

    def _load(self, document: dict | None) -> None:
        if document is None:
            return
        try:
            self.root_uuid, self._unconfirmed, self._rule_traits = (
                state.from_saved(document, self.root_name))
        except ValueError as exc:
            self._saved.ignore(exc)

    # Reading.

    def _find_root(self) -> str:
        found = self.client.get_provider_by_name(self.root_name)
        if found is not None:
            return found['uuid']
        if not self.manage_root:
            raise RootProviderMissing(
                f'compute-node resource provider {self.root_name!r} is not in '
                f'Placement (is nova-compute running? set [agent] '
                f'resource_provider_name, or [agent] manage_root_provider = '
                f'true for use without Nova)')
        created = self.client.post('/resource_providers', {
            'name': self.root_name,
            'uuid': pools.provider_uuid(self.root_name)})
        LOG.info('Created root resource provider %s (%s)',
                 self.root_name, created['uuid'])
        return created['uuid']

    def _list_tree(self) -> list[dict]:
        """The one read of a steady cycle; finds the root again if it went."""
        if self.root_uuid is not None:
            listing = self.client.providers_in_tree(self.root_uuid)
            if any(p['uuid'] == self.root_uuid for p in listing):
                return listing
            LOG.warning('Root provider %s (%s) is gone; looking it up again',
                        self.root_name, self.root_uuid)
            self._known.clear()
            self._unconfirmed.clear()
        self.root_uuid = self._find_root()
        return self.client.providers_in_tree(self.root_uuid)

    def _refresh(self, listing: list[dict]) -> None:
        """Forget vanished providers; re-read ours whose generation moved."""
        present = {p['uuid']: p for p in listing if p['uuid'] != self.root_uuid}
        for uuid in set(self._known) - set(present):
            del self._known[uuid]
        for uuid, provider in present.items():
            known = self._known.get(uuid)
            if known is None:
                self._confirm_or_read(provider)
            elif known.owned and known.generation != provider['generation']:
                self._reread(known)
        self._unconfirmed.clear()

    def _confirm_or_read(self, provider: dict) -> None:
        """Trust what an earlier process saved while the generation holds."""
        saved = self._unconfirmed.get(provider['uuid'])
        if saved is None or saved.generation != provider['generation']:
            self._read_new(provider)
            return
        self._known[saved.uuid] = saved

    def _read_new(self, provider: dict) -> None:
        """First sight of a provider: learn whether it is ours.

        Providers that are not ours are read once per process and then only
        listed: their changes (allocations, Nova's own nested providers) are
        none of the agent's business.
        """
        known = state.KnownProvider(
            provider['uuid'], provider['name'],
            provider.get('parent_provider_uuid'), provider['generation'])
        self._read_traits(known)
        if state.is_ours(known.uuid, known.name, known.traits, {}):
            self._read_inventories(known)
        known.owned = state.is_ours(known.uuid, known.name, known.traits,
                                    known.inventories)
        self._known[known.uuid] = known

    def _reread(self, known: state.KnownProvider) -> None:
        """Read a provider again; an operator may have disowned it."""
        self._read_traits(known)
        self._read_inventories(known)
        known.owned = state.is_ours(known.uuid, known.name, known.traits,
                                    known.inventories)

    def _read_traits(self, known: state.KnownProvider) -> None:
        body = self.client.get(f'/resource_providers/{known.uuid}/traits')
        known.traits = frozenset(body['traits'])
        known.generation = body['resource_provider_generation']

    def _read_inventories(self, known: state.KnownProvider) -> None:
        body = self.client.get(f'/resource_providers/{known.uuid}/inventories')
        known.inventories = body['inventories']
        known.generation = body['resource_provider_generation']

    def _usages(self, known: state.KnownProvider) -> dict[str, int]:
        if not known.usages_current:
            body = self.client.get(f'/resource_providers/{known.uuid}/usages')
            known.usages = body['usages']
            known.generation = body['resource_provider_generation']
            known.usages_generation = known.generation
        return known.usages

    # Writing.

    def _publish(self, desired: tree.PoolProvider) -> None:
        known = self._known.get(desired.uuid)
        if known is None:
            known = self._create(desired)
        elif not known.owned:
            self._warn_foreign(known)
            return
        self._with_retries(known, lambda k: self._set_traits(k, desired))
        if not known.owned:  # disowned by an operator during a retry
            return
        self._rule_traits[known.uuid] = desired.rule_traits
        self._with_retries(known, lambda k: self._set_inventories(k, desired))

    def _create(self, desired: tree.PoolProvider) -> state.KnownProvider:
        body = self.client.post('/resource_providers', {
            'name': desired.name, 'uuid': desired.uuid,
            'parent_provider_uuid': desired.parent_uuid})
        LOG.info('Created resource provider %s (%s) for %d %s unit(s)',
                 desired.name, desired.uuid, desired.total,
                 desired.resource_class)
        known = state.KnownProvider(desired.uuid, desired.name,
                                    desired.parent_uuid, body['generation'],
                                    owned=True, usages={},
                                    usages_generation=body['generation'])
        self._known[known.uuid] = known
        return known

    def _set_traits(self, known: state.KnownProvider,
                    desired: tree.PoolProvider) -> None:
        rule_traits_set = self._rule_traits.get(known.uuid, frozenset())
        wanted = state.wanted_traits(known.traits, desired.traits,
                                     rule_traits_set | desired.rule_traits)
        if wanted == known.traits:
            return
        body = self._naming(lambda: self.client.put(
            f'/resource_providers/{known.uuid}/traits', {
                'resource_provider_generation': known.generation,
                'traits': sorted(wanted)}))
        added, removed = wanted - known.traits, known.traits - wanted
        known.traits = frozenset(body['traits'])
        known.advance(body['resource_provider_generation'])
        if known.inventories or removed:
            # A new provider's first traits are part of its creation.
            LOG.info('Traits of %s: added %s, removed %s', known.name,
                     sorted(added) or '-', sorted(removed) or '-')

    def _set_inventories(self, known: state.KnownProvider,
                         desired: tree.PoolProvider | None) -> None:
        usages = (self._usages(known) if state.needs_usages(known, desired)
                  else {})
        wanted = state.wanted_inventories(known, desired, usages)
        known.retaining = state.retained(wanted, desired) > 0
        if state.same_inventories(known.inventories, wanted):
            return
        body = self._naming(lambda: self.client.put(
            f'/resource_providers/{known.uuid}/inventories', {
                'resource_provider_generation': known.generation,
                'inventories': wanted}))
        LOG.info('Inventory of %s: %s', known.name, _describe(wanted))
        if known.retaining:
            LOG.warning('%s: %d unit(s) are gone from the host but still '
                        'allocated; kept reserved until released',
                        known.name, state.retained(wanted, desired))
        known.inventories = body['inventories']
        known.advance(body['resource_provider_generation'])

    def _retirement_order(self, listing: list[dict],
                          desired: dict[str, tree.PoolProvider]) -> list[str]:
        """Our providers that are no longer desired, deepest first."""
        parents = {p['uuid']: p.get('parent_provider_uuid') for p in listing}

        def depth(uuid: str) -> int:
            level = 0
            while parents.get(uuid):
                uuid, level = parents[uuid], level + 1
            return level

        stale = [uuid for uuid, known in self._known.items()
                 if known.owned and uuid not in desired]
        return sorted(stale, key=depth, reverse=True)

    def _retire(self, known: state.KnownProvider) -> None:
        """Delete an emptied pool, or keep what is still allocated of it."""
        if known.inventories and any(self._usages(known).values()):
            self._with_retries(known, lambda k: self._set_inventories(k, None))
            return
        try:
            self.client.delete(f'/resource_providers/{known.uuid}')
        except placement_client.Conflict:
            # Allocated (or given a child) since we looked: keep it; the
            # next cycle sees its new generation and retains what is used.
            LOG.warning('Could not delete %s yet: it is in use', known.name)
            return
        except placement_client.NotFound:
            pass
        LOG.info('Removed resource provider %s (%s)', known.name, known.uuid)
        del self._known[known.uuid]
        self._rule_traits.pop(known.uuid, None)

    def _with_retries(self, known: state.KnownProvider,
                      step: Callable[[state.KnownProvider], None]) -> None:
        """Run a write step; on a generation conflict re-read and redo it."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                return step(known)
            except placement_client.Conflict as exc:
                if not exc.is_generation_conflict or (
                        attempt == CONFLICT_RETRIES):
                    raise
                LOG.debug('Generation conflict on %s; re-reading it',
                          known.name)
                known.usages = None
                self._reread(known)
                if not known.owned:
                    return None

    def _naming(self, write: Callable[[], dict]) -> dict:
        """Send a write that names custom traits or resource classes.

        The names are global: on a fleet, the first host to need one makes
        it, and every other finds it there. So the write goes first, with
        no look-up (a look-up per new process was most of what a fleet's
        first publication cost beyond the minimum); when Placement refuses
        it (400: a name it does not know), the cycle's custom names are
        made, the traits after one read of those that exist
        (``GET /traits?name=in:``), and the write is sent again.
        """
        try:
            return write()
        except placement_client.PlacementError as exc:
            traits, classes = self._names
            if exc.status != 400 or not any(
                    name.startswith('CUSTOM_') for name in traits | classes):
                raise
            LOG.info('Placement refused %s (%s); making the custom traits '
                     'and resource classes it may lack', exc.url, exc.detail)
        self.client.ensure_traits(traits)
        for name in sorted(classes):
            if name.startswith('CUSTOM_'):
                self.client.ensure_resource_class(name)
        return write()

    def _warn_foreign(self, known: state.KnownProvider) -> None:
        if known.uuid not in self._warned_foreign:
            self._warned_foreign.add(known.uuid)
            LOG.warning('Provider %s (%s) has our name but not OWNER_CYBORG: '
                        'left alone', known.name, known.uuid)


def _describe(inventories: dict[str, dict]) -> str:
    if not inventories:
        return 'empty'
    return ', '.join(f'{rc} total={inv["total"]} reserved={inv["reserved"]}'
                     for rc, inv in sorted(inventories.items()))
