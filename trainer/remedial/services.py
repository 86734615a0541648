"""Remedial cases: the plan, the counselling talks and the overall evaluation.

Services flush and never commit; they take the actor and the clock as arguments and refuse with
a DomainError (or Forbidden) whose message the route translates. Who may do what:
- HR (and admins) run a case: name its assessor, write the plan, record talks and the evaluation;
- the assessor HR names on the enrolment writes the plan and records talks with the agent;
- the agent reads their case (not the talks' notes) and acknowledges the plan;
- a talk's notes are read by HR and by their writer only, and every such read is audited."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from trainer.accounts import services as accounts
from trainer.accounts.models import Position, StaffEvent, StaffMember
from trainer.accounts.rules import effective_events
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden, NotFound
from trainer.core.timeutil import local_date
from trainer.core.todos import add_todo, close_todos
from trainer.learning import services as learning
from trainer.learning.models import Enrolment, Track
from trainer.learning.remedial import Episode, earliest_reinstatement, episodes
from trainer.learning.rules import EventFact
from trainer.remedial import rules
from trainer.remedial.models import CounsellingTalk, RemedialEvaluation, RemedialPlan

MAX_TEXT = 4000
PLAN_TODO = "remedial.plan"


def _is_hr(actor: StaffMember) -> bool:
    return actor.has_role("hr") or actor.has_role("admin")


def may_run(actor: StaffMember) -> bool:
    return _is_hr(actor)


def may_counsel(actor: StaffMember, enrolment: Enrolment) -> bool:
    """HR, or the assessor named on the enrolment."""
    return _is_hr(actor) or (enrolment.assessor_id is not None
                             and actor.id == enrolment.assessor_id
                             and actor.has_role("assessor"))


def may_view(actor: StaffMember, enrolment: Enrolment) -> bool:
    return may_counsel(actor, enrolment) or actor.id == enrolment.staff_id


def may_read_notes(actor: StaffMember, talk: CounsellingTalk) -> bool:
    return _is_hr(actor) or (talk.written_by_id is not None and actor.id == talk.written_by_id)


def get_case_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = db.session.scalar(select(Enrolment).join(Track).where(
        Enrolment.id == enrolment_id, Track.key == "remedial"))
    if enrolment is None:
        raise NotFound("No such remedial case.")
    return enrolment


@dataclass
class Case:
    """One remedial enrolment and everything recorded about it, as a page or the evidence pack
    reads it."""

    enrolment: Enrolment
    person: StaffMember
    stand_down: StaffEvent | None
    plans: list[RemedialPlan]
    talks: list[CounsellingTalk]
    evaluations: list[RemedialEvaluation]
    episode: Episode | None
    stood_down_on: date          # the stand-down's day (the assignment's, were it voided)
    earliest: date
    first_due_on: date
    assessor: StaffMember | None = None

    @property
    def plan(self) -> RemedialPlan | None:
        return self.plans[-1] if self.plans else None

    @property
    def final(self) -> RemedialEvaluation | None:
        return next((e for e in self.evaluations if e.outcome != "extended"), None)

    @property
    def ended(self) -> bool:
        return self.final is not None or self.enrolment.state in ("waived",)

    def six_months(self, today: date) -> bool:
        return self.episode is not None and self.episode.flagged(today)


def _episode_of(person: StaffMember, event: StaffEvent | None) -> Episode | None:
    if event is None:
        return None
    facts = [EventFact(e.id, e.kind, e.occurred_on, e.position)
             for e in effective_events(person.events)]
    return next((ep for ep in episodes(facts)
                 if any(s.stood_down.id == event.id for s in ep.spells)), None)


def case(enrolment: Enrolment) -> Case:
    person = db.session.get(StaffMember, enrolment.staff_id)
    event = (db.session.get(StaffEvent, enrolment.source_event_id)
             if enrolment.source_event_id else None)
    plans = list(db.session.scalars(select(RemedialPlan).where(
        RemedialPlan.enrolment_id == enrolment.id).order_by(RemedialPlan.number)))
    talks = list(db.session.scalars(select(CounsellingTalk).where(
        CounsellingTalk.enrolment_id == enrolment.id).order_by(CounsellingTalk.held_on,
                                                               CounsellingTalk.id)))
    evaluations = list(db.session.scalars(select(RemedialEvaluation).where(
        RemedialEvaluation.enrolment_id == enrolment.id).order_by(RemedialEvaluation.decided_on,
                                                                  RemedialEvaluation.id)))
    # Half the period as first set: an extension does not move the earliest reinstatement.
    first_due = evaluations[0].previous_due_on if evaluations else enrolment.due_on
    start = event.occurred_on if event else local_date(enrolment.assigned_at, None)
    return Case(enrolment=enrolment, person=person, stand_down=event, plans=plans, talks=talks,
                evaluations=evaluations, episode=_episode_of(person, event), stood_down_on=start,
                earliest=earliest_reinstatement(start, first_due), first_due_on=first_due,
                assessor=db.session.get(StaffMember, enrolment.assessor_id)
                if enrolment.assessor_id else None)


def open_cases() -> list[Case]:
    """Every remedial case whose evaluation is not final, oldest stand-down first."""
    rows = db.session.scalars(select(Enrolment).join(Track).where(
        Track.key == "remedial", Enrolment.state != "waived").order_by(Enrolment.assigned_at))
    found = [case(e) for e in rows]
    return [c for c in found if not c.ended]


def cases_of(staff_id: int) -> list[Case]:
    rows = db.session.scalars(select(Enrolment).join(Track).where(
        Track.key == "remedial", Enrolment.staff_id == staff_id).order_by(Enrolment.assigned_at))
    return [case(e) for e in rows]


def _check_text(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise DomainError("A text of a remedial case is at most 4,000 characters.")
    return text


def name_assessor(actor: StaffMember, enrolment: Enrolment, assessor: StaffMember | None, *,
                  now: datetime) -> None:
    if not may_run(actor):
        raise Forbidden("Only HR runs a remedial case.")
    if assessor is not None:
        if not assessor.has_role("assessor") or assessor.status == "left":
            raise DomainError("%(name)s is not an assessor: HR grants the role first.",
                              name=assessor.name)
        if assessor.id == enrolment.staff_id:
            raise DomainError("Nobody is named on their own remedial case.")
    enrolment.assessor_id = assessor.id if assessor else None
    record_event(actor.id, "remedial.assessor_named", "enrolment", enrolment.id, now=now,
                 details={"staff": enrolment.staff_id,
                          "assessor": assessor.id if assessor else None})
    db.session.flush()


def write_plan(actor: StaffMember, enrolment: Enrolment, *, goals: str, schedule: str,
               review_on: date, today: date, now: datetime) -> RemedialPlan:
    """Write the plan, or revise it: a plan the agent has not yet acknowledged is corrected in
    place; an acknowledged one stays as it was and the revision is a new number to acknowledge."""
    if not may_counsel(actor, enrolment):
        raise Forbidden("Only HR or the case's assessor writes the plan.")
    current = case(enrolment)
    if current.ended:
        raise DomainError("This remedial case has ended: its evaluation is recorded.")
    goals = _check_text(goals)
    schedule = _check_text(schedule)
    if not goals:
        raise DomainError("Write the plan's goals: what the agent must be able to do again.")
    if review_on < current.stood_down_on:
        raise DomainError("The evaluation cannot be planned before the stand-down (%(day)s).",
                          day=current.stood_down_on.isoformat())
    plan = current.plan
    if plan is None or plan.acknowledged_at is not None:
        plan = RemedialPlan(enrolment_id=enrolment.id,
                            number=(plan.number + 1) if plan else 1,
                            goals=goals, schedule=schedule, review_on=review_on,
                            written_at=now, written_by_id=actor.id)
        db.session.add(plan)
    else:
        plan.goals, plan.schedule, plan.review_on = goals, schedule, review_on
        plan.written_at, plan.written_by_id = now, actor.id
    db.session.flush()
    close_todos(enrolment.staff_id, PLAN_TODO, None, now=now)
    add_todo(enrolment.staff_id, PLAN_TODO, plan.id, now=now,
             params={"enrolment": enrolment.id})
    record_event(actor.id, "remedial.plan_written", "enrolment", enrolment.id, now=now,
                 details={"staff": enrolment.staff_id, "plan": plan.id, "number": plan.number,
                          "review_on": review_on.isoformat()})
    return plan


def acknowledge_plan(actor: StaffMember, plan: RemedialPlan, *, comment: str,
                     now: datetime) -> None:
    """The agent confirms they have read the plan (确认知悉: not that they agree), with a
    comment if they wish. Once per plan."""
    enrolment = db.session.get(Enrolment, plan.enrolment_id)
    if actor.id != enrolment.staff_id:
        raise Forbidden("Only the person the plan is for acknowledges it.")
    if plan.acknowledged_at is not None:
        raise DomainError("You have already acknowledged this plan.")
    latest = case(enrolment).plan
    if latest is not None and latest.id != plan.id:
        raise DomainError("This plan was revised: acknowledge the current one.")
    plan.acknowledged_at, plan.agent_comment = now, _check_text(comment)
    close_todos(actor.id, PLAN_TODO, plan.id, now=now)
    record_event(actor.id, "remedial.plan_acknowledged", "enrolment", enrolment.id, now=now,
                 details={"staff": actor.id, "plan": plan.id,
                          "commented": bool(plan.agent_comment)})
    db.session.flush()


def record_talk(actor: StaffMember, enrolment: Enrolment, *, held_on: date, counsellor: str,
                notes: str, today: date, now: datetime) -> CounsellingTalk:
    if not may_counsel(actor, enrolment):
        raise Forbidden("Only HR or the case's assessor records counselling talks.")
    current = case(enrolment)
    if held_on > today:
        raise DomainError("A talk is recorded once it has taken place: %(day)s is in the "
                          "future.", day=held_on.isoformat())
    if held_on < current.stood_down_on:
        raise DomainError("A talk of this case cannot be dated before the stand-down "
                          "(%(day)s).", day=current.stood_down_on.isoformat())
    counsellor = counsellor.strip() or actor.name
    if len(counsellor) > 80:
        raise DomainError("Who held the talk: at most 80 characters.")
    talk = CounsellingTalk(enrolment_id=enrolment.id, held_on=held_on, counsellor=counsellor,
                           notes=_check_text(notes), written_at=now,
                           written_by_id=actor.id)
    db.session.add(talk)
    db.session.flush()
    # The audit trail names the talk, never its notes.
    record_event(actor.id, "remedial.talk_recorded", "enrolment", enrolment.id, now=now,
                 details={"staff": enrolment.staff_id, "talk": talk.id,
                          "on": held_on.isoformat()})
    return talk


def read_talk_notes(actor: StaffMember, talk: CounsellingTalk, *, now: datetime) -> str:
    """A talk's notes, for HR or their writer; the read is audited (who, which talk, when)."""
    if not may_read_notes(actor, talk):
        raise Forbidden("Counselling notes are read only by HR and by whoever wrote them.")
    enrolment = db.session.get(Enrolment, talk.enrolment_id)
    record_event(actor.id, "remedial.talk_read", "enrolment", enrolment.id, now=now,
                 details={"staff": enrolment.staff_id, "talk": talk.id})
    db.session.flush()
    return talk.notes


