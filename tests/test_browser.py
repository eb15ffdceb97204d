"""Browser check: every page of the built book, opened offline in headless Chromium.

The built ``_build/html`` is served on 127.0.0.1 and each page is loaded in Debian's
``chromium``, driven through the Chrome DevTools protocol over ``--remote-debugging-pipe``
(messages are NUL-separated JSON on file descriptors 3 and 4, so no websocket client and no new
dependency is needed). A page fails when

- an altair chart did not draw (no ``svg.marks``/``canvas.marks`` in its ``altair-viz-*`` div,
  or vega-embed wrote its red error text there);
- math did not render (a ``.math`` element without an ``mjx-container``, or a MathJax error);
- any request went to a host other than loopback (a CDN, a font service, ...);
- a response had an HTTP status of 400 or more (a missing local asset);
- the console shows an error, or the page throws, other than the known harmless ones in
  `KNOWN_HARMLESS`.

The check also saves screenshots of the rooflines chapter under ``_build/screenshots/``, and
hovers a chart to see that it is interactive. `test_check_fails_on_*` show the check failing on
deliberately broken pages.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
VEGA_BUNDLE = ROOT / "_static" / "vega-offline.js"

#: Console errors known to be harmless, each with the reason.
KNOWN_HARMLESS: dict[str, str] = {
    # sphinx-thebe 0.3.1 declares `const THEBE_JS_URL` in two scripts of every page, even with
    # launch_buttons.thebe false (toolchain.md §2, gotcha 6). Thebe is not used.
    r"Identifier 'THEBE_JS_URL' has already been declared": "sphinx-thebe double declaration",
}

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--no-default-browser-check",
                  "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                  "--remote-debugging-pipe"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
WIDTH, HEIGHT = 1280, 1000

#: What the page reports about its charts and its math (evaluated in the page).
STATE_JS = r"""
(() => {
  const charts = [...document.querySelectorAll('div[id^="altair-viz-"]')];
  const drawn = charts.filter(d => d.querySelector('svg.marks, canvas.marks'));
  const chartErrors = charts.flatMap(d => [...d.querySelectorAll('.error')])
                            .map(e => e.textContent.slice(0, 300));
  const maths = [...document.querySelectorAll('.math')];
  const typeset = maths.filter(m => m.querySelector('mjx-container'));
  const mathErrors = [...document.querySelectorAll('mjx-merror')]
                       .map(e => e.getAttribute('data-mjx-error') || e.textContent);
  // A chart can draw its frame and yet show nothing: bars on a log axis stacked from zero all
  // come out with zero width or height. Count the charts whose every bar is empty.
  const emptyBars = drawn.filter(d => {
    const bars = [...d.querySelectorAll('path[aria-roledescription="bar"]')];
    return bars.length > 0 && bars.every(b => {
      const r = b.getBBox();
      return r.width < 0.5 || r.height < 0.5;
    });
  }).length;
  return {url: location.href, ready: document.readyState, charts: charts.length,
          drawn: drawn.length, chartErrors, emptyBars, maths: maths.length,
          typeset: typeset.length, mathErrors};
})()
"""


# ---------------------------------------------------------------------------------------------
# A small Chrome DevTools protocol client over --remote-debugging-pipe
# ---------------------------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Path of the Chromium binary: $CHROMIUM, else chromium / chromium-browser on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


class CdpError(RuntimeError):
    """Chromium answered a command with an error, or did not answer in time."""


class Browser:
    """Headless Chromium driven over the DevTools pipe (one reader thread, blocking calls)."""

    def __init__(self, executable: str) -> None:
        self.user_data_dir = tempfile.mkdtemp(prefix="hermes-chromium-")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()
        # Keep the child's ends above 4, then let bash (dash takes only one-digit fds) move them
        # onto fds 3 and 4, where --remote-debugging-pipe expects them, before it execs chromium:
        # no preexec_fn (unsafe with threads) is needed.
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        wire = f'exec "$0" "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-'
        self.proc = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", wire, executable, *CHROMIUM_FLAGS,
             f"--user-data-dir={self.user_data_dir}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(child_r, child_w))
        os.close(child_r)
        os.close(child_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._cond = threading.Condition(self._lock)
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line.decode(errors="replace"))

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = os.read(self._from_child_r, 1 << 16)
            if not chunk:
                break
            buf += chunk
            *messages, buf = buf.split(b"\0")
            with self._cond:
                for raw in messages:
                    msg = json.loads(raw)
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self._events.append(msg)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Send one command and wait for its reply; raise `CdpError` on an error reply."""
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise CdpError(f"no reply to {method} (chromium stderr: "
                                   f"{''.join(self._stderr[-5:])})")
                self._cond.wait(min(left, 0.5))
            reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def events(self, session: str) -> list[dict[str, Any]]:
        """Events received so far for `session` (a snapshot)."""
        with self._lock:
            return [e for e in self._events if e.get("sessionId") == session]

    def wait_event(self, session: str, method: str, timeout: float) -> bool:
        """Wait until an event `method` has arrived for `session`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(e.get("sessionId") == session and e["method"] == method
                          for e in self._events):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def close(self) -> None:
        with contextlib.suppress(CdpError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr_thread.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        for fd in (self._to_child_w, self._from_child_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.user_data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The check of one page
# ---------------------------------------------------------------------------------------------


@dataclass
class PageReport:
    """What one page did: its final state, its requests, and the problems found."""

    url: str
    state: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript", "chrome", "devtools"):
        return True
    return (parts.hostname or "") in LOOPBACK


def _harmless(text: str) -> str | None:
    for pattern, why in KNOWN_HARMLESS.items():
        if re.search(pattern, text):
            return why
    return None


def _console_text(event: dict[str, Any]) -> str | None:
    """The error text of a console, log or exception event; None if it is not an error."""
    method, p = event["method"], event.get("params", {})
    if method == "Runtime.exceptionThrown":
        d = p["exceptionDetails"]
        return (d.get("exception", {}).get("description") or d.get("text", "exception")).strip()
    if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
        return " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
    if method == "Log.entryAdded" and p["entry"].get("level") == "error":
        entry = p["entry"]
        return f"{entry.get('text', '')} {entry.get('url', '')}".strip()
    return None


def check_page(browser: Browser, url: str, *, timeout: float = 20.0,
               screenshot: Path | None = None, hover: bool = False) -> PageReport:
    """Open `url` in a fresh tab and report every problem the module docstring lists."""
    report = PageReport(url=url)
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"]
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        if not browser.wait_event(session, "Page.loadEventFired", timeout):
            report.problems.append(f"the page did not finish loading in {timeout:.0f} s")
        state = _wait_until_drawn(browser, session, timeout)
        report.state = state
        if hover and state.get("charts"):
            _hover_first_chart(browser, session, report)
        if screenshot is not None and state.get("charts"):
            _screenshots(browser, session, screenshot)
        time.sleep(0.3)  # let late console errors arrive
        _collect(browser.events(session), report)
    finally:
        with contextlib.suppress(CdpError):
            browser.send("Target.closeTarget", {"targetId": target})
    return report


def _wait_until_drawn(browser: Browser, session: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            state = browser.send("Runtime.evaluate", {"expression": STATE_JS,
                                                      "returnByValue": True},
                                 session=session)["result"].get("value") or {}
        except CdpError:  # the context changed (a redirect): try again
            state = {}
        if (state.get("ready") == "complete" and state["drawn"] + len(state["chartErrors"])
                >= state["charts"] and state["typeset"] + len(state["mathErrors"])
                >= state["maths"]):
            return state
        time.sleep(0.2)
    return state


def _collect(events: list[dict[str, Any]], report: PageReport) -> None:
    state = report.state
    if not state:
        report.problems.append("could not read the page's state")
    else:
        if state["drawn"] < state["charts"]:
            report.problems.append(f"{state['charts'] - state['drawn']} of {state['charts']} "
                                   "chart(s) did not draw")
        report.problems += [f"chart error: {e}" for e in state["chartErrors"]]
        if state.get("emptyBars"):
            report.problems.append(f"{state['emptyBars']} chart(s) drew only empty bars")
        if state["typeset"] < state["maths"]:
            report.problems.append(f"{state['maths'] - state['typeset']} of {state['maths']} "
                                   "math element(s) not rendered by MathJax")
        report.problems += [f"MathJax error: {e}" for e in state["mathErrors"]]
    for event in events:
        p = event.get("params", {})
        if event["method"] == "Network.requestWillBeSent":
            req_url = p["request"]["url"]
            report.requests.append(req_url)
            if not _is_loopback(req_url):
                report.problems.append(f"request to a non-loopback host: {req_url}")
        elif event["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
            report.problems.append(f"HTTP {p['response']['status']} for {p['response']['url']}")
        text = _console_text(event)
        if text is None:
            continue
        why = _harmless(text)
        if why:
            report.ignored.append(f"{text[:200]} ({why})")
        else:
            report.problems.append(f"console error: {text[:500]}")


def _hover_first_chart(browser: Browser, session: str, report: PageReport) -> None:
    """Move the mouse over a point mark of the first chart; a vega tooltip must appear."""
    js = r"""
    (() => {
      const el = document.querySelector('div[id^="altair-viz-"] .mark-symbol path');
      if (!el) return null;
      el.scrollIntoView({block: 'center'});
      const r = el.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2};
    })()
    """
    pos = browser.send("Runtime.evaluate", {"expression": js, "returnByValue": True},
                       session=session)["result"].get("value")
    if not pos:
        report.problems.append("no point mark to hover in the first chart")
        return
    for dx in (0.0, 1.0):
        browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": pos["x"] + dx,
                                                  "y": pos["y"]}, session=session)
        time.sleep(0.3)
    shown = browser.send("Runtime.evaluate", {
        "expression": "(() => { const t = document.querySelector('#vg-tooltip-element');"
                      " return !!t && t.classList.contains('visible') && t.textContent; })()",
        "returnByValue": True}, session=session)["result"].get("value")
    report.state["tooltip"] = shown
    if not shown:
        report.problems.append("hovering a point of the first chart showed no tooltip")


def _screenshots(browser: Browser, session: str, path: Path) -> None:
    """Save the first figure (chart and caption) to `path`, and the whole page beside it.

    The figure is scrolled to the top of the viewport and captured without
    ``captureBeyondViewport``: growing the viewport to the page's height moves the theme's layout.
    """
    js = r"""
    (() => {
      const chart = document.querySelector('div[id^="altair-viz-"]');
      const fig = chart.closest('figure') || chart;
      fig.scrollIntoView({block: 'start'});
      window.scrollBy(0, -24);
      const box = fig.getBoundingClientRect();
      return {x: box.left, y: box.top, width: box.width, height: box.height,
              pageHeight: document.documentElement.scrollHeight};
    })()
    """
    box = browser.send("Runtime.evaluate", {"expression": js, "returnByValue": True},
                       session=session)["result"]["value"]
    time.sleep(0.3)
    view = browser.send("Page.getLayoutMetrics", session=session)["cssVisualViewport"]
    pad = 16
    clip = {"x": max(box["x"] - pad, 0) + view["pageX"], "y": max(box["y"] - pad, 0) + view["pageY"],
            "width": box["width"] + 2 * pad, "height": min(box["height"] + 2 * pad, HEIGHT),
            "scale": 1}
    path.parent.mkdir(parents=True, exist_ok=True)
    shot = browser.send("Page.captureScreenshot", {"format": "png", "clip": clip},
                        session=session, timeout=60)
    path.write_bytes(base64.b64decode(shot["data"]))
    whole = {"x": 0, "y": 0, "width": WIDTH, "height": min(box["pageHeight"], 16000), "scale": 1}
    shot = browser.send("Page.captureScreenshot", {"format": "png", "clip": whole,
                                                   "captureBeyondViewport": True},
                        session=session, timeout=60)
    path.with_name(f"{path.stem}-page.png").write_bytes(base64.b64decode(shot["data"]))


# ---------------------------------------------------------------------------------------------
# Fixtures: a loopback server and one browser for the session
# ---------------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port); yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    exe = find_chromium()
    if exe is None:
        pytest.fail("Chromium not found (set $CHROMIUM or install Debian's chromium; "
                    ".ci/run installs it with apt-get)")
    b = Browser(exe)
    try:
        b.send("Browser.getVersion", timeout=60)
        yield b
    finally:
        b.close()


def book_pages(html_dir: Path) -> list[str]:
    """Every HTML page of the built book, relative to its root (assets excluded)."""
    skip = ("_static/", "_sources/", "_images/", "reports/")
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                  if not p.relative_to(html_dir).as_posix().startswith(skip))


@pytest.fixture(scope="session")
def book_server(built_book: Path) -> Iterator[str]:
    with serve(built_book) as url:
        yield url


def _pages_for_collection() -> list[str]:
    html = ROOT / "_build" / "html"
    return book_pages(html) if (html / "index.html").is_file() else ["index.html"]


# ---------------------------------------------------------------------------------------------
# The check of the book
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", _pages_for_collection())
def test_page_renders_offline(page: str, browser: Browser, book_server: str) -> None:
    """Charts drawn, math typeset, no non-loopback request, no unexpected console error."""
    is_rooflines = page == "book/rooflines.html"
    report = check_page(browser, f"{book_server}/{page}",
                        screenshot=SCREENSHOT_DIR / "rooflines.png" if is_rooflines else None,
                        hover=is_rooflines)
    assert not report.problems, f"{page}:\n  " + "\n  ".join(report.problems)


def test_rooflines_page_has_its_charts_and_math(browser: Browser, book_server: str) -> None:
    """The chapter that exercises the machinery really has charts and equations to check."""
    report = check_page(browser, f"{book_server}/book/rooflines.html")
    assert report.state["charts"] >= 2 and report.state["drawn"] == report.state["charts"]
    assert report.state["maths"] >= 2 and report.state["typeset"] == report.state["maths"]
    assert any("/_static/vega-offline.js" in r for r in report.requests)
    assert any("/_static/mathjax/" in r for r in report.requests)
    assert (SCREENSHOT_DIR / "rooflines.png").stat().st_size > 10_000


# ---------------------------------------------------------------------------------------------
# The check of the check: it must fail on broken pages
# ---------------------------------------------------------------------------------------------


def _log_bar_chart_html(*, stack: bool) -> str:
    """Grouped bars on a log axis; with `stack` (Vega-Lite's default) every bar comes out empty."""
    import altair as alt
    import pandas as pd

    df = pd.DataFrame({"x": ["a", "a", "b", "b"], "s": ["p", "q", "p", "q"], "y": [1, 10, 100, 5]})
    y = alt.Y("y:Q", scale=alt.Scale(type="log")) if stack else alt.Y(
        "y:Q", scale=alt.Scale(type="log"), stack=None)
    chart = alt.Chart(df).mark_bar().encode(x="x:N", xOffset="s:N", color="s:N", y=y)
    with alt.renderers.enable("html"):
        bundle = chart._repr_mimebundle_()
    return (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]


def _chart_html(*, broken: bool = False) -> str:
    """The HTML altair writes for a small chart in a notebook; `broken` gives it an unknown mark."""
    import altair as alt
    import pandas as pd

    chart = alt.Chart(pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})).mark_point().encode(
        x="x:Q", y="y:Q", tooltip=["x:Q", "y:Q"])
    with alt.renderers.enable("html"):
        bundle = chart._repr_mimebundle_()
    html = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
    if broken:
        html, n = re.subn(r'"mark": \{"type": "point"', '"mark": {"type": "no-such-mark"', html)
        assert n == 1, "the chart HTML no longer has the mark to break"
    return html


