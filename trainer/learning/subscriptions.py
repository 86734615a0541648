"""What learning does when the areas below it announce something. Connected once, when the app
is created (not with the routes), so commands and services see it too."""
from __future__ import annotations


def _on_staff_event(event, now):
    from trainer.learning import services

    return services.on_staff_event(event, now)


def _on_attempt_finished(attempt, now):
    from trainer.learning import schedules, services

    services.on_attempt_finished(attempt, now)
    schedules.on_attempt_finished(attempt, now)


def connect() -> None:
    from trainer.accounts.signals import staff_event_recorded
    from trainer.quizzes.signals import attempt_finished

    # (blinker keeps one connection per receiver, so connecting again changes nothing.)
    staff_event_recorded.connect(_on_staff_event, weak=False)
    attempt_finished.connect(_on_attempt_finished, weak=False)
