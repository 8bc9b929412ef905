"""The hash-table string lookup (`lookup_ucs4` over `make_table`) gives a dict's
ids, found and empties (and NumPy's string search's), for any
strings: widths differing on both sides, empty strings, NULs inside, code points
beyond ASCII and the BMP, duplicate keys, an empty vocabulary, no strings."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitf.kernels.lookup import lookup_ucs4, make_table

# A few code points, so that drawn strings often equal keys or share prefixes;
# 0 makes NULs inside strings (a string ends at its last non-NUL code point).
CODE = st.sampled_from([0, 0x41, 0x61, 0x62, 0xe9, 0x4e2d, 0x1f600, 0x10ffff, 2**32 - 1])
STRING = st.lists(CODE, max_size=5).map(lambda s: tuple(s[:_end(s)]))
DEFAULT = -7


def _end(s):
    """The length of `s` without its trailing NULs."""
    n = len(s)
    while n and s[n - 1] == 0:
        n -= 1
    return n


def rows(strings, extra):
    """The strings as uint32 code points, NUL-padded to the longest plus `extra`."""
    width = max((len(s) for s in strings), default=0) + extra
    out = np.zeros((len(strings), width), np.uint32)
    for i, s in enumerate(strings):
        out[i, :len(s)] = s
    return out


def ucs4(a):
    """A unicode array's code points, as the vocabulary columns give them."""
    return a.view(np.uint32).reshape(len(a), a.dtype.itemsize // 4)


def reference(strings, keys, positions):
    """(ids, found, empties) from a dict: the first of equal keys wins."""
    table = {}
    for k, p in zip(keys, positions):
        table.setdefault(k, p)
    ids = np.array([table.get(s, DEFAULT) for s in strings], np.int64)
    found = np.array([s in table for s in strings], bool)
    return ids, found, sum(len(s) == 0 for s in strings)


def check(strings, keys, positions, extra_codes, extra_keys):
    """lookup_ucs4 equals the dict; returns its result."""
    keys = sorted(keys)  # code-point order: as NUL-padded rows compare
    codes, key_codes = rows(strings, extra_codes), rows(keys, extra_keys)
    positions = np.asarray(positions, np.int64)
    got = lookup_ucs4(codes, make_table(key_codes, positions), DEFAULT)
    assert got[0].dtype == np.int64 and got[1].dtype == np.bool_
    for g, r in zip(got, reference(strings, keys, positions)):
        np.testing.assert_array_equal(g, r)
    return got


@given(st.lists(STRING, max_size=8), st.lists(STRING, max_size=12), st.data(),
       st.integers(0, 3), st.integers(0, 3))
def test_equals_binary_search_and_dict(keys, others, data, extra_codes, extra_keys):
    """Drawn strings, half of them keys, against a vocabulary with duplicates and
    any positions (so which of equal keys wins shows)."""
    strings = others + [data.draw(st.sampled_from(keys)) for _ in keys[::2]] if keys else others
    positions = data.draw(st.lists(st.integers(-2**40, 2**40), min_size=len(keys),
                                   max_size=len(keys)))
    check(strings, keys + keys[:2], positions + [-1, -2][:len(keys[:2])], extra_codes,
          extra_keys)


@given(st.lists(st.text(max_size=6), max_size=10), st.lists(st.text(max_size=6), max_size=20))
def test_numpy_strings_as_the_columns_pass_them(vocab, values):
    """NumPy unicode arrays (trailing NULs dropped, inner ones kept), the keys
    sorted stably with their vocabulary positions, as the vocabulary columns do."""
    keys = np.asarray(vocab, str)
    order = np.argsort(keys, kind="stable")
    keys, positions = keys[order], order.astype(np.int64)
    values = np.asarray(values + vocab[::2], str)
    codes, key_codes = ucs4(values), ucs4(keys)
    got = lookup_ucs4(codes, make_table(key_codes, positions), DEFAULT)
    if len(keys):  # NumPy's own string search: the first of equal keys, as found
        at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
        hit = keys[at] == values
        np.testing.assert_array_equal(got[1], hit)
        np.testing.assert_array_equal(got[0], np.where(hit, positions[at], DEFAULT))
    first = {}
    for p, v in enumerate(vocab):
        first.setdefault(v.rstrip("\0"), p)
    np.testing.assert_array_equal(got[0], [first.get(v, DEFAULT) for v in values.tolist()])
    assert got[2] == sum(v == "" for v in values.tolist())


@given(st.lists(STRING, max_size=8), st.lists(STRING, max_size=8), st.integers(0, 4),
       st.integers(0, 4))
def test_padding_width_does_not_matter(keys, strings, pad_a, pad_b):
    """The same strings padded to two widths, against keys padded to two widths,
    give the same ids."""
    positions = np.arange(len(keys), dtype=np.int64) * 3
    a = check(strings + keys, keys, positions, pad_a, pad_b)
    b = check(strings + keys, keys, positions, pad_b, pad_a)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert a[1][len(strings):].all()  # every key is found


def test_nuls_inside_keep_strings_apart():
    keys = [(0x61,), (0x61, 0, 0x62), (0x61, 0x62), (0, 0x61)]
    ids, found, empties = check([(0x61,), (0x61, 0x62), (0x61, 0, 0x62), (0, 0x61), (0x62, 0, 0x61),
                                 (0x61, 0, 0, 0x62), ()], keys, [10, 11, 12, 13], 2, 1)
    # keys sorted: a, a\0b, ab, \0a -> \0a, a, a\0b, ab
    np.testing.assert_array_equal(ids, [11, 13, 12, 10, DEFAULT, DEFAULT, DEFAULT])
    assert found.tolist() == [True] * 4 + [False] * 3 and empties == 1


def test_duplicate_keys_give_the_first_position():
    keys = rows([(0x62,), (0x62,), (0x63,), (0x63,), (0x63,)], 1)
    table = make_table(keys, np.array([4, 0, 2, 1, 3]))
    ids, found, _ = lookup_ucs4(rows([(0x63,), (0x62,)], 0), table, DEFAULT)
    np.testing.assert_array_equal(ids, [2, 4])
    assert (table[0][:, 0] >= 0).sum() == 2  # one slot for each distinct key


def test_empty_vocabulary_and_no_strings():
    empty = make_table(np.zeros((0, 3), np.uint32), np.zeros(0, np.int64))
    ids, found, empties = lookup_ucs4(rows([(0x61,), ()], 2), empty, DEFAULT)
    np.testing.assert_array_equal(ids, [DEFAULT, DEFAULT])
    assert not found.any() and empties == 1
    ids, found, empties = lookup_ucs4(np.zeros((0, 4), np.uint32), empty, DEFAULT)
    assert ids.shape == found.shape == (0,) and empties == 0
    # width 0 on either side: all strings empty
    table = make_table(np.zeros((2, 0), np.uint32), np.array([5, 6]))
    ids, found, empties = lookup_ucs4(np.zeros((3, 0), np.uint32), table, DEFAULT)
    np.testing.assert_array_equal(ids, [5, 5, 5])
    assert found.all() and empties == 3
    ids, _, _ = lookup_ucs4(rows([(0x61,), ()], 0), table, DEFAULT)
    np.testing.assert_array_equal(ids, [DEFAULT, 5])


@pytest.mark.parametrize("key, string", [((0x61,), (0x62,)), ((0x61,), (0x61, 0x62)),
                                         ((0x61, 0x62), (0x61,)), ((0x61,), (0x61, 0, 0x62))])
def test_a_hash_match_alone_is_not_a_hit(key, string):
    """A slot whose hash equals the string's but whose key differs (a 64-bit
    collision, made by hand; the key may be narrower or wider): the full
    compare rejects it."""
    s_slots, _ = make_table(rows([string], 0), np.array([8]))
    h = s_slots[s_slots[:, 0] >= 0][0, 1]  # the string's hash
    slots = np.full((4, 3), -1, np.int64)
    slots[h & 3] = [0, h, 9]  # the key row 0 with the string's hash
    ids, found, _ = lookup_ucs4(rows([string], 0), (slots, rows([key], 0)), DEFAULT)
    assert ids.tolist() == [DEFAULT] and not found.any()
    ids, found, _ = lookup_ucs4(rows([string], 0), (slots, rows([string], 1)), DEFAULT)
    assert ids.tolist() == [9] and found.all()  # the string itself in row 0: a hit


def test_large_vocabulary_probes_past_taken_slots():
    """Thousands of keys: many share a first slot, and probes run on."""
    rng = np.random.default_rng(0)
    strings = sorted({tuple(rng.integers(1, 5, rng.integers(0, 9)).tolist())
                      for _ in range(6000)})
    positions = rng.permutation(len(strings))
    slots, _ = make_table(rows(strings, 0), positions)
    mask = len(slots) - 1
    used = np.flatnonzero(slots[:, 0] >= 0)
    assert len(used) == len(strings) and (slots[used, 1] & mask != used).any()
    drawn = [rng.integers(0, 6, 6).tolist() for _ in range(500)]
    queries = strings[::3] + [tuple(q[:_end(q)]) for q in drawn]
    check(queries, strings, positions, 1, 2)


@given(st.lists(STRING, min_size=1, max_size=40, unique=True))
def test_small_vocabularies_put_every_key_in_its_first_slot(keys):
    """Up to 1024 slots, the table grows until no key is off its first slot
    (a hit is one probe); every key stays found."""
    slots, _ = make_table(rows(sorted(keys), 1), np.arange(len(keys)))
    used = np.flatnonzero(slots[:, 0] >= 0)
    assert len(used) == len(keys) and len(slots) >= 2 * len(keys)
    if len(slots) < 1024:
        np.testing.assert_array_equal(slots[used, 1] & (len(slots) - 1), used)
