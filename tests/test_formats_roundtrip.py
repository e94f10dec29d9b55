"""Property tests: every writable format gives back the pool it wrote (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from format_pools import NUMBER_IDS, XML_IDS, canonical_pools, pool_key, pools, projected
from kidneyshare.formats import detect_format, dump_instance, parse_instance
from kidneyshare.formats.preflib import dump_preflib_dat
from kidneyshare.model import Instance

ROUND_TRIP = settings(max_examples=60, deadline=None)


@ROUND_TRIP
@given(pools())
def test_native_is_exact(pool: Instance) -> None:
    text = dump_instance(pool, "native")
    assert detect_format(text) == "native"
    assert parse_instance(text) == pool


@ROUND_TRIP
@given(pools() | pools(NUMBER_IDS))
def test_glasgow(pool: Instance) -> None:
    kept = projected(pool, name=False, patient_age=False, probability=False)
    text = dump_instance(kept, "glasgow")
    assert detect_format(text) == "glasgow"
    assert pool_key(parse_instance(text)) == pool_key(kept)


@ROUND_TRIP
@given(pools(XML_IDS) | pools(NUMBER_IDS))
def test_glasgow_xml(pool: Instance) -> None:
    kept = projected(pool, name=False, patient_details=False, probability=False)
    text = dump_instance(kept, "glasgow-xml")
    assert detect_format(text) == "glasgow-xml"
    assert pool_key(parse_instance(text)) == pool_key(kept)


@ROUND_TRIP
@given(canonical_pools(), st.booleans())
def test_preflib(pool: Instance, with_dat: bool) -> None:
    text = dump_instance(pool, "preflib")
    assert detect_format(text) == "preflib"
    if with_dat:
        again = parse_instance(text, dat_text=dump_preflib_dat(pool))
        assert pool_key(again) == pool_key(pool)
    else:
        again = parse_instance(text)
        without_dat = projected(pool, patient_details=False, donor_groups=False)
        assert pool_key(again) == pool_key(without_dat)
    assert again.name == pool.name
