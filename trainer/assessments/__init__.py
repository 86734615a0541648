"""Practical assessments (实操考评): forms with points, critical items and a pass mark, written
by trainers; assessments of a person recorded by an assessor, acknowledged by the person.

Its own area (between learning and certificates, beside attendance) rather than part of
learning: an assessment is a record of its own — by another person, of observed work, with its
own acknowledgement and retake rules — that learning reads as a course requirement, as it reads
attendance, and that records and the evidence pack read; learning stays about tracks."""
