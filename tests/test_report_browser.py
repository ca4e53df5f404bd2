"""The HTML report in a real headless browser (Debian's chromium via chromedriver): it renders, the worklist has
the expected rows, the browser logs no errors. Skipped, with the reason, where chromium is absent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import payrisk as pr
from payrisk.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="chromium and chromedriver not found: install Debian's chromium and chromium-driver (.ci/run does)",
)


def test_the_report_renders_in_a_browser_with_its_worklist(tmp_path):
    """The screenshot goes to $PAYRISK_SCREENSHOT when set (docs/img/report_screenshot.png was made so)."""
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    engine = pr.RiskEngine(n_estimators=40, reasons_top_n=50).fit(ledger, "2024-03-31")
    worklist = engine.score(ledger, "2024-06-30")
    actions = pr.dunning.plan_actions(ledger.as_of("2024-06-30"), worklist, pr.dunning.Policy.default(), "2024-06-30")
    acceptance = pr.acceptance.AcceptanceModel(n_estimators=20).fit(ledger, "2024-03-31")
    path = write_report(
        ledger,
        engine,
        "2024-06-30",
        tmp_path / "report.html",
        worklist=worklist,
        actions=actions,
        acceptance=acceptance,
    )

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.get(path.as_uri())
        assert driver.title.startswith("payrisk")
        rows = driver.find_elements(By.CSS_SELECTOR, "#worklist tbody tr")
        assert len(rows) == min(100, len(worklist))
        first = rows[0].find_elements(By.TAG_NAME, "td")
        assert first[1].text == worklist["customer_id"].iloc[0] and first[2].text == worklist.index[0]
        alerts = engine.early_warning(ledger, "2024-06-30")
        alerts = alerts.loc[alerts["alert"]]
        warned = driver.find_elements(By.CSS_SELECTOR, "#early-warning tbody tr")
        assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in warned] == list(alerts.index[:100])
        images = driver.find_elements(By.TAG_NAME, "img")
        assert images and all(driver.execute_script("return arguments[0].naturalWidth", im) > 0 for im in images)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        heads = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#worklist thead th")]
        warned_rows = [bool(r.find_elements(By.TAG_NAME, "td")[heads.index("early warning")].text) for r in rows]
        assert warned_rows == list(worklist["alert"].head(len(rows)))  # the customer's alert on its invoices
        used = [r.find_elements(By.TAG_NAME, "td")[heads.index("limit used")].text for r in rows]
        expected = [f"{v:.0%}" if v == v else "" for v in worklist["limit_utilisation"].head(len(rows))]
        assert used == expected and any(used)  # each invoice's row shows its customer's limit in use
        over = driver.find_elements(By.CSS_SELECTOR, "#over-limit tbody tr")
        held = pr.limits.limit_utilisation(ledger, "2024-06-30")
        held = held.loc[held["status"] == "over the limit"].sort_values("over_by", ascending=False)
        assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in over] == list(held.index[:100]) and over
        review = pr.limits.limit_review(ledger, "2024-06-30", acceptance)
        to_review = driver.find_elements(By.CSS_SELECTOR, "#limit-review tbody tr")
        assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in to_review] == list(
            review.index[review["to_review"]][:100]
        ) and to_review
        planned = [r.find_elements(By.TAG_NAME, "td")[heads.index("planned action")].text for r in rows]
        sent = set(actions.loc[actions["status"] == "send", "customer_id"])
        assert any(planned) and all(
            bool(p) == (c in sent) for p, c in zip(planned, worklist["customer_id"].head(len(planned)), strict=True)
        )
        shot = Path(os.environ.get("PAYRISK_SCREENSHOT", tmp_path / "report.png"))
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()
    assert pd.read_csv(path.with_name("worklist.csv")).shape[0] == len(worklist)
