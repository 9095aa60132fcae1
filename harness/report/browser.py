"""Drive a real headless Chromium over the HTML report: the DOM after scripts ran, and screenshots.

Why a real browser: the report is one self-contained HTML file whose tables, filters and charts are
built by inline JavaScript, and whose cells hold model answers (untrusted text). Only a real engine
tells us that the page renders, that the filter state in ``location.hash`` (``#model=x&failed=1``)
is honoured, and that an answer such as ``<script>...</script>``, ``<img src=x onerror=...>`` or
``</table>`` shows up as text instead of running or breaking the layout.

We use Debian's ``chromium`` package (``make setup`` installs it with ``fonts-noto-cjk``, without
which Chinese text is drawn as empty boxes in screenshots) through its command-line headless mode:
``--dump-dom`` prints the serialised DOM once the page has loaded and ``--virtual-time-budget`` has
elapsed (virtual time runs timers and load/error handlers fast, so ``setTimeout`` work and
``onerror`` handlers have settled), and ``--screenshot`` writes a PNG. No DevTools protocol client
and no Python dependency are needed.

Detecting that injected markup executed: the page under test cannot be modified, so a test makes
its payloads leave a mark in the DOM, e.g. ``<script>document.body.setAttribute('data-pwned','1')
</script>`` or ``<img src=x onerror="document.title='PWNED'">``, renders them through the report,
and asserts that ``dump_dom(...)`` contains neither ``data-pwned="1"`` (the serialised attribute: the
escaped payload text itself says ``data-pwned``) nor ``<title>PWNED</title>``. Such a test
must also show that scripts do run in this browser at all (the page's own script produced its
table), otherwise "nothing executed" proves nothing; ``tests/report/test_browser.py`` shows that an
unescaped payload *does* set the marker. Escaped payloads appear in the dump as text, i.e. as
``&lt;script&gt;`` / ``&lt;/table&gt;``.

Each call starts a fresh browser with a throw-away ``--user-data-dir`` (removed afterwards), in
its own session so that on timeout or interruption the whole process tree (the launcher script,
the browser, its zygote/renderer/GPU/utility children) is killed with one ``killpg``; nothing
survives a call. Chromium's stderr chatter (D-Bus, GPU) is captured and only surfaced, as the
last lines, in a ``BrowserError`` when a call fails.

CLI::

    python -m harness.report.browser screenshot REPORT.html OUT.png [--width 1400] [--height 4000]
    python -m harness.report.browser dom REPORT.html [--fragment 'model=x&failed=1']
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

#: Executables tried in order on PATH when ``HARNESS_CHROMIUM`` is not set.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")

#: Flags for every call. ``--no-sandbox``: we run as root in containers, where Chromium refuses to
#: start sandboxed; acceptable because we only ever load our own local report files. The rest keep
#: a headless run quiet, offline and reproducible (no GPU, no first-run UI, no background fetches).
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-crash-reporter",
    "--mute-audio",
    "--force-device-scale-factor=1",
)

#: Longest TMPDIR we hand Chromium (see _run).
MAX_TMPDIR_CHARS = 60

#: How many stderr lines a BrowserError carries.
STDERR_TAIL_LINES = 25

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class BrowserError(RuntimeError):
    """Chromium failed, timed out or produced no output; the message ends with its last stderr lines."""


class BrowserNotFoundError(BrowserError):
    """No Chromium executable: the message says how to install one."""


def find_chromium() -> str | None:
    """The Chromium executable to use, or None.

    ``HARNESS_CHROMIUM`` (a path or a name on PATH) wins, so a machine with Chrome elsewhere can
    still run the browser tests; an override that does not resolve gives None rather than silently
    falling back to another browser.
    """
    override = os.environ.get("HARNESS_CHROMIUM", "").strip()
    if override:
        return shutil.which(override)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """Like :func:`find_chromium` but raising a :class:`BrowserNotFoundError` that says what to do."""
    exe = find_chromium()
    if exe is None:
        override = os.environ.get("HARNESS_CHROMIUM", "").strip()
        where = (
            f"HARNESS_CHROMIUM={override!r} does not resolve to an executable"
            if override
            else f"none of {', '.join(CANDIDATES)} is on PATH"
        )
        raise BrowserNotFoundError(
            f"headless Chromium not found ({where}): run `make setup` (installs the Debian packages "
            "chromium and fonts-noto-cjk) or `apt-get install chromium fonts-noto-cjk`, "
            "or point HARNESS_CHROMIUM at a Chromium/Chrome binary"
        )
    return exe


def file_url(html_path: Path, fragment: str = "") -> str:
    """``file://`` URL of ``html_path`` with an optional ``#fragment`` (given with or without the ``#``)."""
    url = Path(html_path).resolve().as_uri()
    fragment = fragment.removeprefix("#")
    return f"{url}#{fragment}" if fragment else url