def _page(body: str, head: str = "") -> str:
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>"
            f"<script src='vega-offline.js'></script>{head}</head><body>{body}</body></html>")


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = tmp_path_factory.mktemp("site")
    shutil.copy(VEGA_BUNDLE, site / "vega-offline.js")
    (site / "favicon.ico").write_bytes(b"")
    pages = {
        "good.html": _page(_chart_html()),
        "broken-chart.html": _page(_chart_html(broken=True)),
        "log-bars-stacked.html": _page(_log_bar_chart_html(stack=True)),
        "log-bars.html": _page(_log_bar_chart_html(stack=False)),
        "external.html": _page("<p>hi</p>", "<link rel='stylesheet' "
                               "href='http://cdn.example.invalid/style.css'>"),
        "raw-math.html": _page("<p><span class='math notranslate nohighlight'>\\(x^2\\)"
                               "</span></p>"),
        "console-error.html": _page("<script>console.error('something broke')</script>"),
        "thebe.html": _page("<script>const THEBE_JS_URL = 1;</script>"
                            "<script>const THEBE_JS_URL = 2;</script>"),
    }
    for name, text in pages.items():
        (site / name).write_text(text, encoding="utf-8")
    with serve(site) as url:
        yield url


def test_check_passes_a_good_chart(browser: Browser, fixture_site: str) -> None:
    report = check_page(browser, f"{fixture_site}/good.html", hover=True)
    assert report.problems == []
    assert report.state["drawn"] == report.state["charts"] == 1
    assert report.state["tooltip"]


