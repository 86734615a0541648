"""Unbound extension objects; create_app binds them."""
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate

from trainer.core.csrf import TrainerCSRFProtect
from trainer.core.db import db

login_manager = LoginManager()
csrf = TrainerCSRFProtect()
babel = Babel()
migrate = Migrate()
bootstrap = Bootstrap5()
# Limits are declared on the routes that need them (failed logins); nothing is limited by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

__all__ = ["db", "login_manager", "csrf", "babel", "migrate", "bootstrap", "limiter"]
