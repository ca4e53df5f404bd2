"""The ``payrisk`` command: demo, validate, fit, score, warn, forecast, plan, limits, report, benchmark, map, record,
accept, serve.

Exit codes: 0 done; 1 done, but input rows were rejected (``validate``) or a check failed; 2 a usage or input
error (the message says what to fix); 3 an internal error of payrisk (a bug; ``--debug`` or ``PAYRISK_DEBUG=1``
shows the traceback). No command writes over an existing file without ``--overwrite``.

Examples
--------
>>> from payrisk.cli import main
>>> main(["--help"])  # doctest: +ELLIPSIS
usage: payrisk ...
0
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from payrisk._cli_io import FORMATS, check_target, emit, load_ledger, progress_bar, write_tables
from payrisk.errors import ParameterError, PayriskError

if TYPE_CHECKING:
    import pandas as pd

    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger

__all__ = ["main"]

EXAMPLES = {
    "demo": "payrisk demo --out demo_out",
    "validate": "payrisk validate data/ --mapping mapping.yaml --out rejected.csv",
    "fit": "payrisk fit data/ --as-of 2024-06-30 --out model/",
    "score": "payrisk score data/ --model model/ --as-of 2024-07-31 --format csv --out worklist.csv",
    "warn": "payrisk warn data/ --model model/ --as-of 2024-07-31 --format csv --out alerts.csv",
    "forecast": "payrisk forecast data/ --model model/ --as-of 2024-07-31 --weeks 13 --format json",
    "plan": "payrisk plan data/ --model model/ --as-of 2024-07-31 --policy policy.yaml --out actions.csv",
    "report": "payrisk report data/ --model model/ --as-of 2024-07-31 --policy policy.yaml --out report.html",
    "benchmark": "payrisk benchmark --suite models --compare benchmarks/baseline.json --out results.json",
    "record": "payrisk record data/ --actions actions.csv",
    "map": "payrisk map export.csv --out mapping.yaml",
    "limits": "payrisk limits data/ --model model/ --as-of 2024-07-31 --appetite 500 --format csv --out limits.csv",
    "accept": "payrisk accept prospects.csv --model model/ --ratings ratings.csv --appetite 500 --out decisions.csv",
    "serve": "payrisk serve data/ --model model/ --host 127.0.0.1 --port 8000 --api-key-env PAYRISK_API_KEY",
}


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def _ledger(args: argparse.Namespace) -> Ledger:
    from payrisk.feedback import FeedbackStore, apply_feedback

    ledger = load_ledger(args.data, args.mapping, args.encoding)
    if not ledger.report.ok:
        _say(args, f"note: {ledger.report.n_rejected} input rows were rejected; `payrisk validate` lists them")
    # what customers reported through `payrisk serve` (promises, disputes, bounces) is seen by every command
    return apply_feedback(ledger, FeedbackStore.for_source(args.data, getattr(args, "feedback", None)))


def _engine(args: argparse.Namespace) -> RiskEngine:
    from payrisk.engine import RiskEngine

    return RiskEngine.load(args.model)


def _free(args: argparse.Namespace, *paths: str | Path | None) -> None:
    """Refuse to write over an existing file (or a non-empty folder) unless ``--overwrite`` was given, and a
    binary format without a file to write it to, before any work is done."""
    check_target(getattr(args, "format", None), getattr(args, "out", None))
    if getattr(args, "overwrite", False):
        return
    for path in paths:
        if path is None:
            continue
        p = Path(path)
        if p.is_file() or (p.is_dir() and any(p.iterdir())):
            raise ParameterError(
                f"{p} exists; payrisk {args.command} does not write over it. Choose another --out, or add "
                "--overwrite to replace it."
            )


def cmd_validate(args: argparse.Namespace) -> int:
    _free(args, args.out)
    ledger = load_ledger(args.data, args.mapping, args.encoding)
    if args.format == "json" and not args.out:  # the whole report, for a program
        import json

        print(json.dumps(ledger.report.to_dict(), default=str))
    else:
        print(ledger.report)
    if args.out:
        fmt = "csv" if args.format == "table" else args.format
        emit(ledger.report.issues, fmt, args.out, index=False, dialect=args.csv_dialect)
        _say(args, f"rejection report written to {args.out}")
    return 0 if ledger.report.ok else 1


def cmd_fit(args: argparse.Namespace) -> int:
    from payrisk.engine import RiskEngine

    _free(args, args.out)
    if args.trees < 1:
        raise ParameterError(f"--trees must be a whole number of 1 or more (rounds per model); got {args.trees}.")
    ledger = _ledger(args)
    t0 = time.perf_counter()
    acceptance = None
    if args.acceptance:  # first: a ledger it cannot learn from is refused before the engine's longer fit
        from payrisk.acceptance import AcceptanceModel

        acceptance = AcceptanceModel(n_estimators=args.trees).fit(ledger, args.as_of)
    with progress_bar(5, "fit", _progress(args)) as update:
        engine = RiskEngine(n_estimators=args.trees).fit(ledger, args.as_of, progress=update)
    if acceptance is not None:
        acceptance.save(Path(args.out) / "acceptance")  # inside the folder, so the engine's manifest covers it
    path = engine.save(args.out)
    _say(args, f"fitted as of {args.as_of} in {time.perf_counter() - t0:.1f} s; saved to {path}"
         + (" (with the acceptance model)" if acceptance is not None else ""))  # fmt: skip
    return 0


def cmd_accept(args: argparse.Namespace) -> int:
    """Prospects or new customers: the decision, a credit limit, terms and the reasons, from what is known of them
    before their first invoice."""
    import pandas as pd

    from payrisk._cli_io import read_table_file
    from payrisk.ledger import Ledger, to_date
    from payrisk.limits import recommend_limits
    from payrisk.schema import ColumnMapping

    _free(args, args.out)
    model = _acceptance(args, required=True)
    prospects = read_table_file(Path(args.prospects), "customers", args.encoding)[0]
    ratings = read_table_file(Path(args.ratings), "ratings", args.encoding)[0] if args.ratings else None
    # the fixes payrisk prints are written as mapping-file lines (YAML), the syntax the command's user writes
    spec = ColumnMapping.coerce(args.mapping) if args.mapping else ColumnMapping().in_syntax("yaml")
    ledger = Ledger.from_frames(customers=prospects, ratings=ratings, mapping=spec)
    if not ledger.report.ok:
        _say(args, f"note: {ledger.report.n_rejected} input rows were rejected; `payrisk validate` lists them")
    day = to_date(args.as_of or pd.Timestamp.today().normalize(), "--as-of")
    looks = pd.DataFrame({"customer_id": ledger.customers["customer_id"], "as_of": day})
    if looks.empty:
        raise ParameterError(f"{args.prospects}: no prospect was accepted by validation; `payrisk validate` says why.")
    p = model.predict(ledger, looks)
    risk = p.assign(cycle_days=float(args.terms_days), requested_limit=ledger.customers["requested_limit"].to_numpy())
    limits = recommend_limits(risk, appetite=args.appetite, lgd=args.lgd).reset_index()
    why = model.reasons(ledger, looks, n=3, register=args.register)
    decision = limits["terms"].map({"deposit": "accept with security", "prepayment": "prepayment only"})
    out = pd.concat(
        [
            limits[["customer_id"]].assign(decision=decision.fillna("accept").to_numpy()),
            limits[["recommended_limit", "terms", "p_problem_12m", "reason"]],
            why[["reason_1", "reason_2", "reason_3"]].reset_index(drop=True),
        ],
        axis=1,
    )
    emit(out, args.format, args.out, index=False, dialect=args.csv_dialect)
    counts = out["decision"].value_counts().to_dict()
    _say(args, f"{len(out)} prospects: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def _acceptance(args: argparse.Namespace, required: bool) -> Any:
    """The acceptance model in ``--model`` (fitted with ``payrisk fit --acceptance``), after checking the limit
    arguments; None when there is none and it is not required."""
    from payrisk.acceptance import AcceptanceModel

    if args.appetite < 0 or not 0 < args.lgd <= 1:
        raise ParameterError(f"--appetite must be 0 or more and --lgd in (0, 1]; got {args.appetite}, {args.lgd}.")
    folder = Path(args.model) / "acceptance"
    if not (folder / "acceptance.json").is_file():
        if not required:
            return None
        raise ParameterError(
            f"The model in {args.model} has no acceptance model; fit one with `payrisk fit data/ --as-of DATE --out "
            f"{args.model} --acceptance` (it learns from the customers the ledger accepted and how they paid)."
        )
    return AcceptanceModel.load(folder)


def cmd_limits(args: argparse.Namespace) -> int:
    """Credit limits in use: who is over or near its limit, and (with the acceptance model) whose recommended
    limit fell sharply since the last review."""
    from payrisk.limits import limit_review, limit_utilisation

    _free(args, args.out)
    model = _acceptance(args, required=False)
    ledger = _ledger(args)
    if model is None:
        _say(args, f"note: {args.model} has no acceptance model (`payrisk fit --acceptance`): no limit reviews")
        out = limit_utilisation(ledger, args.as_of)
        attention = out["status"].isin(["over the limit", "near the limit"])
    else:
        out = limit_review(ledger, args.as_of, model, appetite=args.appetite, lgd=args.lgd)
        attention = out["status"].isin(["over the limit", "near the limit"]) | out["to_review"]
    if not len(ledger.as_of(args.as_of).credit_limits):
        _say(args, "note: the ledger holds no credit limits (credit_limits table): every customer has none set")
    shown = out if args.all else out.loc[attention]
    emit(shown, args.format, args.out, dialect=args.csv_dialect)
    counts = out["status"].value_counts()
    _say(args, f"{len(out):,} customers: {counts.get('over the limit', 0):,} over the limit, "
         f"{counts.get('near the limit', 0):,} near it" + ("" if model is None else
         f", {int(out['to_review'].sum()):,} to review"))  # fmt: skip
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    _free(args, args.out)
    engine, ledger = _engine(args), _ledger(args)
    with progress_bar(4, "score", _progress(args)) as update:
        worklist = engine.score(ledger, args.as_of, progress=update)
    emit(worklist, args.format, args.out, dialect=args.csv_dialect)
    return 0


def cmd_warn(args: argparse.Namespace) -> int:
    """The early warning: the customers who may become a problem within 90 days, the alerts first."""
    _free(args, args.out)
    engine = _engine(args)
    if engine.problem_model_ is None:
        raise ParameterError(
            f"The model in {args.model} has no early warning: too few customers of its history became a problem "
            "(an invoice 30 days overdue, a missed instalment or a hand-over) to learn from. Fit it again with "
            "`payrisk fit` on more customers' data or with a later --as-of (a longer history)."
        )
    if args.alert_level is not None:
        if not 0 < args.alert_level < 1:
            raise ParameterError(f"--alert-level must be a probability between 0 and 1; got {args.alert_level}.")
        engine.set_params(alert_level=args.alert_level)
    ledger = _ledger(args)
    found = engine.early_warning(ledger, args.as_of)
    n_alerts, n_now = int(found["alert"].sum()), int(found["problem_now"].sum())
    _say(
        args,
        f"{n_alerts} of {len(found)} customers in business alerted (P(a problem within 90 days) >= "
        f"{engine.alert_level:g}); {n_now} are a problem already (see `payrisk score`)",
    )
    emit(found if args.all else found.loc[found["alert"]], args.format, args.out, dialect=args.csv_dialect)
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from payrisk.forecast import cash_inflow

    _free(args, args.out)
    engine, ledger = _engine(args), _ledger(args)
    fc = cash_inflow(ledger, engine, args.as_of, horizon_weeks=args.weeks)
    emit(fc.periods, args.format, args.out, index=False, dialect=args.csv_dialect)
    return 0


def _actions(args: argparse.Namespace, engine: RiskEngine, ledger: Ledger, worklist: pd.DataFrame) -> pd.DataFrame:
    from payrisk.dunning import Policy, plan_actions

    policy = Policy.from_file(args.policy) if args.policy else Policy.default()
    # the whole ledger: the contacts recorded for later days (`payrisk record`) must be seen, or re-planning the
    # same day would plan them again
    return plan_actions(ledger, worklist, policy, args.as_of, adherence=engine)


def cmd_plan(args: argparse.Namespace) -> int:
    _free(args, args.out)
    engine, ledger = _engine(args), _ledger(args)
    actions = _actions(args, engine, ledger, engine.score(ledger, args.as_of))
    emit(actions, args.format, args.out, index=False, dialect=args.csv_dialect)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The HTTP service over the model and the data (runs until stopped)."""
    from payrisk.serve import create_app

    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise ParameterError(
                f"--api-key-env {args.api_key_env}: the environment variable is not set or empty; set it to the key "
                f"clients send as X-API-Key, e.g. export {args.api_key_env}=..."
            )
    try:
        import uvicorn
    except ImportError:
        raise ParameterError("payrisk serve needs FastAPI and uvicorn: pip install 'payrisk[serve]'.") from None
    app = create_app(args.model, args.data, mapping=args.mapping, api_key=key, feedback_store=args.feedback,
                     policy=args.policy)  # fmt: skip
    _say(args, f"payrisk serve: http://{args.host}:{args.port} (OpenAPI: /openapi.json, endpoints: /docs)"
         + ("" if key else "; no API key: anyone who reaches the port may call it"))  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    """Append the sent actions of a plan to the data folder's contacts table, each once."""
    from payrisk._cli_io import record_contacts

    added, known = record_contacts(args.data, args.actions, args.mapping, args.encoding)
    _say(args, f"recorded {added} contacts in {args.data}" + (f" ({known} were recorded already)" if known else ""))
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    """Propose a mapping file from exports: the table of each file, its columns, date formats and separators."""
    from payrisk._cli_io import read_table_file
    from payrisk._mapper import mapping_yaml, propose_mapping

    _free(args, args.out)
    proposals = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise ParameterError(f"{path}: no such file; name the export files to map, e.g. {EXAMPLES['map']}.")
        frame, _, dialect = read_table_file(path, "invoices", args.encoding)
        table, mapping, evidence = propose_mapping(frame, None)
        proposals.append((path, table, mapping, evidence, dialect))
        _say(args, f"{path.name}: {len(frame):,} records, read as table {table!r}")
        for column, choice, why in evidence:
            _say(args, f"  {column} -> {choice}: {why}")
    text = mapping_yaml(proposals)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        _say(args, f"mapping written to {args.out}; check it, then: payrisk validate {args.files[0]} --mapping "
             f"{args.out}")  # fmt: skip
    else:
        print(text, end="")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from payrisk.report import write_report

    _free(args, args.out, Path(args.out).with_name("worklist.csv"))
    engine, ledger = _engine(args), _ledger(args)
    acceptance = _acceptance(args, required=False)  # its limit reviews go into the report when fitted
    worklist = engine.score(ledger, args.as_of)
    actions = _actions(args, engine, ledger, worklist)
    path = write_report(
        ledger, engine, args.as_of, args.out, worklist=worklist, actions=actions, acceptance=acceptance,
        appetite=args.appetite, lgd=args.lgd,
    )  # fmt: skip
    print(f"report written to {path.resolve()}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Synthetic world end to end: validate, features, fit, score, forecast, plan, report."""
    import pandas as pd

    from payrisk import datasets, dunning, forecast
    from payrisk.acceptance import AcceptanceModel
    from payrisk.engine import RiskEngine
    from payrisk.report import write_report

    out = Path(args.out)
    _free(args, out)
    steps = ["world", "validate", "fit", "score", "forecast", "plan", "kpis", "report"]
    summary: dict[str, Any] = {}
    with progress_bar(len(steps), "demo", _progress(args)) as update:
        t0 = time.perf_counter()
        world = datasets.make_ledger(n_customers=args.customers, seed=args.seed)
        data = write_tables(world, out / "data")
        print(f"1. synthetic world: {world!r}, written to {data}")
        update("validate", 1, len(steps))
        ledger = load_ledger(data)
        print(f"2. validated: {ledger.report.n_rejected} of {sum(map(len, ledger.tables.values()))} rows rejected")
        update("fit", 2, len(steps))
        engine = RiskEngine(n_estimators=150, reasons_top_n=200).fit(ledger, args.fit_as_of)
        acceptance = AcceptanceModel(n_estimators=150).fit(ledger, args.fit_as_of)  # limits and their reviews
        acceptance.save(out / "model" / "acceptance")
        engine.save(out / "model")
        print(f"3. fitted as of {args.fit_as_of} (features, 4 models, segments, acceptance); saved to {out / 'model'}")
        update("score", 3, len(steps))
        worklist = engine.score(ledger, args.as_of)
        head = worklist.iloc[0]
        print(f"4. worklist as of {args.as_of}: {len(worklist):,} open invoices; first: {head.name} of "
              f"{head['customer_id']} ({head['currency']} {head['open_amount']:,.0f}): {head['reasons']}")  # fmt: skip
        update("forecast", 4, len(steps))
        fc = forecast.cash_inflow(ledger, engine, args.as_of)
        print(f"5. cash forecast: {len(fc.periods)} currency-weeks, {int(fc.periods['dry'].sum())} dry weeks")
        update("plan", 5, len(steps))
        actions = dunning.plan_actions(ledger, worklist, dunning.Policy.default(), args.as_of, adherence=engine)
        n_send = int((actions["status"] == "send").sum())
        print(f"6. dunning plan: {n_send:,} actions to send today, {len(actions) - n_send:,} blocked by a guard")
        update("kpis", 6, len(steps))
        lines, health = _kpi_lines(ledger, engine, args.as_of)
        for line in lines:
            print(line)
        update("report", 7, len(steps))
        path = write_report(
            ledger, engine, args.as_of, out / "report.html", worklist=worklist, forecast=fc, actions=actions,
            acceptance=acceptance, health=health,
        )  # fmt: skip
        update("done", 8, len(steps))
    summary.update(seconds=round(time.perf_counter() - t0, 1), report=str(path.resolve()))
    print(f"9. report: {path.resolve()}  (done in {summary['seconds']} s)")
    accounts = pd.read_csv(path.with_name("accounts.csv"), dtype={"customer_id": str}, nrows=1)
    if len(accounts):
        top = accounts.iloc[0]
        print(f"   open it in a browser and start at the top of the accounts: {top['customer_id']} owes "
              f"{top['currency']} {top['open_amount']:,.0f} ({top['overdue_amount']:,.0f} overdue, "
              f"{top['max_days_overdue']} days at most); click its arrow for the invoices, a column to sort, "
              "a band to filter")  # fmt: skip
    return 0


def _kpi_lines(ledger: Ledger, engine: RiskEngine, as_of: str) -> tuple[list[str], Any]:
    """The demo's KPI and model-health lines, and the model-health report (the HTML report shows it too)."""
    from payrisk import kpi, monitor

    table = kpi.kpi_summary(ledger, as_of)
    lines = ["7. KPIs (last 90 days):"]
    for cur, r in table.iterrows():
        lines.append(
            f"   {cur}: receivables {r['receivables']:,.0f} ({r['overdue_share']:.0%} overdue), DSO {r['dso']:.1f} "
            f"days (countback {r['dso_countback']:.1f}), ADD {r['add']:.1f}, CEI {r['cei']:.1f}, paid on time "
            f"{r['on_time_share']:.0%}, promises kept {r['promise_kept_rate']:.0%}"
        )
    health = monitor.monitor(ledger, engine, as_of)
    lines.append(f"8. model health: {health.summary[0]}")
    lines += [f"   {line}" for line in health.summary[1:4]]
    return lines, health


def _check_settings(baseline: dict[str, Any], doc: dict[str, Any]) -> None:
    """Refuse to compare runs on other data (customers, seed; the datasets found may differ: missing metrics say
    so)."""
    from payrisk._benchmark_suite import settings_differ

    differ = [k for k in settings_differ(baseline, doc) if k != "datasets"]
    if differ:
        raise ParameterError(
            f"the run's data settings {differ} differ from the baseline's ({baseline['settings']}); run with the "
            "baseline's --customers and --seed, or update the baseline deliberately"
        )


def cmd_benchmark(args: argparse.Namespace) -> int:
    """The model benchmark suite (synthetic world + real datasets), written as JSON and gated on a baseline."""
    import json
    import platform

    from payrisk._benchmark_suite import STEPS, compare, run_suite
    from payrisk._version import __version__

    baseline = _read_json(args.compare) if args.compare else None
    _free(args, args.out)  # refused before a run of minutes, not after it
    if args.results:
        doc = _read_json(args.results)
    else:
        wanted = (baseline or {}).get("settings", {})
        customers = args.customers or wanted.get("customers", 2000)
        seed = args.seed if args.seed is not None else wanted.get("seed", 0)
        if baseline is not None:  # a run on other data could not be compared: say so before running it
            _check_settings(baseline, {"settings": {**wanted, "customers": customers, "seed": seed}})
        t0 = time.perf_counter()
        with progress_bar(STEPS, "benchmark", _progress(args)) as update:
            doc = run_suite(customers, seed, args.data, args.trees, args.depth, progress=update)
        doc |= {"payrisk": __version__, "python": platform.python_version()}
        doc["seconds"] = round(time.perf_counter() - t0, 1)
        if doc["skipped"]:
            _say(args, f"note: datasets not found under {args.data}: {', '.join(doc['skipped'])}")
    if args.out:
        _free(args, args.out)
        Path(args.out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        _say(args, f"benchmark written to {args.out}")
    elif baseline is None:
        print(json.dumps(doc, indent=2))
    if baseline is None:
        return 0
    _check_settings(baseline, doc)
    table = compare(baseline, doc)
    failed = table["status"].isin(["worse", "missing"])
    shown = table.assign(_order=table["status"].map({"worse": 0, "missing": 1, "better": 2, "ok": 3}))
    print(shown.sort_values(["_order", "metric"]).drop(columns="_order").to_string(index=False, float_format="%.4f"))
    if failed.any():
        names = ", ".join(table.loc[failed, "metric"])
        hint = " (missing metrics: pass --data with the real datasets)" if (table["status"] == "missing").any() else ""
        print(f"FAILED: {int(failed.sum())} of {len(table)} tracked metrics fell beyond tolerance: {names}{hint}")
        return 1
    print(f"passed: all {len(table)} tracked metrics within tolerance of {args.compare}")
    return 0


def _read_json(path: str) -> dict[str, Any]:
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ParameterError(f"{path} is not a JSON benchmark file ({exc}); write one with --out") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payrisk",
        description="Payment-risk modelling for credit management.",
        epilog="Examples:\n  " + "\n  ".join(EXAMPLES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or notes on stderr")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    parser.add_argument("--version", action="version", version=f"payrisk {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"Example:\n  {EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # SUPPRESS: given before the command (payrisk --quiet map ...), the subcommand's default must not undo it
        p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars or notes "
                       "on stderr")  # fmt: skip
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an "
                       "internal error")  # fmt: skip
        p.add_argument("--overwrite", action="store_true", help="write over an existing --out")
        return p

    def data_args(p: argparse.ArgumentParser, model: bool = True, fmt: bool = True) -> None:
        p.add_argument("data", help="folder of CSV or Parquet tables named after the tables (invoices.csv, ...), or "
                       "one CSV file (the invoices, unless the mapping's files name it for another table)")  # fmt: skip
        p.add_argument("--mapping", help="YAML or JSON column mapping {table: {your column: payrisk column}}")
        p.add_argument("--encoding", help="text encoding of the CSV files (default: read off the files)")
        if model:
            p.add_argument("--model", required=True, help="model folder written by `payrisk fit`")
            p.add_argument("--as-of", required=True, help="the date (YYYY-MM-DD) the ledger is read as of")
        if fmt:
            p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
            p.add_argument("--csv-dialect", choices=["standard", "excel-eu"], default="standard",
                           help="CSV files for Excel in Dutch/German/French settings: excel-eu (BOM, ';', decimal "
                           "comma); default standard")  # fmt: skip

    p = command("demo", "Run the whole chain on a synthetic world and write an HTML report.")
    p.add_argument("--out", default="payrisk_demo", help="output folder (default: payrisk_demo)")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fit-as-of", default="2024-09-30")
    p.add_argument("--as-of", default="2024-12-31")
    p.set_defaults(run=cmd_demo)

    p = command(
        "benchmark",
        "Run the model benchmarks out of time (synthetic world + real datasets) and write their metrics as JSON; "
        "with --compare, exit 1 when a tracked metric fell beyond its tolerance.",
    )
    p.add_argument("--suite", choices=["models"], default="models")
    p.add_argument("--out", help="JSON file to write (default: stdout, unless comparing)")
    p.add_argument("--compare", metavar="BASELINE", help="baseline JSON (e.g. benchmarks/baseline.json) to gate on")
    p.add_argument("--results", help="compare this results JSON instead of running the suite")
    p.add_argument("--data", default="../shared/data", help="folder of the real datasets (default: ../shared/data)")
    p.add_argument("--customers", type=int, help="synthetic customers (default: the baseline's, else 2000)")
    p.add_argument("--seed", type=int, help="synthetic seed (default: the baseline's, else 0)")
    p.add_argument("--trees", type=int, default=400, help="boosting rounds per model (default 400)")
    p.add_argument("--depth", type=int, default=4, help="tree depth (default 4)")
    p.set_defaults(run=cmd_benchmark)

    p = command("validate", "Validate a data folder: print the rejection report (and write it with --out).")
    data_args(p, model=False)
    p.add_argument("--out", help="write the rejected rows here (CSV unless --format says otherwise)")
    p.set_defaults(run=cmd_validate)

    p = command("fit", "Fit the risk engine as of a date and save it.")
    data_args(p, model=False, fmt=False)
    p.add_argument("--as-of", required=True, help="fit on what was known at the end of this date")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--trees", type=int, default=300, help="boosting rounds per model (default 300)")
    p.add_argument("--acceptance", action="store_true", help="also fit the acceptance model (for `payrisk accept`) "
                   "on the customers the ledger accepted")  # fmt: skip
    p.set_defaults(run=cmd_fit)

    p = command("accept", "Prospects or new customers: decision, credit limit, terms and reasons.")
    p.add_argument("prospects", help="the prospects' customers table (CSV, Excel or Parquet: customer_id, "
                   "legal_form, founded_date, size_band, acquisition_channel, sector, country, "
                   "requested_limit)")  # fmt: skip
    p.add_argument("--model", required=True, help="model folder written by `payrisk fit --acceptance`")
    p.add_argument("--ratings", help="their external scores or ratings (customer_id, valid_from, source, score)")
    p.add_argument("--as-of", help="the decision day (default: today); ratings published later are not read")
    p.add_argument("--appetite", type=float, default=500.0, help="expected loss accepted per customer and payment "
                   "cycle, in money (default 500)")  # fmt: skip
    p.add_argument("--lgd", type=float, default=0.5, help="share of the exposure lost in a problem (default 0.5)")
    p.add_argument("--terms-days", type=int, default=30, help="the payment cycle offered, in days (default 30)")
    p.add_argument("--register", choices=["collector", "customer"], default="collector",
                   help="reasons for the credit team (default) or words that may be said to the customer")  # fmt: skip
    p.add_argument("--mapping", help="YAML or JSON column mapping {table: {your column: payrisk column}}")
    p.add_argument("--encoding", help="text encoding of the CSV files (default: read off the files)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--csv-dialect", choices=["standard", "excel-eu"], default="standard")
    p.add_argument("--out", help="output file (default: stdout)")
    p.set_defaults(run=cmd_accept)

    p = command("map", "Propose a mapping file for exports: each file's table, columns, date formats, separators.")
    p.add_argument("files", nargs="+", help="the export files (CSV, Excel .xlsx or Parquet)")
    p.add_argument("--out", help="the mapping file to write (default: stdout)")
    p.add_argument("--encoding", help="text encoding of the files (default: read off the files)")
    p.set_defaults(run=cmd_map)

    p = command("serve", "Serve scores, worklist, plan, forecast and customer balances over HTTP, and take back "
                "promises, disputes, address changes and plan requests.")  # fmt: skip
    data_args(p, model=False, fmt=False)
    p.add_argument("--model", required=True, help="model folder written by `payrisk fit`")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--api-key-env", metavar="NAME", help="environment variable holding the API key clients send as "
                   "X-API-Key (every endpoint but /health needs it)")  # fmt: skip
    p.add_argument("--feedback", metavar="PATH_OR_URL", help="where reports are stored (default: the database of a "
                   "database URL, else payrisk_feedback.sqlite in the data folder)")  # fmt: skip
    p.add_argument("--policy", help="dunning policy file of /plan (default: the shipped policy)")
    p.set_defaults(run=cmd_serve)

    p = command("record", "Record the sent actions of a plan as contacts in the data folder (each once).")
    p.add_argument("data", help="the data folder the plan was made from")
    p.add_argument("--actions", required=True, help="the plan written by `payrisk plan` (CSV, JSON or Parquet)")
    p.add_argument("--mapping", help="the column mapping of the data folder (contacts are written in its names)")
    p.add_argument("--encoding", help="text encoding of the CSV files (default: read off the files)")
    p.set_defaults(run=cmd_record)

    for name, run, text in (
        ("score", cmd_score, "Score the open invoices: the worklist in order of priority, with reasons."),
        ("warn", cmd_warn, "The early warning: customers likely to become a problem within 90 days, with reasons."),
        ("forecast", cmd_forecast, "Forecast cash inflow per week with intervals and dry weeks."),
        ("plan", cmd_plan, "Plan today's dunning actions with a policy file (default: the shipped policy)."),
        ("limits", cmd_limits, "Credit limits in use: who is over or near its limit, whose limit to review."),
        ("report", cmd_report, "Write the HTML report: worklist, forecast, segments, model quality."),
    ):
        p = command(name, text)
        data_args(p, fmt=name != "report")
        p.add_argument("--out", required=name == "report", help="output file (default: stdout)")
        if name == "forecast":
            p.add_argument("--weeks", type=int, default=13)
        if name == "warn":
            p.add_argument("--all", action="store_true", help="every customer in business, not only the alerts")
            p.add_argument("--alert-level", type=float, help="alert from this P(a problem within 90 days) "
                           "(default: the model's alert_level, 0.3 unless fitted otherwise)")  # fmt: skip
        if name in ("plan", "report"):
            p.add_argument("--policy", help="dunning policy file (YAML or JSON)")
        if name in ("limits", "report"):
            p.add_argument("--appetite", type=float, default=500.0, help="expected loss accepted per customer and "
                           "payment cycle, for the recommended limits (default 500)")  # fmt: skip
            p.add_argument("--lgd", type=float, default=0.5, help="share of the exposure lost in a problem "
                           "(default 0.5)")  # fmt: skip
        if name == "limits":
            p.add_argument("--all", action="store_true", help="every customer with a limit or an open invoice, not "
                           "only those over or near the limit or to review")  # fmt: skip
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    import warnings

    from payrisk.errors import PayriskWarning

    def note(message: Any, category: Any, *_: Any, **__: Any) -> None:
        if not args.quiet:
            print(f"payrisk {args.command}: note: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", PayriskWarning)
            warnings.showwarning = note
            return args.run(args)
    except PayriskError as exc:
        print(f"payrisk {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"payrisk {args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not a finding: say so with exit code 3 (PAYRISK_DEBUG=1 shows the traceback)
        if args.debug or os.environ.get("PAYRISK_DEBUG"):
            raise
        print(
            f"payrisk {args.command}: internal error ({type(exc).__name__}: {exc}). This is a bug in payrisk, not "
            "in your data; run again with --debug for the traceback and report it to the payrisk maintainers "
            "with the command you ran.",
            file=sys.stderr,
        )
        return 3


def _version() -> str:
    from payrisk._version import __version__

    return __version__


def main_exit() -> None:
    """Console-script entry point (``payrisk``)."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    main_exit()
