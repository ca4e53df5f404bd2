"""``payrisk serve``: an HTTP service (FastAPI) over a fitted engine and a ledger source.

The credit team's side scores an invoice, a customer or the whole book, and gives the worklist, the dunning plan and
the cash-inflow forecast of a date; the customer's side (a portal, a balance chatbot) gives a customer's open items,
balance and next due date in words fit for the customer, and takes back what customers and collectors report: a
promise to pay, a dispute, a changed or bounced address, a payment-plan request (:mod:`payrisk.feedback`). Each
report carries an ``Idempotency-Key`` header (a retry records nothing twice) and is stored in the ledger's source;
the next score and plan see it.

Requests and responses are pydantic models; the OpenAPI document is at ``/openapi.json`` and a self-contained page
listing the endpoints at ``/docs`` (no Swagger UI: it loads its scripts from a CDN, and nothing here reaches the
network beyond the listening socket). Errors are JSON ``{"error": <type>, "message": <the message the command
prints>, "field": <where, when known>}``: 404 for an unknown id in the path, 409 for a reused idempotency key, 422
for a request that does not validate (the field named), 400 for any other input payrisk refuses, 401 without the
API key when one is set (every endpoint but ``/health``).

Examples
--------
>>> from payrisk.serve import create_app
>>> app = create_app("model/", "data/", api_key="s3cret")  # doctest: +SKIP
>>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

import datetime as dt
import hmac
import json
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from payrisk.errors import ConflictError, ParameterError, PayriskError, UnknownIdError
from payrisk.feedback import (
    ContactChange,
    Dispute,
    FeedbackRecord,
    FeedbackStore,
    PlanRequest,
    PromiseToPay,
    apply_feedback,
)

if TYPE_CHECKING:  # pragma: no cover
    from fastapi import FastAPI

    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger

__all__ = [
    "Action",
    "Balance",
    "BookScore",
    "CustomerScore",
    "ErrorBody",
    "Health",
    "InvoiceScore",
    "VersionInfo",
    "create_app",
]


# -- response models -----------------------------------------------------------------------------------------------
class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    """Every error: the payrisk error type, the message the command prints, and the field when one is at fault."""

    error: str = Field(description="The error's type, e.g. UnknownIdError, ConflictError, RequestValidationError.")
    message: str = Field(description="What went wrong and the fix, as `payrisk <command>` prints it.")
    field: str | None = Field(default=None, description="The request field at fault, when one is.")
    detail: list[dict[str, Any]] | None = Field(default=None, description="Every validation error, when several.")


class Health(BaseModel):
    """The service runs."""

    status: str = "ok"


class VersionInfo(BaseModel):
    """Versions: payrisk's, the engine's fit date, where feedback is stored and how many reports it holds."""

    payrisk: str
    model_fitted_as_of: str | None
    ledger_end: str | None
    feedback_store: str
    feedback_reports: int


class InvoiceScore(_Open):
    """One row of the worklist (:data:`payrisk.schema.WORKLIST`: every column, dates as ISO strings)."""

    invoice_id: str
    customer_id: str
    open_amount: float
    p_late: float
    segment: str
    priority_rank: int | None = None


class BookScore(BaseModel):
    """A page of the worklist, in priority order."""

    as_of: dt.date
    total: int = Field(description="Open invoices in the book.")
    limit: int
    offset: int
    items: list[InvoiceScore]


class CustomerScore(BaseModel):
    """A customer's scores: its open invoices, segment, early warning and credit limit in use."""

    customer_id: str
    as_of: dt.date
    segment: str | None
    segment_why: str | None
    open_amount: dict[str, float] = Field(description="Open amount per currency.")
    p_problem_90d: float | None = Field(description="The early warning: P(a problem within 90 days).")
    alert: bool | None
    problem_now: bool | None
    credit_limit: float | None
    limit_utilisation: float | None
    invoices: list[InvoiceScore]


class Action(_Open):
    """One dunning action of the plan (the columns of :func:`payrisk.dunning.plan_actions`)."""

    action_id: str
    customer_id: str
    status: str
    blocked_by: str


class Plan(BaseModel):
    """The dunning plan of a day."""

    as_of: dt.date
    actions: list[Action]


