"""Signals of the quizzes area (learning subscribes: a passed quiz may complete a course)."""
from blinker import Namespace

_signals = Namespace()

# Sent after an attempt is graded: sender=the Attempt, kwargs: now.
attempt_finished = _signals.signal("attempt-finished")
