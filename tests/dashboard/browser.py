"""Headless Chromium for the end-to-end test: load a page, return its DOM once it shows a text.

``--dump-dom`` with a virtual time budget returns before a Solara page has rendered (its
content arrives over a websocket, which virtual time does not wait for), so the page is read
through the DevTools protocol until the text appears.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import aiohttp


def chromium() -> str | None:
    """The chromium binary, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float) -> None:
    """Block until `url` answers (TimeoutError otherwise)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def rendered_dom(url: str, text: str, timeout: float = 30.0) -> str:
    """The page's DOM once it contains `text` (or when `timeout` runs out)."""
    return rendered(url, text, timeout)[0]


def rendered(url: str, text: str, timeout: float = 30.0) -> tuple[str, list[str]]:
    """The page's DOM once it contains `text`, and the URLs of every resource it loaded."""
    port = free_port()
    # Chromium's helper processes may still write to the profile while it shuts down.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = subprocess.Popen(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            return asyncio.run(_poll(port, text, timeout))
        finally:
            _stop(browser)


def _stop(browser: subprocess.Popen) -> None:
    """Stop Chromium and every helper process it started (its own process group)."""
    try:
        os.killpg(browser.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(browser.pid, signal.SIGKILL)
        browser.wait()


async def _poll(port: int, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    page = None
    async with aiohttp.ClientSession() as session:
        while page is None and time.monotonic() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                    pages = [p for p in await response.json() if p["type"] == "page"]
                    page = pages[0]["webSocketDebuggerUrl"] if pages else None
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        if page is None:
            raise TimeoutError("chromium did not open the page")
        html = ""
        async with session.ws_connect(page, max_msg_size=0) as ws:
            ask = 0
            while time.monotonic() < deadline:
                ask += 1
                expression = "document.documentElement.outerHTML"
                await ws.send_str(
                    json.dumps(
                        {
                            "id": ask,
                            "method": "Runtime.evaluate",
                            "params": {"expression": expression, "returnByValue": True},
                        }
                    )
                )
                while True:
                    reply = json.loads((await ws.receive()).data)
                    if reply.get("id") == ask:
                        break
                html = reply["result"]["result"].get("value", "")
                if text in html:
                    await asyncio.sleep(2.0)  # late requests (styles, scripts) start too
                    expression = (
                        "JSON.stringify(performance.getEntriesByType('resource').map(e => e.name))"
                    )
                    await ws.send_str(
                        json.dumps(
                            {
                                "id": ask + 1,
                                "method": "Runtime.evaluate",
                                "params": {"expression": expression, "returnByValue": True},
                            }
                        )
                    )
                    while True:
                        reply = json.loads((await ws.receive()).data)
                        if reply.get("id") == ask + 1:
                            break
                    return html, json.loads(reply["result"]["result"].get("value") or "[]")
                await asyncio.sleep(0.5)
        return html, []
