"""Pages of what a caller may see: rows it may not see are skipped and the
page filled from the next ones, so paging until a short page misses nothing."""
import pytest

from cyborg_placement.api import visibility

ROWS = [str(n) for n in range(1, 12)]


def _fetcher(limit: int, reads: list):
    def fetch(marker):
        start = 0 if marker is None else ROWS.index(marker) + 1
        reads.append(marker)
        return ROWS[start:start + limit]
    return fetch


def _walk(keep, limit: int) -> tuple[list[str], int]:
    """Every page, as a client pages: until a page is short."""
    seen, marker, reads = [], None, []
    while True:
        page = visibility.visible_page(_fetcher(limit, reads), keep, marker,
                                       limit, str)
        seen += page
        if len(page) < limit:
            return seen, len(reads)
        marker = page[-1]


@pytest.mark.parametrize('limit', [1, 2, 3, 5, 11, 20])
def test_paging_skips_what_is_hidden_and_misses_nothing(limit):
    def even(row):
        return int(row) % 2 == 0
    assert _walk(even, limit)[0] == [r for r in ROWS if even(r)]


def test_nothing_visible_is_one_empty_page_after_reading_all():
    seen, reads = _walk(lambda row: False, 3)
    assert seen == []
    assert reads == 4  # 3 + 3 + 3 + 2 rows: the short page ends it


def test_without_a_filter_one_read():
    reads = []
    page = visibility.visible_page(_fetcher(4, reads), None, '2', 4, str)
    assert page == ['3', '4', '5', '6']
    assert reads == ['2']


def test_a_holder_without_project_is_an_empty_target():
    assert visibility.target(None) == {}
    assert visibility.target('') == {}
    assert visibility.target('p1') == {'project_id': 'p1'}
