"""The formats package: public API, detection from content, files, gzip, dispatch."""

from __future__ import annotations

import doctest
import gzip
from pathlib import Path
from types import ModuleType

import pytest

import kidneyshare.formats as formats
from format_pools import pool_key, projected, tiny_pool
from kidneyshare.errors import ConfigError, FormatError
from kidneyshare.formats import (
    FORMATS,
    detect_format,
    dump_instance,
    glasgow,
    glasgow_xml,
    native,
    parse_instance,
    preflib,
    read_instance,
    read_instance_format,
    write_instance,
)
from kidneyshare.model import Instance

OLD_WMD = "2,2\n1,Pair 1\n2,Alturist 2\n0,1,0\n1,0,1\n"
DAT = "Pair,Patient,Donor,Wife-P?,%Pra,Out-Deg,Altruist\n1,O,A,0,0.45,1,0\n2,O,O,0,0.0,1,1\n"


def test_public_api_is_pinned() -> None:
    assert sorted(formats.__all__) == sorted(
        [
            "FORMATS",
            "dat_path_for",
            "detect_format",
            "dump_glasgow",
            "dump_glasgow_xml",
            "dump_instance",
            "dump_native",
            "dump_preflib",
            "dump_preflib_dat",
            "native_schema",
            "parse_glasgow",
            "parse_glasgow_xml",
            "parse_instance",
            "parse_native",
            "parse_preflib",
            "read_glasgow",
            "read_glasgow_xml",
            "read_instance",
            "read_instance_format",
            "read_native",
            "read_preflib",
            "write_glasgow",
            "write_glasgow_xml",
            "write_instance",
            "write_native",
            "write_preflib",
        ]
    )
    for module in (formats, glasgow, glasgow_xml, native, preflib):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    assert FORMATS == ("native", "glasgow", "glasgow-xml", "preflib")


def pools_for(fmt: str) -> Instance:
    """The tiny pool as far as ``fmt`` can hold it."""
    pool = tiny_pool()
    if fmt == "glasgow":
        return projected(pool, name=False, patient_age=False, probability=False)
    if fmt == "glasgow-xml":
        return projected(pool, name=False, patient_details=False, probability=False)
    if fmt == "preflib":
        return parse_instance(OLD_WMD, dat_text=DAT)
    return pool


@pytest.mark.parametrize("fmt", FORMATS)
def test_dump_is_detected_and_parsed_back(fmt: str) -> None:
    pool = pools_for(fmt)
    text = dump_instance(pool, fmt)
    assert detect_format(text) == fmt
    # a PrefLib text without its .dat carries no blood groups or cPRA
    expected = (
        projected(pool, patient_details=False, donor_groups=False) if fmt == "preflib" else pool
    )
    assert pool_key(parse_instance(text)) == pool_key(expected)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_then_read(tmp_path: Path, fmt: str, suffix: str) -> None:
    pool = pools_for(fmt)
    path = tmp_path / f"pool.{fmt}{suffix}"
    write_instance(pool, path, fmt)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    assert pool_key(read_instance(path)) == pool_key(pool)


def test_detection_ignores_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "looks-like.xml"
    path.write_bytes(gzip.compress(dump_instance(tiny_pool(), "native").encode()))
    assert read_instance(path) == tiny_pool()


def test_read_instance_finds_the_dat(tmp_path: Path) -> None:
    (tmp_path / "x.wmd.gz").write_bytes(gzip.compress(OLD_WMD.encode()))
    (tmp_path / "x.dat").write_text(DAT)
    pool = read_instance(tmp_path / "x.wmd.gz")
    assert pool.patient("1").cpra == 0.45


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('  \n{"format": "kidneyshare"}', "native"),
        ('{"data": {}}', "glasgow"),
        ('{"schema": 3, "donors": []}', "glasgow"),
        ("\ufeff<?xml version='1.0'?><data/>", "glasgow-xml"),
        ("# FILE NAME: x.wmd\n", "preflib"),
        ("17,117\n1,Pair 1 \n", "preflib"),
    ],
)
def test_detect_format(text: str, expected: str) -> None:
    assert detect_format(text) == expected


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ("", None, "empty input"),
        (
            "\n\nhello",
            "line 3",
            "unrecognised format: expected native JSON, Glasgow JSON or XML, "
            'or a PrefLib .wmd, found "hello"',
        ),
        ("[1]", "top level", "expected a JSON object at the top level"),
        ('{"algorithm": "x"}', "top level", 'found the keys "algorithm"'),
        ('{"data": \n', "line 2, column 1", "malformed JSON"),
    ],
)
def test_unrecognisable_input(text: str, location: str | None, words: str) -> None:
    with pytest.raises(FormatError) as caught:
        detect_format(text, "in.txt")
    assert caught.value.source == "in.txt"
    assert caught.value.location == location
    assert words in str(caught.value)


def test_unknown_format_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="native, glasgow, glasgow-xml, preflib"):
        dump_instance(tiny_pool(), "csv")
    with pytest.raises(ConfigError):
        parse_instance("{}", format="yaml")


def test_byte_order_mark_is_ignored() -> None:
    assert parse_instance("\ufeff" + dump_instance(tiny_pool(), "native")) == tiny_pool()


def test_a_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "pool.json"
    text = dump_instance(tiny_pool(), "native").encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + text)
    assert read_instance_format(path) == (tiny_pool(), "native")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace(b"tiny", b"ti\xffy"))
    with pytest.raises(FormatError, match="the byte 0xff") as caught:
        read_instance(path)
    assert caught.value.location == "line 4"


def test_forced_format() -> None:
    with pytest.raises(FormatError, match="expected the root element <data>"):
        parse_instance("<pool/>", format="glasgow-xml")
    assert pool_key(parse_instance(OLD_WMD, format="preflib")) == pool_key(parse_instance(OLD_WMD))


def test_dat_only_goes_with_preflib() -> None:
    with pytest.raises(FormatError, match=r"goes with a PrefLib \.wmd, but this is native"):
        parse_instance(dump_instance(tiny_pool(), "native"), dat_text=DAT)


def test_dat_is_used_by_parse_instance() -> None:
    pool = parse_instance(OLD_WMD, "x.wmd", DAT, dat_source="x.dat")
    assert pool.patient("1").cpra == 0.45
    with pytest.raises(FormatError) as caught:
        parse_instance(OLD_WMD, "x.wmd", DAT.replace("0.45", "45"), dat_source="x.dat")
    assert (caught.value.source, caught.value.location) == ("x.dat", "line 2")


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": {"1": {"sources": [1, 2]}}}')
    with pytest.raises(FormatError) as caught:
        read_instance(path)
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f'{path}, data["1"].sources: ')


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.wmd"
    path.write_bytes(b"2,2\n1,Pair 1\n2,Alt\xfcrist 2\n")
    with pytest.raises(FormatError) as caught:
        read_instance(path)
    assert caught.value.location == "line 3"
    assert "expected UTF-8 text, found the byte 0xfc" in str(caught.value)


@pytest.mark.parametrize("cut", [10, 30])
def test_truncated_or_corrupt_gzip(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "x.json.gz"
    path.write_bytes(gzip.compress(dump_instance(tiny_pool(), "native").encode())[:cut])
    with pytest.raises(FormatError, match="corrupt or truncated gzip data") as caught:
        read_instance(path)
    assert caught.value.source == str(path)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_instance(tmp_path / "absent.json")


@pytest.mark.parametrize("module", [formats, native, glasgow, glasgow_xml, preflib])
def test_docstring_examples_run(module: ModuleType) -> None:
    failures, _ = doctest.testmod(module)
    assert failures == 0
