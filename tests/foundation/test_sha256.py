"""The file hash (harness.store.sha256_file) on the FIPS 180-2 test vectors."""

from __future__ import annotations

from pathlib import Path

from harness.store import sha256_file


def test_sha256_file_matches_the_fips_test_vectors(tmp_path: Path) -> None:
    # FIPS 180-2 examples: "abc", and one million "a" (several read chunks).
    (tmp_path / "abc").write_bytes(b"abc")
    (tmp_path / "million").write_bytes(b"a" * 1_000_000)
    assert sha256_file(tmp_path / "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_file(tmp_path / "million") == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
