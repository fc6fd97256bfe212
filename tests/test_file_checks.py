"""The whole-file checks every log goes through before it is read: a NUL byte (a binary file)
and UTF-8, found a block at a time, agree with Python's own search and decoder wherever the
block boundaries fall."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc.reading.files import _check_utf8, _find_nul

# ASCII, multi-byte characters (split across blocks when the blocks are small), a BOM, bytes
# that are never UTF-8, truncated sequences and NUL
pieces = st.sampled_from(
    [
        b"a",
        b"acme,db\n",
        "é".encode(),
        "阿里".encode(),
        "😀".encode(),
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xc3",
        b"\xe9\x98",
        b"\x80",
        b"\x00",
    ]
)


@settings(max_examples=400, deadline=None)
@given(data=st.lists(pieces, max_size=40).map(b"".join), block=st.integers(1, 64))
def test_the_checks_agree_with_python(data: bytes, block: int) -> None:
    assert _find_nul(data, block) == data.find(b"\x00")
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # Python's utf-8-sig counts after it
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as expected:
        with pytest.raises(UnicodeDecodeError) as got:
            _check_utf8(data, block)
        assert got.value.start == bom + expected.start
    else:
        _check_utf8(data, block)
