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
        # the invoice-level list is one click away
        assert not driver.find_element(By.ID, "worklist").is_displayed()
        driver.find_element(By.CSS_SELECTOR, "#invoice-level summary").click()
        assert driver.find_element(By.ID, "worklist").is_displayed()
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
        # the screenshot of the docs: the page as it opens, with the first account's invoices shown
        driver.find_element(By.CSS_SELECTOR, "#invoice-level summary").click()  # closed again
        driver.execute_script("window.scrollTo(0, 0)")
        driver.find_element(By.CSS_SELECTOR, "#accounts button.expand").click()
        shot = Path(os.environ.get("PAYRISK_SCREENSHOT", tmp_path / "report.png"))
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        driver.find_element(By.CSS_SELECTOR, "#accounts button.expand").click()
        _accounts_work(driver, ledger, worklist, actions)
    finally:
        driver.quit()
    assert pd.read_csv(path.with_name("worklist.csv")).shape[0] == len(worklist)
    assert pd.read_csv(path.with_name("accounts.csv")).shape[0] == worklist.groupby(["customer_id", "currency"]).ngroups


def _accounts_work(driver, ledger, worklist, actions) -> None:
    """The account list sorts, filters, searches and expands in the browser, as the library computed it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    accounts = pr.accounts.account_worklist(ledger, worklist, "2024-06-30", actions)
    table = driver.find_element(By.ID, "accounts")
    heads = [h.text for h in table.find_elements(By.CSS_SELECTOR, "thead th")]

    def visible(col: str) -> list[str]:
        rows = [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr.account") if r.is_displayed()]
        return [r.find_elements(By.TAG_NAME, "td")[heads.index(col)].text.strip("\u25b8\u25be ") for r in rows]

    def values(col: str) -> list[float]:
        rows = [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr.account") if r.is_displayed()]
        return [float(r.find_elements(By.TAG_NAME, "td")[heads.index(col)].get_attribute("data-v")) for r in rows]

    def click(element) -> None:  # as a reader does: scrolled to the middle of the page, clear of the sticky header
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    shown = accounts.head(100)
    assert visible("customer") == list(shown["customer_id"])
    # expanding: the arrow shows the account's invoices, in priority order; again hides them
    first = table.find_element(By.CSS_SELECTOR, "tbody tr.account")
    invoices = first.find_element(By.XPATH, "following-sibling::tr[1]")
    assert not invoices.is_displayed()
    click(first.find_element(By.CSS_SELECTOR, "button.expand"))
    assert invoices.is_displayed()
    mine = worklist.loc[worklist["customer_id"] == shown["customer_id"].iloc[0]]
    ids = [
        r.find_elements(By.TAG_NAME, "td")[0].text
        for r in invoices.find_elements(By.CSS_SELECTOR, "table.inner > tbody > tr")
    ]
    assert ids == list(mine.index) and len(ids) == shown["n_invoices"].iloc[0]
    click(first.find_element(By.CSS_SELECTOR, "button.expand"))
    assert not invoices.is_displayed()
    # sorting: a click on "open" sorts by the open amount, largest first; a second click smallest first
    header = table.find_element(By.XPATH, f".//thead/tr/th[{heads.index('open') + 1}]")
    click(header)
    assert values("open") == sorted(shown["open_amount"].round(2), reverse=True)
    click(header)
    assert values("open") == sorted(shown["open_amount"].round(2))
    # filtering: one band, one segment, overdue only, and a search
    Select(driver.find_element(By.ID, "band-filter")).select_by_value("critical")
    assert sorted(visible("customer")) == sorted(shown.loc[shown["band"] == "critical", "customer_id"])
    Select(driver.find_element(By.ID, "band-filter")).select_by_value("")
    segment = shown["segment"].iloc[0]
    Select(driver.find_element(By.ID, "segment-filter")).select_by_value(segment)
    assert set(visible("segment")) == {segment} and len(visible("segment")) == (shown["segment"] == segment).sum()
    Select(driver.find_element(By.ID, "segment-filter")).select_by_value("")
    click(driver.find_element(By.ID, "overdue-only"))
    assert len(visible("customer")) == (shown["overdue_amount"] > 0).sum()
    click(driver.find_element(By.ID, "overdue-only"))
    target = shown["customer_id"].iloc[len(shown) // 2]
    driver.find_element(By.ID, "search").send_keys(target.lower())
    assert visible("customer") == [target]
    assert "1 of" in driver.find_element(By.ID, "shown-count").text
    driver.find_element(By.ID, "search").clear()
    driver.find_element(By.ID, "search").send_keys(" ")  # an input event after clear: every account again
    assert len(visible("customer")) == len(shown)
    # money is written in the reader's locale by the page, from the exact value kept beside it
    row = table.find_element(By.CSS_SELECTOR, "tbody tr.account")
    cell = row.find_elements(By.TAG_NAME, "td")[heads.index("open")]
    customer = row.find_elements(By.TAG_NAME, "td")[heads.index("customer")].text.strip("\u25b8\u25be ")
    exact = shown.set_index("customer_id").loc[customer, "open_amount"]
    assert any(ch.isdigit() for ch in cell.text) and float(cell.get_attribute("data-v")) == round(exact, 2)