def test_check_fails_on_a_broken_chart(browser: Browser, fixture_site: str) -> None:
    """A chart whose spec vega-embed rejects is reported as not drawn, with its error text."""
    report = check_page(browser, f"{fixture_site}/broken-chart.html", timeout=8)
    assert "1 of 1 chart(s) did not draw" in report.problems
    assert any("chart error" in p or "console error" in p for p in report.problems)


def test_check_fails_on_bars_that_draw_empty(browser: Browser, fixture_site: str) -> None:
    """Log-axis bars stacked from zero draw a frame but no bar: reported; unstacked ones pass."""
    report = check_page(browser, f"{fixture_site}/log-bars-stacked.html", timeout=8)
    assert "1 chart(s) drew only empty bars" in report.problems
    assert check_page(browser, f"{fixture_site}/log-bars.html", timeout=8).problems == []


def test_check_fails_on_a_request_off_the_machine(browser: Browser, fixture_site: str) -> None:
    report = check_page(browser, f"{fixture_site}/external.html", timeout=8)
    assert any("non-loopback host: http://cdn.example.invalid/style.css" in p
               for p in report.problems)


def test_check_fails_on_untypeset_math(browser: Browser, fixture_site: str) -> None:
    report = check_page(browser, f"{fixture_site}/raw-math.html", timeout=3)
    assert "1 of 1 math element(s) not rendered by MathJax" in report.problems


def test_check_fails_on_a_console_error(browser: Browser, fixture_site: str) -> None:
    report = check_page(browser, f"{fixture_site}/console-error.html", timeout=5)
    assert any("something broke" in p for p in report.problems)


def test_check_ignores_only_the_known_harmless_errors(browser: Browser, fixture_site: str) -> None:
    report = check_page(browser, f"{fixture_site}/thebe.html", timeout=5)
    assert report.problems == []
    assert any("THEBE_JS_URL" in i for i in report.ignored)
