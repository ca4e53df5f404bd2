"""``payrisk serve`` over HTTP: a real uvicorn server on a loopback port, called with httpx; every endpoint's values
against the library's for the same as_of, its errors, the API key, and feedback posted twice that is stored once
and changes the next plan."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk._cli_io import load_ledger, write_tables
from payrisk.dunning import Policy, plan_actions
from payrisk.feedback import FeedbackStore, apply_feedback
from payrisk.forecast import cash_inflow

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")
pytestmark = pytest.mark.xdist_group("serve")

FIT, AS_OF = "2024-03-31", "2024-04-30"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    write_tables(ledger, root / "data")
    with pytest.warns(pr.errors.PayriskWarning, match="plan-adherence model was left out"):  # too few plans
        engine = pr.RiskEngine(n_estimators=30, reasons_top_n=20).fit(load_ledger(root / "data"), FIT)
    engine.save(root / "model")
    return root


class _Server:
    """A uvicorn server on a free loopback port, in a background thread."""

    def __init__(self, app):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        self.client = httpx.Client(base_url=self.url, timeout=120)

    def close(self):
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)


def _serve(world, data, **kwargs):
    from payrisk.serve import create_app

    return _Server(create_app(world / "model", data, **kwargs))


@pytest.fixture(scope="module")
def server(world):
    s = _serve(world, world / "data")
    yield s
    s.close()


@pytest.fixture(scope="module")
def library(world):
    engine = pr.RiskEngine.load(world / "model")
    ledger = load_ledger(world / "data")
    return engine, ledger, engine.score(ledger, AS_OF)


def test_health_and_version(server):
    assert server.client.get("/health").json() == {"status": "ok"}
    v = server.client.get("/version").json()
    assert v["payrisk"] == pr.__version__ and v["model_fitted_as_of"] == FIT
    assert v["feedback_reports"] == 0 and v["feedback_store"].endswith("payrisk_feedback.sqlite")


def test_book_score_pages_through_the_worklist_of_the_library(server, library):
    _, _, wl = library
    first = server.client.get("/book/score", params={"as_of": AS_OF, "limit": 7}).json()
    second = server.client.get("/book/score", params={"as_of": AS_OF, "limit": 7, "offset": 7}).json()
    assert first["total"] == len(wl) and len(first["items"]) == 7
    ids = [r["invoice_id"] for r in first["items"] + second["items"]]
    assert ids == wl.index[:14].tolist()
    np.testing.assert_allclose([r["p_late"] for r in first["items"]], wl["p_late"].iloc[:7], rtol=1e-9)
    assert first["items"][0]["due_date"][:10] == str(wl["due_date"].iloc[0].date())


def test_invoice_and_customer_scores_equal_the_library(server, library):
    engine, ledger, wl = library
    invoice = wl.index[3]
    got = server.client.get(f"/invoices/{invoice}/score", params={"as_of": AS_OF}).json()
    assert got["customer_id"] == wl.loc[invoice, "customer_id"]
    assert got["p_late"] == pytest.approx(wl.loc[invoice, "p_late"])
    assert got["priority_rank"] == wl.loc[invoice, "priority_rank"]
    customer = wl["customer_id"].iloc[0]
    c = server.client.get(f"/customers/{customer}/score", params={"as_of": AS_OF}).json()
    mine = wl.loc[wl["customer_id"] == customer]
    assert sorted(r["invoice_id"] for r in c["invoices"]) == sorted(mine.index)
    assert c["segment"] == mine["segment"].iloc[0]
    assert sum(c["open_amount"].values()) == pytest.approx(mine["open_amount"].sum())
    if engine.problem_model_ is not None:
        ew = engine.early_warning(ledger, AS_OF)
        assert c["p_problem_90d"] == pytest.approx(ew.loc[customer, "p_problem_90d"])


def test_worklist_plan_and_forecast_equal_the_library(server, library):
    engine, ledger, wl = library
    items = server.client.get("/worklist", params={"as_of": AS_OF, "limit": 5}).json()["items"]
    assert [r["invoice_id"] for r in items] == wl.index[:5].tolist()
    actions = server.client.get("/plan", params={"as_of": AS_OF}).json()["actions"]
    expected = plan_actions(ledger, wl, Policy.default(), AS_OF, adherence=engine)
    assert [a["action_id"] for a in actions] == expected["action_id"].tolist()
    assert [a["blocked_by"] for a in actions] == expected["blocked_by"].tolist()
    periods = server.client.get("/forecast", params={"as_of": AS_OF, "weeks": 6}).json()["periods"]
    fc = cash_inflow(ledger, engine, AS_OF, horizon_weeks=6).periods
    assert len(periods) == len(fc)
    number = next(c for c in fc.columns if pd.api.types.is_float_dtype(fc[c]))
    np.testing.assert_allclose([p[number] for p in periods], fc[number], rtol=1e-9)


def test_balance_speaks_to_the_customer(server, library):
    _, ledger, wl = library
    customer = wl["customer_id"].iloc[0]
    got = server.client.get(f"/customers/{customer}/balance", params={"as_of": AS_OF})
    assert got.status_code == 200
    b = got.json()
    snap = ledger.as_of(AS_OF).invoices
    mine = snap.loc[(snap["customer_id"] == customer) & (snap["open_amount"] > 0)]
    assert sum(b["balance"].values()) == pytest.approx(mine["open_amount"].sum())
    assert {i["invoice_id"] for i in b["open_items"]} == set(mine["invoice_id"])
    later = mine.loc[mine["due_date"] >= pd.Timestamp(AS_OF), "due_date"]
    assert b["next_due_date"] == (str(later.min().date()) if len(later) else None)
    text = got.text.lower()
    for internal in ("chronic", "struggling", "p_late", "segment", "priority"):
        assert internal not in text, internal
    assert any(i["why_it_matters"] for i in b["open_items"]), "customer_reasons are shown"


def test_errors_follow_the_error_contract(server):
    bad = server.client.get("/customers/C000001/score", params={"as_of": "2024-13-45"})
    assert bad.status_code == 422 and bad.json()["field"] == "as_of"
    assert bad.json()["error"] == "RequestValidationError" and "as_of" in bad.json()["message"]
    missing = server.client.get("/book/score")
    assert missing.status_code == 422 and missing.json()["field"] == "as_of"
    unknown = server.client.get("/customers/NOPE/score", params={"as_of": AS_OF})
    assert unknown.status_code == 404 and unknown.json()["field"] == "customer_id"
    assert "NOPE" in unknown.json()["message"]
    assert server.client.get("/customers/NOPE/balance").status_code == 404
    assert server.client.get("/invoices/NOPE/score", params={"as_of": AS_OF}).status_code == 404
    body = server.client.post("/promises", json={"customer_id": "C000001", "amount": -5, "promised_date": "2024-05-01"},
                              headers={"Idempotency-Key": "neg"})  # fmt: skip
    assert body.status_code == 422 and body.json()["field"] == "amount"
    no_key = server.client.post("/disputes", json={"invoice_id": "x", "reason": "wrong goods"})
    assert no_key.status_code == 422 and no_key.json()["field"] == "Idempotency-Key"
    stranger = server.client.post("/disputes", json={"invoice_id": "NOPE", "reason": "wrong goods"},
                                  headers={"Idempotency-Key": "k-unknown"})  # fmt: skip
    assert stranger.status_code == 422 and stranger.json()["field"] == "invoice_id"
    assert "not an invoice of the ledger" in stranger.json()["message"]
    assert server.client.get("/version").json()["feedback_reports"] == 0, "nothing invalid was stored"


def test_the_openapi_document_and_the_docs_page_need_no_network(server):
    spec = server.client.get("/openapi.json").json()
    for path in ("/health", "/version", "/book/score", "/invoices/{invoice_id}/score", "/customers/{customer_id}/score",
                 "/worklist", "/plan", "/forecast", "/customers/{customer_id}/balance", "/promises", "/disputes",
                 "/contact-changes", "/plan-requests"):  # fmt: skip
        assert path in spec["paths"], path
    page = server.client.get("/docs")
    assert page.status_code == 200 and "/customers/{customer_id}/score" in page.text
    assert "http://" not in page.text and "https://" not in page.text and "<script" not in page.text
    assert server.client.get("/redoc").status_code == 404


def test_the_api_key_guards_every_endpoint_but_health(world):
    s = _serve(world, world / "data", api_key="s3cret")
    try:
        assert s.client.get("/health").status_code == 200
        for path in ("/version", "/openapi.json", "/docs", f"/worklist?as_of={AS_OF}"):
            r = s.client.get(path)
            assert r.status_code == 401 and r.json()["field"] == "X-API-Key", path
            assert s.client.get(path, headers={"X-API-Key": "wrong"}).status_code == 401
        ok = s.client.get("/worklist", params={"as_of": AS_OF, "limit": 2}, headers={"X-API-Key": "s3cret"})
        assert ok.status_code == 200 and len(ok.json()["items"]) == 2
        posted = s.client.post("/disputes", json={"invoice_id": "x", "reason": "why"}, headers={"Idempotency-Key": "k"})
        assert posted.status_code == 401
    finally:
        s.close()


def _post_twice(client, path, body, key):
    first = client.post(path, json=body, headers={"Idempotency-Key": key})
    again = client.post(path, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["recorded_at"] == first.json()["recorded_at"]
    assert first.json()["created"] and not again.json()["created"]
    return first.json()


def test_a_promise_and_a_dispute_posted_twice_are_stored_once_and_change_the_next_plan(world, tmp_path):
    data = shutil.copytree(world / "data", tmp_path / "data")
    s = _serve(world, data)
    try:
        before = pd.DataFrame(s.client.get("/plan", params={"as_of": AS_OF}).json()["actions"])
        send = before.loc[before["status"] == "send"]
        promised, disputed_by = send["customer_id"].iloc[0], send.iloc[1]
        invoice = disputed_by["invoice_ids"].split(",")[0]
        due = (pd.Timestamp(AS_OF) + pd.Timedelta(days=10)).date()
        body = {"customer_id": promised, "amount": 1200, "promised_date": str(due), "made_on": AS_OF}
        _post_twice(s.client, "/promises", body, "promise-1")
        _post_twice(s.client, "/disputes", {"invoice_id": invoice, "reason": "goods damaged", "made_on": AS_OF}, "d-1")
        conflict = s.client.post("/promises", json={**body, "amount": 5}, headers={"Idempotency-Key": "promise-1"})
        assert conflict.status_code == 409 and conflict.json()["error"] == "ConflictError"
        assert FeedbackStore(data / "payrisk_feedback.sqlite").version() == 2, "each stored once"

        after = pd.DataFrame(s.client.get("/plan", params={"as_of": AS_OF}).json()["actions"])
        mine = after.loc[after["customer_id"] == promised]
        assert len(mine) and (mine["status"] == "blocked").all()
        assert mine["blocked_by"].str.startswith(f"promise_to_pay: promised 1,200 by {due}").all()
        hit = after.loc[after["invoice_ids"] == invoice]
        assert (hit["blocked_by"].str.startswith("disputed")).any()
        assert not after.loc[after["status"] == "send", "invoice_ids"].str.contains(invoice).any()
        # the library sees the same stored feedback
        engine = pr.RiskEngine.load(world / "model")
        seen = apply_feedback(load_ledger(data), FeedbackStore.for_source(data))
        expected = plan_actions(seen, engine.score(seen, AS_OF), Policy.default(), AS_OF, adherence=engine)
        assert after["action_id"].tolist() == expected["action_id"].tolist()
        balance = s.client.get(f"/customers/{promised}/balance", params={"as_of": AS_OF}).json()
        assert balance["promises"] == [{"invoice_id": None, "amount": 1200.0, "promised_date": str(due)}]
        # the command sees it too: the next `payrisk plan` run blocks the same actions
        from payrisk.cli import main

        out = tmp_path / "plan.csv"
        assert main(["--quiet", "plan", str(data), "--model", str(world / "model"), "--as-of", AS_OF, "--format",
                     "csv", "--out", str(out)]) == 0  # fmt: skip
        by_promise = pd.read_csv(out)["blocked_by"].fillna("").str.startswith("promise_to_pay")
        assert by_promise.sum() == after["blocked_by"].fillna("").str.startswith("promise_to_pay").sum() >= len(mine)
    finally:
        s.close()


def test_contact_changes_and_plan_requests_are_stored_and_seen(world, tmp_path):
    data = shutil.copytree(world / "data", tmp_path / "data")
    s = _serve(world, data)
    try:
        customer = load_ledger(data).customers["customer_id"].iloc[0]
        bounce = {"customer_id": customer, "channel": "email", "bounced": True, "made_on": "2024-04-01"}
        _post_twice(s.client, "/contact-changes", bounce, "b-1")
        neither = s.client.post("/contact-changes", json={"customer_id": customer, "channel": "email"},
                                headers={"Idempotency-Key": "b-2"})  # fmt: skip
        assert neither.status_code == 422 and "new_address" in neither.json()["message"]
        request = {"customer_id": customer, "n_instalments": 6, "first_date": "2024-05-15", "made_on": "2024-04-02"}
        _post_twice(s.client, "/plan-requests", request, "p-1")
        seen = apply_feedback(load_ledger(data), FeedbackStore.for_source(data)).contacts
        reported = seen.loc[seen["template"].str.startswith("reported:", na=False)]
        assert sorted(reported["outcome"]) == ["bounced", "plan_requested"]
        assert reported.loc[reported["outcome"] == "bounced", "bounced"].all()
    finally:
        s.close()


def test_a_sql_ledger_stores_feedback_in_its_own_database(world, tmp_path):
    sa = pytest.importorskip("sqlalchemy")
    ledger = load_ledger(world / "data")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    db = sa.create_engine(url)
    with db.begin() as con:
        for name in ("customers", "invoices", "payments"):
            getattr(ledger, name).drop(columns=["paid_amount", "open_amount"], errors="ignore").to_sql(
                name, con, index=False
            )
    s = _serve(world, url)
    try:
        invoice = ledger.as_of(AS_OF).open_invoices()["invoice_id"].iloc[0]
        _post_twice(s.client, "/disputes", {"invoice_id": invoice, "reason": "never ordered", "made_on": AS_OF}, "q")
        assert s.client.get("/version").json()["feedback_store"].startswith("sqlite:///")
    finally:
        s.close()
    tables = sa.inspect(db).get_table_names()
    assert "payrisk_feedback" in tables and not list(tmp_path.glob("*.sqlite"))
    with db.connect() as con:
        assert con.execute(sa.text("SELECT count(*) FROM payrisk_feedback")).scalar_one() == 1
    seen = apply_feedback(pr.Ledger.from_sql(url), FeedbackStore.for_source(url))
    assert seen.as_of(AS_OF).invoices.set_index("invoice_id").loc[invoice, "disputed"]


def test_the_command_starts_the_service(world):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "PAYRISK_TEST_KEY": "k3y"}
    cmd = [sys.executable, "-m", "payrisk.cli", "serve", str(world / "data"), "--model", str(world / "model"),
           "--port", str(port), "--api-key-env", "PAYRISK_TEST_KEY"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/version", headers={"X-API-Key": "k3y"}, timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "payrisk serve did not answer"
                time.sleep(0.3)
        assert r.status_code == 200 and r.json()["payrisk"] == pr.__version__
        assert httpx.get(f"http://127.0.0.1:{port}/version").status_code == 401
    finally:
        proc.terminate()
        proc.wait(20)
    missing = subprocess.run([*cmd[:-2], "--api-key-env", "PAYRISK_NO_SUCH_VARIABLE"], capture_output=True, text=True)
    assert missing.returncode == 2 and "PAYRISK_NO_SUCH_VARIABLE" in missing.stderr


def test_dates_in_bodies_are_validated_with_the_field_named(server):
    r = server.client.post("/promises", json={"customer_id": "C1", "amount": 5, "promised_date": "soon"},
                           headers={"Idempotency-Key": "x"})  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "promised_date"
    earlier = {"customer_id": "C1", "amount": 5, "promised_date": "2024-01-01", "made_on": str(dt.date(2024, 2, 1))}
    r = server.client.post("/promises", json=earlier, headers={"Idempotency-Key": "y"})
    assert r.status_code == 422 and "promised_date" in r.json()["message"]
