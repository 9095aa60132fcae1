"""The headless-Chromium driver behind the report's browser tests (harness/report/browser.py).

These pages are tiny and written here, so each test costs one or two browser starts (~1 s each).
They prove the instrument before the report tests rely on it: scripts do run (so "nothing
executed" is a meaningful assertion), the injection detector can fire, the fragment reaches
``location.hash``, screenshots have the asked size, and no browser process or profile outlives a
call. A missing Chromium fails the tests (run ``make setup``); HARNESS_SKIP_BROWSER=1 skips them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from harness.report import browser

SKIP_ENV = "HARNESS_SKIP_BROWSER"


@pytest.fixture(autouse=True)
def chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The browser, and Python temp files (so the browser profiles) under this test's tmp_path."""
    exe = browser.find_chromium()
    if exe is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"headless Chromium not found and {SKIP_ENV}=1")
        pytest.fail(
            f"headless Chromium not found: run `make setup` (installs chromium and fonts-noto-cjk), "
            f"set HARNESS_CHROMIUM, or set {SKIP_ENV}=1 to skip the browser tests"
        )
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(profiles))
    return exe


def page(tmp_path: Path, name: str, body: str, title: str = "t") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>',
        encoding="utf-8",
    )
    return path


def leftovers(tmp_path: Path) -> list[str]:
    """Processes whose command line mentions this test's tmp_path (every browser we start does,
    through --user-data-dir), and profile directories that were not removed."""
    procs = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if str(tmp_path) in cmd and p.pid != os.getpid():
            procs.append(f"{p.pid}: {cmd[:160]}")
    dirs = [str(d) for d in (tmp_path / "profiles").iterdir()]
    return procs + dirs


def assert_clean(tmp_path: Path) -> None:
    # Kill is synchronous, but the kernel may need a moment to tear processes down.
    deadline = time.monotonic() + 3
    while (left := leftovers(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"left behind: {left}"


def test_scripts_timers_and_fragment(tmp_path: Path) -> None:
    """Inline scripts and (virtual-time) timers run before the dump; the fragment is location.hash;
    Chinese text survives the round trip."""
    html = page(
        tmp_path,
        "scripts.html",
        "<p>模型回答：中文</p>"
        "<script>"
        "document.body.insertAdjacentHTML('beforeend', '<p id=\"added\">added by script</p>');"
        "const h = document.createElement('p'); h.id = 'hash'; h.textContent = location.hash;"
        "document.body.append(h);"
        "setTimeout(() => document.body.setAttribute('data-late', 'yes'), 1500);"
        "</script>",
    )
    dom = browser.dump_dom(html, fragment="model=x&failed=1")
    assert '<p id="added">added by script</p>' in dom
    assert '<p id="hash">#model=x&amp;failed=1</p>' in dom
    assert 'data-late="yes"' in dom, "setTimeout did not run within the virtual time budget"
    assert "模型回答：中文" in dom
    assert_clean(tmp_path)


PAYLOADS = (
    "<script>document.body.setAttribute('data-pwned','1')</script>",
    "<img src=x onerror=\"document.title='PWNED'\">",
    "</td></tr></table><p id=escaped-out>broke out</p>",
)


def escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def test_injection_detector_fires_only_on_unescaped_payloads(tmp_path: Path) -> None:
    """Escaped payloads stay text and leave no mark; the same payloads unescaped DO leave the marks,
    so a report test that finds no data-pwned / PWNED title has really shown nothing ran."""
    cells = "".join(f"<tr><td class=answer>{escape(p)}</td></tr>" for p in PAYLOADS)
    safe = browser.dump_dom(page(tmp_path, "escaped.html", f"<table id=t>{cells}</table><p id=after>after</p>"))
    assert 'data-pwned="1"' not in safe  # the attribute, not the payload's own text
    assert "<title>PWNED</title>" not in safe
    assert "&lt;script&gt;" in safe and "&lt;/table&gt;" in safe
    assert 'id="escaped-out"' not in safe  # the </table> payload did not end the table
    assert safe.count("<td") == len(PAYLOADS)

    raw = "".join(PAYLOADS[:2])
    pwned = browser.dump_dom(page(tmp_path, "raw.html", f"<table><tr><td>{raw}</td></tr></table>"))
    assert 'data-pwned="1"' in pwned
    assert "<title>PWNED</title>" in pwned
    assert_clean(tmp_path)


def test_screenshot_png_with_chinese_text(tmp_path: Path) -> None:
    """A PNG of the asked size; CJK text does not crash the renderer (glyphs need fonts-noto-cjk)."""
    html = page(tmp_path, "zh.html", "<h1>基座模型选择报告</h1><p>中文回答与表格</p>" * 20)
    png = browser.screenshot(html, tmp_path / "out" / "shot.png", width_px=640, height_px=480)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert browser.png_size(png) == (640, 480)
    assert len(data) > 1000  # not a blank-by-error stub: text was drawn
    assert_clean(tmp_path)


def test_timeout_kills_the_whole_browser(tmp_path: Path) -> None:
    """A hung page raises BrowserError at the timeout and leaves no process or profile behind."""
    html = page(tmp_path, "hang.html", "<script>for (;;) {}</script>")
    t0 = time.monotonic()
    with pytest.raises(browser.BrowserError, match="timed out"):
        browser.dump_dom(html, timeout_s=3)
    assert time.monotonic() - t0 < 15
    assert_clean(tmp_path)


def test_cli_dom_and_missing_file(tmp_path: Path) -> None:
    html = page(tmp_path, "cli.html", "<script>document.body.dataset.ran = location.hash.slice(1)</script>")
    env = {**os.environ, "TMPDIR": str(tmp_path / "profiles")}
    cli = [sys.executable, "-m", "harness.report.browser"]
    res = subprocess.run([*cli, "dom", str(html), "--fragment", "#ok"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert 'data-ran="ok"' in res.stdout
    res = subprocess.run([*cli, "dom", str(tmp_path / "nope.html")], capture_output=True, text=True, env=env)
    assert res.returncode == 1 and "no such HTML file" in res.stderr
    assert_clean(tmp_path)
