"""What attendance announces (certificates issue a 结业证书 when a class says so, and revoke it
when the completion is withdrawn)."""
from blinker import Namespace

_signals = Namespace()

# sender: the TrainingClass; keyword arguments: staff_id, now. Sent once per person.
class_completed = _signals.signal("class-completed")
# sender: the TrainingClass; keyword arguments: staff_id, now. A correction took the person
# below the class's completion share: the completion is withdrawn.
class_completion_withdrawn = _signals.signal("class-completion-withdrawn")
