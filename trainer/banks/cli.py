"""`trainer banks import|export` commands."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import or_, select

from trainer.core.timeutil import utcnow


def _issue_dict(issue) -> dict:
    return {"line": issue.line, "kind": issue.kind, "message": issue.render(),
            "excerpt": issue.excerpt}


def register_cli(app: Flask) -> None:
    @app.cli.group("banks")
    def banks() -> None:
        """Question banks."""

    @banks.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--bank", "bank_name", help="Bank name or key (created when missing).")
    @click.option("--format", "fmt", default="auto",
                  type=click.Choice(["auto", "gift", "aiken", "paper", "xlsx", "csv",
                                     "moodlexml"]))
    @click.option("--dry-run", is_flag=True, help="Parse and report; save nothing.")
    @click.option("--skip-invalid", is_flag=True, help="Import the valid questions anyway.")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
    def import_command(file: Path, bank_name: str | None, fmt: str, dry_run: bool,
                       skip_invalid: bool, as_json: bool) -> None:
        """Import questions from FILE into a bank (all or nothing unless --skip-invalid)."""
        from trainer.banks import formats, services
        from trainer.banks.models import QuestionBank
        from trainer.core.db import db, write_intent

        now = utcnow()
        result = formats.parse_file(file.read_bytes(), file.name, fmt)
        name = bank_name or result.bank_name or file.stem
        report = {"file": str(file), "format": result.format, "encoding": result.encoding,
                  "bank": name, "questions": result.counts_by_type(),
                  "total": len(result.questions),
                  "errors": [_issue_dict(i) for i in result.errors],
                  "skipped": [_issue_dict(i) for i in result.skipped],
                  "unsupported": [_issue_dict(i) for i in result.unsupported],
                  "dry_run": dry_run, "imported": 0, "duplicates": 0}
        stopped = bool(result.errors) and not skip_invalid
        with write_intent():
            bank = db.session.scalar(select(QuestionBank).where(
                or_(QuestionBank.key == name, QuestionBank.name == name)))
            if bank is None and not dry_run and not stopped:
                bank = services.create_bank(None, name=name, now=now)
            if bank is not None:
                plan = services.plan_import(bank, result)
                report["duplicates"] = len(plan.duplicates) + len(plan.id_clashes)
                if not dry_run and not stopped:
                    outcome = services.import_questions(None, bank, plan,
                                                        skip_invalid=skip_invalid, now=now,
                                                        source=file.name)
                    report["imported"] = outcome.imported
            if dry_run or stopped:
                db.session.rollback()
            else:
                db.session.commit()
        report["stopped_by_errors"] = stopped
        if as_json:
            click.echo(json.dumps(report, ensure_ascii=False))
        else:
            counts = report["questions"]
            click.echo(f"{file.name}: {report['format']} ({report['encoding']}), "
                       f"{report['total']} questions (single {counts['single']}, multiple "
                       f"{counts['multiple']}, true/false {counts['truefalse']})")
            for kind in ("errors", "unsupported", "skipped"):
                for issue in report[kind]:
                    click.echo(f"  line {issue['line']}: {issue['kind']}: {issue['message']}"
                               f"  [{issue['excerpt']}]")
            if stopped:
                click.echo("Nothing imported: fix the errors or use --skip-invalid.")
            elif dry_run:
                click.echo("Dry run: nothing saved.")
            else:
                click.echo(f"Imported {report['imported']} into “{name}”; "
                           f"{report['duplicates']} already there were not doubled.")
        if stopped:
            sys.exit(1)

    @banks.command("export")
    @click.argument("bank_name")
    @click.option("--format", "fmt", default="gift",
                  type=click.Choice(["gift", "moodlexml", "xlsx"]))
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
    def export_command(bank_name: str, fmt: str, output: Path | None) -> None:
        """Export a bank's current questions."""
        from trainer.banks import services
        from trainer.banks.models import QuestionBank
        from trainer.core.db import db

        bank = db.session.scalar(select(QuestionBank).where(
            or_(QuestionBank.key == bank_name, QuestionBank.name == bank_name)))
        if bank is None:
            raise click.ClickException(f"No bank called {bank_name}")
        data, _mimetype, filename = services.export_bank(bank, fmt)
        if output is None and fmt == "xlsx":
            output = Path(filename)
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            output.write_bytes(data)
            click.echo(f"Wrote {output}")

    @banks.command("check")
    @click.argument("bank_name", required=False)
    @click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
    def check_command(bank_name: str | None, as_json: bool) -> None:
        """The bank health check (题库体检) of one bank (key or name) or of every bank.

        Exits 1 when a bank fails, 2 when no bank has that key or name."""
        from trainer.banks import health, services
        from trainer.banks.models import QuestionBank
        from trainer.banks.settings import giveaway_words
        from trainer.core.db import db

        query = select(QuestionBank).order_by(QuestionBank.key)
        if bank_name is not None:
            query = query.where(or_(QuestionBank.key == bank_name,
                                    QuestionBank.name == bank_name))
        banks = db.session.scalars(query).all()
        if bank_name is not None and not banks:
            click.echo(f"No bank has the key or name {bank_name!r}; "
                       "`trainer banks check` without a name checks every bank.", err=True)
            sys.exit(2)
        reports = services.check_health([bank.id for bank in banks], flags=True)
        failed = [bank for bank in banks if not reports[bank.id].passed]
        if as_json:
            click.echo(json.dumps({
                "passed": not failed, "giveaway_words": giveaway_words(),
                "banks": [{"key": bank.key, "name": bank.name,
                           **health.report_to_dict(reports[bank.id])} for bank in banks]},
                ensure_ascii=False))
        else:
            for bank in banks:
                for line in _health_lines(bank, reports[bank.id]):
                    click.echo(line)
            click.echo(f"Banks checked: {len(banks)}; failed: {len(failed)}"
                       + (f" ({', '.join(bank.key for bank in failed)})" if failed else ""))
        if failed:
            sys.exit(1)


