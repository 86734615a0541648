"""What attendance adds to the areas below it, once, when the app is created: the classroom
requirement kind of learning's courses."""
from __future__ import annotations


def connect() -> None:
    from trainer.attendance.requirements import register

    register()
