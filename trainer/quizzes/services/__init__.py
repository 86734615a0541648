"""Quizzes: building, the timed attempt (start, autosave, submit, sweep), grading, practice and
the mistakes notebook. Services flush, never commit; the server owns the clock (`now=`).

One module per part, each using only those listed before it; callers import the names below
from this package:

- definitions: who may manage and take a quiz, building it, overrides, the review policy;
- errors: the refusals of the timed attempt;
- finishing: the submit, time-up, the sweep, grading, the notebook's entries;
- attempts: starting (the draw), what the pages read, saving answers;
- grades: the grade a quiz keeps;
- listing: a quiz's attempts page, read a page at a time;
- practice: locking answers, the notebook, practising mistakes;
- statistics: item analysis of an exam's kept attempts, and of a question across exams.
"""
from __future__ import annotations

from trainer.quizzes.grading import KeptGrade
from trainer.quizzes.models import Quiz
from trainer.quizzes.services.definitions import (
    DEFAULT_GRACE_S,
    BankWarning,
    QuizSettings,
    RuleSpec,
    assign_quiz,
    candidates_for,
    check_may_manage,
    check_may_read_results,
    check_rules,
    describe_rule,
    failing_banks,
    get_override,
    is_assigned,
    may_manage,
    may_read_results,
    recompute_deadlines,
    save_quiz,
    set_override,
    visibility,
    window,
)
from trainer.quizzes.services.errors import (
    MOVED_ON,
    AttemptClosed,
    QuestionClosed,
    StaleAnswer,
    TimeUp,
)
from trainer.quizzes.services.finishing import (
    collect_exam_mistakes,
    exam_mistakes_due,
    finalize_if_overdue,
    is_overdue,
    submit_attempt,
    sweep,
)
from trainer.quizzes.services.attempts import (
    ATTEMPT_PAGE,
    MAX_CHOICE_INDEX,
    OVERDUE_IN_PROGRESS,
    QUIZ_TO_TAKE,
    PreparedStart,
    Saved,
    StartInfo,
    attempts_of,
    begin_prepared,
    choice_order,
    chosen_from_shown,
    forget_choice_orders,
    get_own_attempt,
    in_progress,
    is_sequential,
    move_on,
    prepare_start,
    remembered_choice_order,
    save_answer,
    save_answer_for_login,
    start_attempt,
    start_info,
)

# Each worker's memory of the attempts' choice orders (the tests look into it).
from trainer.quizzes.services.attempts import _REMEMBERED_ORDERS  # noqa: F401
from trainer.quizzes.services.grades import (
    FINISHED_STATES,
    kept_attempts,
    kept_grade,
    kept_grade_among,
    kept_grades,
)
from trainer.quizzes.services.listing import (
    LiveAttempt,
    finished_attempts,
    kept_grades_page,
    live_attempts,
)
from trainer.quizzes.services.practice import (
    lock_answer,
    notebook,
    start_mistakes_practice,
)
from trainer.quizzes.services.statistics import (
    CurrentQuestion,
    QuestionAcrossQuizzes,
    QuizStatistics,
    question_statistics,
    quiz_statistics,
)

__all__ = [
    "KeptGrade",
    "LiveAttempt",
    "finished_attempts",
    "kept_grades_page",
    "live_attempts",
    "Quiz",
    "DEFAULT_GRACE_S",
    "BankWarning",
    "QuizSettings",
    "RuleSpec",
    "assign_quiz",
    "candidates_for",
    "check_may_manage",
    "check_may_read_results",
    "check_rules",
    "describe_rule",
    "failing_banks",
    "get_override",
    "is_assigned",
    "may_manage",
    "may_read_results",
    "recompute_deadlines",
    "save_quiz",
    "set_override",
    "visibility",
    "window",
    "MOVED_ON",
    "AttemptClosed",
    "QuestionClosed",
    "StaleAnswer",
    "TimeUp",
    "collect_exam_mistakes",
    "exam_mistakes_due",
    "finalize_if_overdue",
    "is_overdue",
    "submit_attempt",
    "sweep",
    "ATTEMPT_PAGE",
    "MAX_CHOICE_INDEX",
    "OVERDUE_IN_PROGRESS",
    "QUIZ_TO_TAKE",
    "PreparedStart",
    "Saved",
    "StartInfo",
    "attempts_of",
    "begin_prepared",
    "choice_order",
    "chosen_from_shown",
    "forget_choice_orders",
    "get_own_attempt",
    "in_progress",
    "is_sequential",
    "move_on",
    "prepare_start",
    "remembered_choice_order",
    "save_answer",
    "save_answer_for_login",
    "start_attempt",
    "start_info",
    "FINISHED_STATES",
    "kept_attempts",
    "kept_grade",
    "kept_grade_among",
    "kept_grades",
    "lock_answer",
    "notebook",
    "start_mistakes_practice",
    "CurrentQuestion",
    "QuestionAcrossQuizzes",
    "QuizStatistics",
    "question_statistics",
    "quiz_statistics",
]
