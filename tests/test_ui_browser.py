"""The Dagster UI of `atlas demo`, driven in a real headless Chromium.

Starts `atlas demo` on free ports with a temporary ATLAS_HOME, waits for the demo's
watchlist sensor to materialize `videos`, then walks the asset graph, that asset page (its
materialization metadata), the runs list, and a backfill of `vault_partitions` launched
through the UI's own dialogs. Every page is saved as a PNG in the test's temporary folder;
with ATLAS_UPDATE_SCREENSHOTS=1 in tests/ui/screenshots/ instead (linked from the README).
Needs Debian's `chromium` (`apt-get install chromium`; `.ci/run` installs it) and Playwright
for Python (the [dev] extra); never downloads a browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright
from test_demo import clean_env, free_port, graphql

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
COMMITTED_SCREENSHOTS = Path(__file__).resolve().parent / "ui" / "screenshots"
LOCATION = "atlas_assets.definitions"

# The asset page checked for materialization metadata, and the entries it must show.
# Catalog metadata lands here one line each, e.g. "Row count", "Owners", "Kinds", "Columns".
ASSET_PAGE = "videos"
ASSET_PAGE_SHOWS = (
    "new_videos",  # the materialization's own metadata
    "quota_units",
    "Row count",  # dagster/row_count
    "Postgres",  # kinds
    "YouTube",
    "atlas-data",  # the owner
    "published_at",  # a column of dagster/column_schema
    "Plots",  # numeric metadata plotted over time
)

# Text that only appears when the UI failed to load or run something.
ERROR_TEXTS = (
    "Unexpected GraphQL error",
    "An unexpected error occurred",
    "Something went wrong",
    "Failed to fetch",
    "Error loading",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(360),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="no Chromium binary (apt-get install chromium; .ci/run installs it)",
    ),
]


def wait_for(
    what: str, probe: Any, timeout: float, demo: subprocess.Popen[bytes], log: Path
) -> Any:
    """Poll ``probe()`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            pytest.fail(
                f"atlas demo exited with {demo.returncode} while waiting for {what}:\n"
                + log.read_text(errors="replace")[-3000:]
            )
        try:
            found = probe()
        except (OSError, KeyError, TypeError, ValueError):
            found = None  # not up yet
        if found:
            return found
        time.sleep(2)
    pytest.fail(
        f"timed out after {timeout:.0f}s waiting for {what}:\n"
        + log.read_text(errors="replace")[-3000:]
    )


def latest_materialization_run(port: int, asset: str) -> str | None:
    data = graphql(
        port,
        f"{{ assetOrError(assetKey: {{path: [{json.dumps(asset)}]}}) {{ ... on Asset {{"
        " assetMaterializations(limit: 1) { runId } } } }",
    )
    events = data["assetOrError"]["assetMaterializations"]
    return str(events[0]["runId"]) if events else None


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_demo(demo: subprocess.Popen[bytes], home: Path) -> None:
    """SIGTERM the demo's process group, then SIGKILL it; then stop its embedded PostgreSQL.

    SIGINT would be ignored: the demo runs in the background of a non-interactive shell.
    """
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(demo.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        # The leader (atlas) may go first; its children (dagster dev, webserver, daemon,
        # code server) are in the same group and are waited for too.
        while time.monotonic() < deadline:
            demo.poll()
            if not group_alive(demo.pid):
                break
            time.sleep(0.5)
        else:
            continue
        break
    demo.wait(timeout=10)
    # The postmaster runs in its own session; a fast shutdown (SIGINT) ends it.
    pid_file = home / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        except (ProcessLookupError, ValueError, IndexError):
            pass
        deadline = time.monotonic() + 30
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.5)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    ui, sim = free_port(), free_port()
    # Outside pytest's 0700 tmp folders: the embedded server runs as the `pgserver` user.
    home = Path(tempfile.mkdtemp(prefix="atlas-ui-home-"))
    log_path = tmp_path / "demo.log"
    atlas = Path(sys.executable).with_name("atlas")  # the console script of this venv
    command = [str(atlas)] if atlas.exists() else [sys.executable, "-m", "atlas_core.cli"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "demo", "--port", str(ui), "--sim-port", str(sim)],
            cwd=tmp_path,
            env=clean_env(ATLAS_HOME=str(home), DAGSTER_HOME=str(home / "dagster")),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield ui, process, log_path
        finally:
            stop_demo(process, home)
            shutil.rmtree(home, ignore_errors=True)


def test_ui_graph_asset_page_runs_and_backfill(
    demo: tuple[int, subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    port, process, log_path = demo
    update = os.environ.get("ATLAS_UPDATE_SCREENSHOTS") == "1"
    screenshots = COMMITTED_SCREENSHOTS if update else tmp_path / "screenshots"
    base = f"http://127.0.0.1:{port}"
    # The demo's watchlist sensor launches a discovery run per channel within a minute.
    run_id = wait_for(
        f"the demo's first materialization of {ASSET_PAGE}",
        lambda: latest_materialization_run(port, ASSET_PAGE),
        180,
        process,
        log_path,
    )
    screenshots.mkdir(parents=True, exist_ok=True)
    graphql_errors: list[str] = []
    page_errors: list[str] = []

    def shot(page: Any, name: str) -> None:
        page.wait_for_timeout(1500)  # let live data and layout settle
        page.screenshot(path=str(screenshots / f"{name}.png"))

    def no_error_shown(page: Any, where: str) -> None:
        body = page.inner_text("body")
        shown = [text for text in ERROR_TEXTS if text in body]
        assert not shown, f"{where}: the UI shows {shown}"
        danger = page.locator(
            "[class*=toast] [class*=intent-danger], [class*=intent-danger][class*=toast]"
        )
        assert danger.count() == 0, f"{where}: error toast {danger.first.inner_text()!r}"

    def on_response(response: Any) -> None:
        if response.url.endswith("/graphql") and response.ok:
            try:
                payload = response.json()
            except Exception:  # a streamed or empty body
                return
            if isinstance(payload, dict) and payload.get("errors"):
                graphql_errors.append(json.dumps(payload["errors"])[:500])

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            page.set_default_timeout(30_000)
            page.on("response", on_response)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            # Dagster's "Join the community" modal, whenever it shows up.
            page.add_locator_handler(
                page.get_by_role("button", name="Skip"), lambda skip: skip.click()
            )

            # The asset graph of the youtube group: every table of the pipeline as a node.
            page.goto(f"{base}/locations/{LOCATION}/asset-groups/youtube/lineage")
            for asset in ("channels", "videos", "video_stats_log", "channel_stats_log"):
                page.get_by_text(asset, exact=True).first.wait_for()
            shot(page, "asset-graph")
            no_error_shown(page, "asset graph")

            # An asset page with the metadata of the materialization the sensor launched.
            page.goto(f"{base}/assets/{ASSET_PAGE}")
            page.get_by_text("Latest materialization").wait_for()
            for label in ASSET_PAGE_SHOWS:
                page.get_by_text(label, exact=True).first.wait_for()
            shot(page, "asset-page")
            no_error_shown(page, "asset page")

            # The runs list, with the run that materialized it.
            page.goto(f"{base}/runs")
            page.get_by_text(run_id[:8]).first.wait_for()
            page.get_by_text("discover_videos").first.wait_for()
            shot(page, "runs")
            no_error_shown(page, "runs list")

            # A backfill of every daily partition, through the asset page's own dialogs.
            page.goto(f"{base}/assets/vault_partitions")
            page.get_by_role("button", name="Materialize…").click()
            launch = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
            # Dagster asks first when an upstream asset has never been materialized yet.
            unsure = page.get_by_role("dialog").filter(has_text="Are you sure?")
            launch.or_(unsure).first.wait_for()
            if unsure.is_visible():
                unsure.get_by_role("button", name="Confirm").click()
            launch.get_by_role("button", name="All", exact=True).click()
            launch.get_by_text(re.compile(r"^[1-9][0-9]* partitions$")).wait_for()
            shot(page, "backfill-dialog")
            launch.get_by_role("button", name="Launch backfill").click()
            page.get_by_text("Created backfill").first.wait_for()
            no_error_shown(page, "backfill launch")
            page.get_by_role("link", name="View").first.click()
            page.wait_for_url("**/runs/b/*")
            page.get_by_text("vault_partitions").first.wait_for()
            page.get_by_text("Partition selection").first.wait_for()
            shot(page, "backfill")
            no_error_shown(page, "backfill page")
        except Exception:
            page.screenshot(path=str(log_path.with_name("failure.png")))
            raise
        finally:
            browser.close()

    assert not graphql_errors, graphql_errors
    assert not page_errors, page_errors
    assert "Dagster UI: http://127.0.0.1:" in log_path.read_text(errors="replace")
