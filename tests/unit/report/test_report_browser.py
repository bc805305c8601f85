"""The report opened in headless Chromium with networking off: every image loads, no console output.

A copy of the report gets a small check script (the report itself has none) that records load
errors from the start and, once the page has loaded, writes into the DOM how many images there
are and which did not decode (``naturalWidth == 0``). Chromium dumps the DOM after a virtual-time
budget; its console (``--enable-logging=stderr``) must stay empty. A deliberately broken copy shows
that the check catches a bad image, a remote image and a console error.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from report_fakes import FakeRun

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
)

CHECK_SCRIPT = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__errors.push(t && t.tagName ? "failed to load " + t.tagName + " " + String(t.src || t.href || "").slice(0, 60)
                                      : "error: " + String(e.message));
}, true);
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                     .map(function (i) { return String(i.alt).slice(0, 60); });
  var out = document.createElement("pre");
  out.id = "gazealign-check";
  out.textContent = JSON.stringify({images: images.length, broken: broken, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""

CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d*\)?\]?.*")


def open_in_chromium(html: str, folder: Path) -> tuple[dict[str, object], list[str]]:
    """Load ``html`` (with the check script) offline; return the check result and console lines."""
    page = folder / "page.html"
    page.write_text(html.replace("<head>", "<head>" + CHECK_SCRIPT, 1), encoding="utf-8")
    profile = folder / "profile"
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            # networking off: a dead proxy and no name resolution
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r'<pre id="gazealign-check">(.*?)</pre>', result.stdout, re.S)
    assert match is not None, (
        f"chromium gave no check result (rc {result.returncode}):\n{result.stderr[-2000:]}"
    )
    check = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    console = [m.group(0) for m in CONSOLE_LINE.finditer(result.stderr)]
    return check, console


def test_report_renders_with_every_image_and_no_console_errors(
    fake_run: FakeRun, tmp_path: Path
) -> None:
    assert "<script" not in fake_run.html
    n_images = fake_run.html.count("<img ")
    assert n_images >= 7  # overview, curves, forest plot, regions, metrics, confusion, quality, ...
    check, console = open_in_chromium(fake_run.html, tmp_path)
    assert check == {"images": n_images, "broken": [], "errors": []}
    assert console == []


def test_the_browser_check_catches_broken_pages(fake_run: FakeRun, tmp_path: Path) -> None:
    broken = fake_run.html.replace("base64,iVBOR", "base64,XXXXX", 1)
    broken = broken.replace(
        "</main>",
        '<img src="http://example.com/face.png" alt="remote image">'
        "<script>console.error('deliberate console error')</script></main>",
    )
    check, console = open_in_chromium(broken, tmp_path)
    assert check["images"] == fake_run.html.count("<img ") + 1
    assert len(check["broken"]) == 2  # type: ignore[arg-type]
    assert "remote image" in check["broken"]  # type: ignore[operator]
    assert len(check["errors"]) == 2  # type: ignore[arg-type]
    assert any("deliberate console error" in line for line in console)


def test_screenshot_command_writes_a_png_of_the_page(fake_run: FakeRun, tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[3] / "scripts" / "screenshot_report.sh"
    out = tmp_path / "shot.png"
    report = fake_run.report_dir / "report.html"
    subprocess.run(
        [str(script), str(report), str(out), "800", "1200"],
        check=True,
        timeout=120,
        capture_output=True,
    )
    from PIL import Image

    with Image.open(out) as shot:
        assert shot.format == "PNG"
        assert shot.size == (800, 1200)
        # not a blank page: the banner and text give many distinct colours
        assert len(shot.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50
