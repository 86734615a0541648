"""The certificates area's settings (core.settings registry)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from trainer.core.settings import define, define_area

define_area("certificates", _l("Certificates"))
define("centre_name", "text", "客户服务中心", _l("The centre's name on certificates"),
       "certificates", order=60)
define("centre_name_en", "text", "Customer Service Centre",
       _l("The centre's name in English (under the Chinese)"), "certificates", order=61)
define("inservice_valid_months", "int", 12, _l("An in-service certificate is valid (months)"),
       "certificates", minimum=1, maximum=60, order=62)
define("expiring_days", "int", 60, _l("HR is told of certificates expiring within (days)"),
       "certificates", minimum=1, maximum=365, order=63)
# The seal image (a stored PNG), set on the certificates' own page where it is uploaded.
define("certificate_seal_file", "int", 0, _l("Seal"), "certificates", minimum=0,
       maximum=2**31 - 1, order=64, hidden=True)
