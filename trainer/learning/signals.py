"""What learning announces, for the areas above it (certificates, records) to react to."""
from blinker import Namespace

_signals = Namespace()

# sender: the Enrolment; keyword arguments: course (Course), now (aware UTC)
course_completed = _signals.signal("course-completed")
# sender: the Enrolment; keyword argument: now. Sent once, when the track's last course is done.
track_completed = _signals.signal("track-completed")