def _health_lines(bank, report) -> list[str]:
    """The health check of one bank as plain lines (English, as the other commands)."""
    from trainer.banks import health

    def pct(value) -> str:
        return "n/a" if value is None else f"{health.percent(value):.1f} %"

    longest, giveaway, multiple = (report.rule(key) for key in health.RULES)
    counts = giveaway.counts
    shares = report.shares
    lines = [
        f"{bank.key} {bank.name}: "
        + ("passed" if report.passed else f"FAILED ({', '.join(report.failed_rules)})"),
        f"  longest-choice score: {pct(longest.figure)} over {longest.counts['questions']} "
        f"single-choice questions, the key strictly longest in "
        f"{longest.counts['key_strictly_longest']} (limit 30 %): {longest.verdict}",
        f"  giveaway words: false statements {pct(counts['false_rate'])} "
        f"({counts['false_with_words']}/{counts['false_statements']}), true "
        f"{pct(counts['true_rate'])} ({counts['true_with_words']}/{counts['true_statements']}), "
        f"gap {'n/a' if giveaway.figure is None else f'{health.percent(giveaway.figure):.1f}'}"
        f" points (limit 10): {giveaway.verdict}",
        f"  multiple choice with fewer than {health.MIN_WRONG_CHOICES} wrong choices: "
        f"{multiple.figure} of {multiple.counts['questions']}: {multiple.verdict}",
        f"  shares of {shares.total} questions: case {shares.case} "
        f"({pct(shares.share(shares.case))}); "
        + ", ".join(f"{t} {n}" for t, n in shares.by_type.items()) + "; "
        + ", ".join(f"difficulty {d} {n}" for d, n in shares.by_difficulty.items()),
        "  knowledge points: " + ", ".join(f"{path} {n} ({pct(shares.share(n))})"
                                          for path, n in shares.by_category.items()),
        f"  flagged questions: {len(report.flagged)}",
    ]
    for item in report.flagged:
        lines.append(f"    {item.question.label}: " + "; ".join(
            flag.kind + (f" ({', '.join(flag.detail)})" if flag.detail else "")
            for flag in item.flags))
    return lines