class Worklist(BaseModel):
    """The first items of the worklist."""

    as_of: dt.date
    items: list[InvoiceScore]


class ForecastWeek(_Open):
    """One week of the cash-inflow forecast (the columns of ``cash_inflow(...).periods``)."""


class Forecast(BaseModel):
    """The cash-inflow forecast per week."""

    as_of: dt.date
    periods: list[ForecastWeek]


class OpenItem(BaseModel):
    """An open invoice as the customer sees it."""

    invoice_id: str
    issue_date: dt.date | None
    due_date: dt.date
    amount: float
    open_amount: float
    currency: str | None
    days_overdue: int
    disputed: bool
    why_it_matters: str | None = Field(description="Why it is asked for, in words fit for the customer.")


class Promise(BaseModel):
    """A promise to pay on record that still pauses the reminders."""

    invoice_id: str | None
    amount: float | None
    promised_date: dt.date


class Balance(BaseModel):
    """What a customer portal or a balance chatbot shows: open items, balance, next due date, promises."""

    customer_id: str
    as_of: dt.date
    balance: dict[str, float] = Field(description="Open amount per currency.")
    overdue: dict[str, float] = Field(description="Overdue amount per currency.")
    next_due_date: dt.date | None = Field(description="The next due date of an open item not yet due.")
    open_items: list[OpenItem]
    promises: list[Promise]


class Recorded(FeedbackRecord):
    """A stored report: ``created`` is false for a retry (the record stored first is returned)."""

    created: bool


