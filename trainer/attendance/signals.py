"""What attendance announces (certificates issue a 结业证书 when a class says so)."""
from blinker import Namespace

_signals = Namespace()

# sender: the TrainingClass; keyword arguments: staff_id, now. Sent once per person.
class_completed = _signals.signal("class-completed")
