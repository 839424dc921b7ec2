"""Headless Chromium against `wsspec echo`.

The test serves tests/py/pages/echo.html from a tiny HTTP server on
127.0.0.1 (port 0); the page opens ws://127.0.0.1:PORT/, echoes text, UTF-8
text, binary and a 1 MiB binary message, closes with 4000 and POSTs its
report back to /result. Chromium never exits by itself in this mode, so the
test kills its process group as soon as the report arrives (or after 30 s).
"""

import http.server
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import urllib.parse

import pytest

from conftest import HERE, features, kill_group, need

PAGES = os.path.join(HERE, "pages")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--no-default-browser-check",
]


def run_chromium(procs, tmp_path, url, *args, timeout=60):
    """Runs headless Chromium on |url| with |args| (--dump-dom,
    --screenshot=...) and a profile under tmp_path; returns its stdout."""
    need("chromium")
    p = procs.popen([features()["chromium-path"]] + CHROMIUM_FLAGS +
                    ["--user-data-dir=" + str(tmp_path / "profile")] +
                    list(args) + [url],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        pytest.fail("chromium did not finish in %d s" % timeout)
    return out.decode("utf-8", "replace")


class PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.results = queue.Queue()
        super().__init__(("127.0.0.1", 0), PageHandler)

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class PageHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        name = os.path.basename(path)
        full = os.path.join(PAGES, name)
        if not name or not os.path.isfile(full):
            self.send_error(404)
            return
        with open(full, "rb") as fh:
            body = fh.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.send_response(204)
        self.end_headers()
        self.server.results.put(json.loads(body))


@pytest.fixture(scope="module")
def page_server():
    need("chromium")
    srv = PageServer()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def run_page(page_server, procs, ws_url, timeout=30):
    """Loads echo.html?ws=ws_url in headless Chromium; returns the report."""
    profile = tempfile.mkdtemp(prefix="wsspec-chromium-")
    try:
        url = "%s/echo.html?ws=%s" % (page_server.origin,
                                      urllib.parse.quote(ws_url, safe=""))
        log = open(os.path.join(profile, "chromium.log"), "w+b")
        p = procs.popen([features()["chromium-path"]] + CHROMIUM_FLAGS +
                        ["--user-data-dir=" + profile, url],
                        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            return page_server.results.get(timeout=timeout)
        except queue.Empty:
            log.seek(0)
            pytest.fail("no report from the page in %d s; chromium log: %s"
                        % (timeout, log.read()[-2000:].decode("utf-8",
                                                                "replace")))
        finally:
            kill_group(p)
            log.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_30_01_chromium_echo(page_server, procs, echo):
    r = run_page(page_server, procs, echo.url)
    assert r["errors"] == [], r
    assert r["open"] == {"protocol": "", "extensions": ""}, r
    assert r["steps"] == {
        "text": {"ok": True, "type": "text", "len": 5},
        "text_utf8": {"ok": True, "type": "text", "len": 16},
        "binary": {"ok": True, "type": "binary", "len": 6},
        "binary_large": {"ok": True, "type": "binary", "len": 1048583},
    }, r
    # The server answers the page's Close with its code (no reason) and
    # closes TCP: a clean close for the browser.
    assert r["close"] == {"code": 4000, "reason": "", "clean": True}, r


def test_30_02_chromium_origin_allowed(page_server, procs, start_echo):
    srv = start_echo("--origin", page_server.origin)
    r = run_page(page_server, procs, srv.url)
    assert r["errors"] == [] and r["close"]["code"] == 4000, r


def test_30_03_chromium_origin_refused(page_server, procs, start_echo):
    """A browser whose Origin is not on the allow-list never gets a
    connection: the page sees error + close 1006."""
    srv = start_echo("--origin", "http://allowed.example")
    r = run_page(page_server, procs, srv.url)
    assert r["open"] is None, r
    assert r["errors"] == ["error"], r
    assert r["close"] == {"code": 1006, "reason": "", "clean": False}, r
