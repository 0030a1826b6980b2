"""Superset's configuration for the marts (loaded through SUPERSET_CONFIG_PATH).

Everything comes from the environment `omni bi` (or compose) sets: the metadata database,
the secret key, where Superset keeps its files. Nothing secret is written here."""

import os

_HOME = os.environ.get("OMNI_BI_HOME", os.path.join(os.getcwd(), ".local", "bi"))

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
# Superset's own metadata (users, charts, dashboards): SQLite under .local/bi by default,
# PostgreSQL in compose
SQLALCHEMY_DATABASE_URI = os.environ.get(
    "SUPERSET_METADATA_URL", "sqlite:///" + os.path.join(_HOME, "superset.db")
)
DATA_DIR = os.path.join(_HOME, "data")

# a BI tool on the marts: no example data, no uploads into the warehouse
SUPERSET_LOAD_EXAMPLES = False
FEATURE_FLAGS = {"DASHBOARD_RBAC": False, "ALERT_REPORTS": False}
CSV_EXTENSIONS: set = set()
EXCEL_EXTENSIONS: set = set()
COLUMNAR_EXTENSIONS: set = set()

# served on 127.0.0.1 by `omni bi serve` (behind a proxy in production): the proxy sets
# the security headers; the login is rate limited in memory (one process)
TALISMAN_ENABLED = os.environ.get("OMNI_BI_TALISMAN", "false") == "true"
RATELIMIT_STORAGE_URI = "memory://"
ENABLE_PROXY_FIX = os.environ.get("OMNI_BI_BEHIND_PROXY", "false") == "true"

# charts read current marts: a short cache, so a dashboard after a transform shows it
CACHE_DEFAULT_TIMEOUT = 60
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}

# quiet unless asked: warnings and errors only (OMNI_BI_LOG_LEVEL=INFO for more)
LOG_LEVEL = os.environ.get("OMNI_BI_LOG_LEVEL", "WARNING")

# no usage statistics leave the machine
SCARF_ANALYTICS = False
CONTENT_SECURITY_POLICY_WARNING = False
