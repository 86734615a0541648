"""Training tracks, courses and lessons, enrolments driven by the staff record, progress."""