# -- the service ---------------------------------------------------------------------------------------------------
class _Service:
    """The engine, the ledger with its feedback, and the scored frames cached per (as_of, feedback version)."""

    def __init__(self, model: Any, data: Any, mapping: Any, feedback_store: Any, policy: Any) -> None:
        from payrisk._cli_io import load_ledger
        from payrisk.dunning import Policy
        from payrisk.engine import RiskEngine
        from payrisk.ledger import Ledger

        self.engine = model if isinstance(model, RiskEngine) else RiskEngine.load(model)
        if isinstance(data, Ledger):
            if feedback_store is None:
                raise ParameterError(
                    "create_app: a Ledger object has no source to store feedback in; pass feedback_store (a "
                    "FeedbackStore, a SQLite file path or a database URL)."
                )
            self.base = data
        else:
            self.base = load_ledger(data, mapping)
        if isinstance(feedback_store, FeedbackStore):
            self.store = feedback_store
        else:
            self.store = FeedbackStore.for_source(data, feedback_store)
        if policy is None or isinstance(policy, Policy):
            self.policy = policy or Policy.default()
        else:
            self.policy = Policy.from_file(policy)
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.RLock()
        self.version = self.store.version()
        self._ledger = apply_feedback(self.base, self.store)
        customers = pd.concat([self.base.customers["customer_id"], self.base.invoices["customer_id"]])
        self.customers = frozenset(customers.astype(str))
        self.invoices = frozenset(self.base.invoices["invoice_id"].astype(str))

    def ledger(self) -> "Ledger":
        """The ledger with the stored feedback (read again when another process recorded some)."""
        version = self.store.version()
        if version != self.version:
            with self._lock:
                if version != self.version:
                    self._ledger = apply_feedback(self.base, self.store)
                    self._cache = {k: v for k, v in self._cache.items() if k[-1] == version}
                    self.version = version
        return self._ledger

    def cached(self, what: str, as_of: dt.date, make: Callable[["Ledger", pd.Timestamp], Any], *extra: Any) -> Any:
        ledger = self.ledger()
        key = (what, as_of, *extra, self.version)
        found = self._cache.get(key)
        if found is None:
            with self._lock:
                found = self._cache.get(key)
                if found is None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # notes (an as_of after the ledger's end) are not errors
                        found = self._cache[key] = make(ledger, pd.Timestamp(as_of))
        return found

    def worklist(self, as_of: dt.date) -> pd.DataFrame:
        return self.cached("worklist", as_of, lambda led, day: self.engine.score(led, day))

    def early_warning(self, as_of: dt.date) -> pd.DataFrame | None:
        if self.engine.problem_model_ is None:
            return None
        return self.cached("warning", as_of, lambda led, day: self.engine.early_warning(led, day))

    def by_customer(self, as_of: dt.date) -> dict[str, pd.DataFrame]:
        return self.cached(
            "by_customer", as_of, lambda led, day: dict(tuple(self.worklist(as_of).groupby("customer_id")))
        )

    def plan(self, as_of: dt.date) -> pd.DataFrame:
        from payrisk.dunning import plan_actions

        return self.cached(
            "plan",
            as_of,
            lambda led, day: plan_actions(led, self.worklist(as_of), self.policy, day, adherence=self.engine),
        )

    def forecast(self, as_of: dt.date, weeks: int) -> pd.DataFrame:
        from payrisk.forecast import cash_inflow

        return self.cached(
            "forecast", as_of, lambda led, day: cash_inflow(led, self.engine, day, horizon_weeks=weeks).periods, weeks
        )

    def portal(self, as_of: dt.date) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
        """Per customer: its open invoices at ``as_of`` (by due date) and its promises to pay not yet due."""

        def make(led: "Ledger", day: pd.Timestamp) -> Any:
            snap = led.as_of(day)
            inv = snap.invoices
            inv = inv.loc[inv["open_amount"] > 0].sort_values(["customer_id", "due_date"])
            promised = snap.promises()
            promised = promised.loc[promised["due"] >= day]
            return dict(tuple(inv.groupby("customer_id"))), dict(tuple(promised.groupby("customer_id")))

        return self.cached("portal", as_of, make)

    def record(self, report: Any, key: str) -> tuple[FeedbackRecord, bool]:
        with self._lock:
            out = self.store.record(report, key, ledger=self.base)
        self.ledger()  # the next score and plan see it
        return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON values (dates ISO, missing values null), as ``payrisk <command> --format json`` writes them."""
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    return json.loads(frame.to_json(orient="records", date_format="iso"))


_NO_ITEMS = pd.DataFrame(columns=["invoice_id", "due_date", "currency", "open_amount", "promised_amount", "due"])


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _per_currency(items: pd.DataFrame) -> dict[str, float]:
    return {str(k): round(float(v), 2) for k, v in items.groupby("currency")["open_amount"].sum().items()}


def _day(value: Any) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def create_app(
    model: "str | Path | RiskEngine",
    data: Any,
    *,
    mapping: str | None = None,
    api_key: str | None = None,
    feedback_store: FeedbackStore | str | Path | None = None,
    policy: Any = None,
) -> "FastAPI":
    """The HTTP service over a fitted engine and a ledger source, as a FastAPI application.

    Parameters
    ----------
    model : str, Path or RiskEngine
        The model folder written by ``payrisk fit`` (or a fitted engine).
    data : str, Path or Ledger
        The ledger's source, as the command reads it: a data folder, a file, or a database URL (or a Ledger, with
        ``feedback_store``).
    mapping : str, optional
        The column mapping file of the source.
    api_key : str, optional
        When set, every endpoint but ``/health`` requires the header ``X-API-Key`` with this value (401 otherwise).
    feedback_store : FeedbackStore, str or Path, optional
        Where the reports are stored: default the source's database (a URL), else ``payrisk_feedback.sqlite`` in
        the data folder.
    policy : Policy or path, optional
        The dunning policy of ``/plan`` (default: the shipped policy).

    Returns
    -------
    fastapi.FastAPI
        Run it with uvicorn (``payrisk serve`` does).

    Examples
    --------
    >>> app = create_app("model/", "data/")  # doctest: +SKIP
    >>> sorted(route.path for route in app.routes)[:3]  # doctest: +SKIP
    ['/book/score', '/customers/{customer_id}/balance', '/customers/{customer_id}/score']
    """
    try:
        from fastapi import FastAPI, Header, Query, Request, Response
        from fastapi import Path as PathParam
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import HTMLResponse, JSONResponse
    except ImportError:
        raise ParameterError("payrisk serve needs FastAPI and uvicorn: pip install 'payrisk[serve]'.") from None
    from payrisk._version import __version__

    service = _Service(model, data, mapping, feedback_store, policy)
    app = FastAPI(
        title="payrisk",
        version=__version__,
        summary="Payment risk of a ledger: scores, worklist, dunning plan, forecast; a customer's balance; "
        "promises, disputes, address changes and payment-plan requests reported back.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: /docs is payrisk's own page instead
        redoc_url=None,
    )
    errors: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 422: {"model": ErrorBody},
                                               401: {"model": ErrorBody}}  # fmt: skip

    def error(status: int, exc: BaseException | str, kind: str | None = None, field: str | None = None) -> JSONResponse:
        body = ErrorBody(error=kind or type(exc).__name__, message=str(exc), field=field)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = exc.errors()
        first = found[0] if found else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or None
        message = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg', '')}" for e in found
        )
        body = ErrorBody(
            error="RequestValidationError",
            message=f"{request.method} {request.url.path}: {message}. Fix the field and send the request again.",
            field=field,
            detail=[{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in found],
        )
        return JSONResponse(body.model_dump(exclude_none=True), status_code=422)

    @app.exception_handler(UnknownIdError)
    async def _unknown(request: Request, exc: UnknownIdError) -> JSONResponse:
        return error(422, exc, field=exc.field)  # an id in a body; an id in the path is a 404 (see _customer)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return error(409, exc, field="Idempotency-Key")

    @app.exception_handler(PayriskError)
    async def _refused(request: Request, exc: PayriskError) -> JSONResponse:
        return error(400, exc)

    class _NotFoundError(Exception):
        def __init__(self, message: str, field: str) -> None:
            super().__init__(message)
            self.field = field

    @app.exception_handler(_NotFoundError)
    async def _not_found(request: Request, exc: _NotFoundError) -> JSONResponse:
        return error(404, exc, kind="UnknownIdError", field=exc.field)

    @app.middleware("http")
    async def _key(request: Request, call_next: Any) -> Any:
        if api_key is not None and request.url.path != "/health":
            given = request.headers.get("x-api-key", "")
            if not hmac.compare_digest(given.encode(), api_key.encode()):
                return error(401, "this service needs the header X-API-Key with the key it was started with "
                             "(payrisk serve --api-key-env NAME).", kind="Unauthorized", field="X-API-Key")  # fmt: skip
        return await call_next(request)

    def _customer(customer_id: str) -> str:
        if customer_id not in service.customers:
            raise _NotFoundError(
                f"customer {customer_id!r} is not a customer of the ledger; use an id of its customers or invoices "
                "table (GET /book/score lists the customers with open invoices).",
                "customer_id",
            )
        return customer_id

    AsOf = Query(description="The date (YYYY-MM-DD) the ledger is read as of.")
    Today = Query(None, description="The day (YYYY-MM-DD); default today.")

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """The service runs (no API key needed)."""
        return Health()

    @app.get("/version", response_model=VersionInfo, tags=["service"], responses=errors)
    def version() -> VersionInfo:
        """payrisk's version, the engine's fit date, the feedback store."""
        end = service.base.end_date
        return VersionInfo(
            payrisk=__version__,
            model_fitted_as_of=str(_day(getattr(service.engine, "as_of_", None))),
            ledger_end=None if end is None else str(end.date()),
            feedback_store=service.store.where,
            feedback_reports=service.store.version(),
        )

    @app.get("/book/score", response_model=BookScore, tags=["scores"], responses=errors)
    def book_score(
        as_of: dt.date = AsOf,
        limit: int = Query(100, ge=1, le=10_000, description="Items per page."),
        offset: int = Query(0, ge=0, description="Items to skip."),
    ) -> dict[str, Any]:
        """The worklist of the whole book (every open invoice), in priority order, a page at a time."""
        wl = service.worklist(as_of)
        return {"as_of": as_of, "total": len(wl), "limit": limit, "offset": offset,
                "items": _records(wl.iloc[offset : offset + limit])}  # fmt: skip

    @app.get("/invoices/{invoice_id}/score", response_model=InvoiceScore, tags=["scores"], responses=errors)
    def invoice_score(invoice_id: str = PathParam(description="The invoice's id."), as_of: dt.date = AsOf) -> Any:
        """One invoice's scores (404 for an id the ledger lacks, or an invoice not open at ``as_of``)."""
        wl = service.worklist(as_of)
        if invoice_id not in wl.index:
            known = invoice_id in service.invoices
            raise _NotFoundError(
                f"invoice {invoice_id!r} " + (f"is not open at {as_of} (paid, credited or not issued yet); only open "
                "invoices are scored." if known else "is not an invoice of the ledger; use an id of its invoices "
                "table."), "invoice_id")  # fmt: skip
        return _records(wl.loc[[invoice_id]])[0]

    @app.get("/customers/{customer_id}/score", response_model=CustomerScore, tags=["scores"], responses=errors)
    def customer_score(customer_id: str = PathParam(description="The customer's id."), as_of: dt.date = AsOf) -> Any:
        """A customer's open invoices scored, its segment, early warning and credit limit in use."""
        _customer(customer_id)
        rows = service.by_customer(as_of).get(customer_id)
        rows = service.worklist(as_of).iloc[:0] if rows is None else rows
        ew = service.early_warning(as_of)
        warn = ew.loc[customer_id] if ew is not None and customer_id in ew.index else None
        first = rows.iloc[0] if len(rows) else None

        def pick(col: str, frame_row: Any) -> Any:
            v = None if frame_row is None else frame_row.get(col)
            return None if v is None or pd.isna(v) else v.item() if hasattr(v, "item") else v

        return {
            "customer_id": customer_id,
            "as_of": as_of,
            "segment": pick("segment", first),
            "segment_why": pick("segment_why", first),
            "open_amount": _per_currency(rows),
            "p_problem_90d": pick("p_problem_90d", warn) if warn is not None else pick("p_problem_90d", first),
            "alert": pick("alert", warn) if warn is not None else pick("alert", first),
            "problem_now": pick("problem_now", warn),
            "credit_limit": pick("credit_limit", first),
            "limit_utilisation": pick("limit_utilisation", first),
            "invoices": _records(rows),
        }

    @app.get("/worklist", response_model=Worklist, tags=["scores"], responses=errors)
    def worklist(as_of: dt.date = AsOf, limit: int = Query(50, ge=1, le=10_000)) -> dict[str, Any]:
        """The first ``limit`` items of the worklist: who to call first."""
        return {"as_of": as_of, "items": _records(service.worklist(as_of).head(limit))}

    @app.get("/plan", response_model=Plan, tags=["dunning"], responses=errors)
    def plan(as_of: dt.date = AsOf) -> dict[str, Any]:
        """The dunning actions of the day (send or blocked, with the rule that blocked), feedback applied."""
        return {"as_of": as_of, "actions": _records(service.plan(as_of))}

    @app.get("/forecast", response_model=Forecast, tags=["forecast"], responses=errors)
    def forecast(as_of: dt.date = AsOf, weeks: int = Query(13, ge=1, le=104)) -> dict[str, Any]:
        """Cash inflow per week with its intervals."""
        return {"as_of": as_of, "periods": _records(service.forecast(as_of, weeks))}

    @app.get("/customers/{customer_id}/balance", response_model=Balance, tags=["portal"], responses=errors)
    def balance(
        customer_id: str = PathParam(description="The customer's id."),
        as_of: dt.date | None = Today,
    ) -> dict[str, Any]:
        """A customer's open items, balance and next due date, in words fit for the customer (for a portal or a
        chatbot; no internal scores)."""
        _customer(customer_id)
        day = as_of or dt.date.today()
        ts = pd.Timestamp(day)
        open_items, promises = service.portal(day)
        inv = open_items.get(customer_id, _NO_ITEMS)
        why = service.by_customer(day).get(customer_id)
        words = why["customer_reasons"] if why is not None and "customer_reasons" in why else pd.Series(dtype=object)
        overdue = inv["due_date"] < ts
        items = [
            {
                "invoice_id": r["invoice_id"], "issue_date": _day(r["issue_date"]), "due_date": _day(r["due_date"]),
                "amount": float(r["amount"]), "open_amount": float(r["open_amount"]),
                "currency": None if pd.isna(r["currency"]) else r["currency"],
                "days_overdue": max(0, (ts - r["due_date"]).days), "disputed": bool(r["disputed"]),
                "why_it_matters": str(words.get(r["invoice_id"], "") or "") or None,
            }
            for r in _rows(inv)
        ]  # fmt: skip
        promised = promises.get(customer_id, _NO_ITEMS)
        upcoming = inv.loc[~overdue, "due_date"]
        return {
            "customer_id": customer_id,
            "as_of": day,
            "balance": _per_currency(inv),
            "overdue": _per_currency(inv.loc[overdue]),
            "next_due_date": _day(upcoming.min()) if len(upcoming) else None,
            "open_items": items,
            "promises": [
                {"invoice_id": None if pd.isna(p["invoice_id"]) else p["invoice_id"],
                 "amount": None if pd.isna(p["promised_amount"]) else float(p["promised_amount"]),
                 "promised_date": _day(p["due"])}
                for p in _rows(promised)
            ],
        }  # fmt: skip

    key_header = Header(alias="Idempotency-Key", min_length=1, max_length=200,
                        description="A key the client makes once per report and sends again on a retry.")  # fmt: skip
    posted: dict[int | str, dict[str, Any]] = {
        201: {"model": Recorded, "description": "Stored now."},
        409: {"model": ErrorBody},
        **errors,
    }

    def store(report: Any, key: str, response: Response) -> dict[str, Any]:
        record, created = service.record(report, key)
        response.status_code = 201 if created else 200
        return {**record.model_dump(), "created": created}

    @app.post("/promises", response_model=Recorded, status_code=200, tags=["feedback"], responses=posted)
    def promise(report: PromiseToPay, response: Response, idempotency_key: str = key_header) -> dict[str, Any]:
        """A promise to pay: pauses the dunning of the invoice (or of the customer) until the promised date."""
        return store(report, idempotency_key, response)

    @app.post("/disputes", response_model=Recorded, status_code=200, tags=["feedback"], responses=posted)
    def dispute(report: Dispute, response: Response, idempotency_key: str = key_header) -> dict[str, Any]:
        """A dispute of an invoice: it is no longer dunned from the day it was made."""
        return store(report, idempotency_key, response)

    @app.post("/contact-changes", response_model=Recorded, status_code=200, tags=["feedback"], responses=posted)
    def contact_change(report: ContactChange, response: Response, idempotency_key: str = key_header) -> dict[str, Any]:
        """A changed address (the channel is usable again) or a bounced one (the plan falls back)."""
        return store(report, idempotency_key, response)

    @app.post("/plan-requests", response_model=Recorded, status_code=200, tags=["feedback"], responses=posted)
    def plan_request(report: PlanRequest, response: Response, idempotency_key: str = key_header) -> dict[str, Any]:
        """A request for a payment plan, for the collector (a contacts row with outcome plan_requested)."""
        return store(report, idempotency_key, response)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> str:
        return _docs_page(app.openapi())

    return app


def _docs_page(spec: dict[str, Any]) -> str:
    """A self-contained page listing the endpoints of the OpenAPI document (no scripts, no external assets)."""
    from html import escape

    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = ", ".join(
                f"{p['name']} ({p['in']}{', required' if p.get('required') else ''})" for p in op.get("parameters", [])
            )
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body_name = body.get("$ref", "").rsplit("/", 1)[-1]
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{escape(path)}</code></td>"
                f"<td>{escape(op.get('summary', ''))}<br><small>{escape(op.get('description', ''))}</small></td>"
                f"<td>{escape(params)}{'<br>body: ' + escape(body_name) if body_name else ''}</td></tr>"
            )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>payrisk API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{border-top:1px solid #ccc;padding:.4em;vertical-align:top}"
        "</style></head><body>"
        f"<h1>payrisk API {escape(spec.get('info', {}).get('version', ''))}</h1>"
        "<p>The machine-readable document: <a href='/openapi.json'>/openapi.json</a>. Example: "
        "<code>curl -s 'localhost:8000/customers/C000001/score?as_of=2024-06-30'</code></p>"
        "<table><tr><th>method</th><th>path</th><th>what</th><th>parameters</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
