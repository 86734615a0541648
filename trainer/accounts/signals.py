"""Signals other areas subscribe to (learning assigns tracks when staff events happen)."""
from blinker import Namespace

_signals = Namespace()

# Sent after a staff event is flushed: sender=the StaffEvent, kwargs: now (aware UTC).
staff_event_recorded = _signals.signal("staff-event-recorded")