def _kill_group(pgid: int) -> None:
    """SIGKILL every process left in the group; the group may already be gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _tail(text: str, n: int = STDERR_TAIL_LINES) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[-n:]) if lines else "(no stderr)"


def _run(args: Sequence[str], url: str, timeout_s: float) -> tuple[bytes, str]:
    """Run Chromium with ``args`` on ``url`` in a fresh profile and process group; (stdout, stderr).

    The profile and temp directories and every process of the group are gone when this returns or
    raises, also on success: a renderer or utility process may outlive the browser by a moment.
    """
    exe = require_chromium()
    profile = tempfile.mkdtemp(prefix="harness-chromium-")
    # Chromium's TMPDIR gets what it leaves in temp (removed with the profile). Its
    # $TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket must fit a unix socket path (107 bytes),
    # else Chromium aborts with "Socket path too long": a long TMPDIR gets a short one in /tmp.
    scratch = [profile]
    if len(profile) > MAX_TMPDIR_CHARS and os.path.isdir("/tmp"):
        scratch.append(tempfile.mkdtemp(prefix="hc-", dir="/tmp"))
    env = {**os.environ, "TMPDIR": scratch[-1]}
    cmd = [exe, *BASE_FLAGS, f"--user-data-dir={profile}", *args, url]
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # own process group: killpg reaches the whole tree
        )
        try:
            out, err_b = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            try:
                _, err_b = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:  # a process that left the group still holds the pipes
                err_b = b""
            err = err_b.decode("utf-8", "replace")
            raise BrowserError(
                f"chromium timed out after {timeout_s:g}s on {url}; stderr tail:\n{_tail(err)}"
            ) from None
        err = err_b.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise BrowserError(f"chromium exited with {proc.returncode} on {url}; stderr tail:\n{_tail(err)}")
        return out, err
    finally:
        if proc is not None:
            _kill_group(proc.pid)
            if proc.poll() is None:  # interrupted (e.g. KeyboardInterrupt) before communicate finished
                proc.wait()
        for d in scratch:
            shutil.rmtree(d, ignore_errors=True)


def _check_page(html_path: Path) -> Path:
    path = Path(html_path)
    if not path.is_file():
        raise FileNotFoundError(f"no such HTML file: {path}")
    return path


def dump_dom(html_path: Path, fragment: str = "", timeout_s: float = 60, virtual_time_budget_ms: int = 3000) -> str:
    """The page's serialised DOM after its scripts, timers and load/error handlers ran.

    ``fragment`` becomes ``location.hash`` (the report reads its filter state from there).
    ``virtual_time_budget_ms`` is virtual time: it costs far less wall time than it says, and it
    is what lets ``setTimeout`` work and ``onerror`` handlers finish before the dump.
    """
    path = _check_page(html_path)
    url = file_url(path, fragment)
    out, err = _run(["--dump-dom", f"--virtual-time-budget={virtual_time_budget_ms}"], url, timeout_s)
    dom = out.decode("utf-8", "replace")
    if not dom.strip():
        raise BrowserError(f"chromium printed no DOM for {url}; stderr tail:\n{_tail(err)}")
    return dom


def png_size(png_path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError if the file is not a PNG."""
    head = Path(png_path).read_bytes()[:24]
    if len(head) < 24 or not head.startswith(PNG_MAGIC) or head[12:16] != b"IHDR":
        raise ValueError(f"not a PNG file: {png_path}")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def screenshot(
    html_path: Path,
    png_path: Path,
    width_px: int = 1400,
    height_px: int = 4000,
    fragment: str = "",
    timeout_s: float = 90,
    virtual_time_budget_ms: int = 3000,
) -> Path:
    """Write a ``width_px`` x ``height_px`` PNG of the page (top-left viewport, no scrollbars); returns its path.

    Content below ``height_px`` is cut off: pick a height that fits the report. The same virtual
    time budget as :func:`dump_dom` lets scripted content (tables, charts) appear first.
    """
    path = _check_page(html_path)
    png = Path(png_path).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)  # a stale file must not pass the check below
    url = file_url(path, fragment)
    _, err = _run(
        [
            f"--screenshot={png}",
            f"--window-size={width_px},{height_px}",
            "--hide-scrollbars",
            f"--virtual-time-budget={virtual_time_budget_ms}",
        ],
        url,
        timeout_s,
    )
    if not png.is_file() or png.stat().st_size == 0:
        raise BrowserError(f"chromium wrote no screenshot {png} for {url}; stderr tail:\n{_tail(err)}")
    try:
        png_size(png)
    except ValueError as exc:
        raise BrowserError(f"chromium wrote an invalid screenshot {png}: {exc}") from None
    return png


def main(argv: Sequence[str] | None = None) -> int:
    """``screenshot`` / ``dom`` subcommands; exit 1 with a one-line reason when Chromium fails."""
    parser = argparse.ArgumentParser(prog="python -m harness.report.browser", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    shot = sub.add_parser("screenshot", help="write a PNG of the report")
    shot.add_argument("html", type=Path)
    shot.add_argument("png", type=Path)
    shot.add_argument("--width", type=int, default=1400)
    shot.add_argument("--height", type=int, default=4000)
    shot.add_argument("--fragment", default="", help="URL fragment, e.g. 'model=x&failed=1'")
    shot.add_argument("--timeout", type=float, default=90)
    dom = sub.add_parser("dom", help="print the DOM after scripts ran")
    dom.add_argument("html", type=Path)
    dom.add_argument("--fragment", default="", help="URL fragment, e.g. 'model=x&failed=1'")
    dom.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "screenshot":
            png = screenshot(args.html, args.png, args.width, args.height, args.fragment, args.timeout)
            w, h = png_size(png)
            print(f"screenshot: {png} ({w}x{h}, {png.stat().st_size} bytes)")
        else:
            sys.stdout.write(dump_dom(args.html, args.fragment, args.timeout))
    except (BrowserError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