def evaluate(actor: StaffMember, enrolment: Enrolment, *, outcome: str, decided_on: date,
             notes: str, today: date, now: datetime, new_due_on: date | None = None,
             position_id: int | None = None) -> RemedialEvaluation:
    """Record the overall evaluation (HR). Reinstated: a reinstatement on the staff record.
    A lower post: a position change to it, then a reinstatement (the stand-down ends at the
    new post, without transfer training: the evaluation is the record), and the training ends
    as not passed. Extended: a new due date; the case goes on."""
    if not may_run(actor):
        raise Forbidden("Only HR records the overall evaluation.")
    current = case(enrolment)
    position = db.session.get(Position, position_id) if position_id else None
    if position is not None and not position.active:
        position = None
    facts = rules.CaseFacts(
        stood_down_on=current.stood_down_on, due_on=enrolment.due_on, earliest=current.earliest,
        ended=current.ended or current.stand_down is None or (
            current.episode is not None and current.episode.ended_on is not None),
        has_plan=current.plan is not None, talks=len(current.talks),
        training_done=enrolment.state == "completed")
    refused = rules.refusal(facts, outcome=outcome, decided_on=decided_on, today=today,
                            new_due_on=new_due_on, position=position.name if position else "")
    if refused is not None:
        code, params = refused
        raise DomainError(rules.REFUSALS[code],
                          **{k: v.isoformat() for k, v in params.items()})
    evaluation = RemedialEvaluation(
        enrolment_id=enrolment.id, outcome=outcome, decided_on=decided_on,
        notes=_check_text(notes), previous_due_on=enrolment.due_on,
        new_due_on=new_due_on if outcome == "extended" else None,
        position=position.name if outcome == "lower_post" and position else "",
        decided_by_id=actor.id, recorded_at=now)
    db.session.add(evaluation)
    person = current.person
    if outcome == "extended":
        learning.extend_due(actor, enrolment, new_due_on, now=now)
    else:
        if outcome == "lower_post":
            change = accounts.record_staff_event(
                actor, person, kind="position_change", occurred_on=decided_on, now=now,
                today=today, position=position, note="待岗综合评价：降岗", reason="remedial")
            evaluation.position_event_id = change.id
            if enrolment.is_open:
                enrolment.state, enrolment.completed_at = "not_passed", now
        back = accounts.record_staff_event(actor, person, kind="reinstated",
                                           occurred_on=decided_on, now=now, today=today,
                                           note="待岗综合评价")
        evaluation.reinstated_event_id = back.id
    db.session.flush()
    record_event(actor.id, "remedial.evaluated", "enrolment", enrolment.id, now=now,
                 details={"staff": person.id, "outcome": outcome, "on": decided_on.isoformat(),
                          **({"due": new_due_on.isoformat()} if outcome == "extended" else {}),
                          **({"position": evaluation.position} if evaluation.position else {})})
    return evaluation


def assessor_choices() -> list[StaffMember]:
    """People who hold the assessor role and have not left, by name."""
    from trainer.accounts.models import StaffRole

    return list(db.session.scalars(select(StaffMember).join(StaffRole).where(
        StaffRole.role == "assessor", StaffMember.status != "left").order_by(StaffMember.name)))


def cases_for_assessor(assessor_id: int) -> list[Case]:
    rows = db.session.scalars(select(Enrolment).join(Track).where(
        Track.key == "remedial", Enrolment.assessor_id == assessor_id))
    return [c for c in (case(e) for e in rows) if not c.ended]
