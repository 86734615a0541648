"""What certificates do when the areas below announce something: a completed track or class
issues its certificate (the row and its snapshot, in the same transaction; the PDF comes later);
a class completion withdrawn by a correction revokes its 结业证书.
Connected once, when the app is created, so the sweep and commands issue them too."""
from __future__ import annotations


def _on_track_completed(enrolment, now):
    from trainer.certificates.services import issue_for_enrolment

    issue_for_enrolment(enrolment, now=now)


def _on_class_completed(cls, staff_id, now):
    from trainer.certificates.services import issue_for_class

    issue_for_class(cls, staff_id, now=now)


def _on_class_completion_withdrawn(cls, staff_id, now):
    from trainer.certificates.services import revoke_for_withdrawn_completion

    revoke_for_withdrawn_completion(cls, staff_id, now=now)


def connect() -> None:
    from trainer.attendance.signals import class_completed, class_completion_withdrawn
    from trainer.learning.signals import track_completed

    track_completed.connect(_on_track_completed, weak=False)
    class_completed.connect(_on_class_completed, weak=False)
    class_completion_withdrawn.connect(_on_class_completion_withdrawn, weak=False)
