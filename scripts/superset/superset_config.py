# Superset's settings for the project's dashboard (scripts/dashboard sets
# SUPERSET_CONFIG_PATH to this file). Everything that changes per machine
# comes from CDC_SUPERSET_STATE, the folder scripts/dashboard keeps under the
# stack's state folder: the SQLite metadata and the generated secret key,
# which is read from a file so that it is never in the repository, a
# command line or a log.
import os

_state = os.environ["CDC_SUPERSET_STATE"]

with open(os.path.join(_state, "secret_key"), encoding="ascii") as _f:
    SECRET_KEY = _f.read().strip()

SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(_state, "superset.db")
DATA_DIR = _state
# Loopback only, one user: Flask-Limiter's in-memory store is enough and
# keeps it from warning at every start.
RATELIMIT_STORAGE_URI = "memory://"
# Relative time ranges ("Last day") end now, not at midnight, so a chart
# of the last day shows the orders of the last minutes.
DEFAULT_RELATIVE_START_TIME = "now"
DEFAULT_RELATIVE_END_TIME = "now"
# No result cache: every 10-second refresh asks ClickHouse again.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
WTF_CSRF_ENABLED = True
SUPERSET_WEBSERVER_TIMEOUT = 60
LOG_LEVEL = "WARNING"


def _keep_clickhouse_time_grains():
    """Superset 6.1 passes chart SQL through sqlglot, whose ClickHouse
    dialect reads toStartOfMinute(x) and friends as a generic timestamp
    truncation and writes it back as dateTrunc('minute', x). ClickHouse
    18.16 has no dateTrunc (current servers have both), so every chart with
    a time grain failed there. Without these entries sqlglot keeps the calls
    as they were written, which every ClickHouse version runs."""
    from sqlglot.dialects.clickhouse import ClickHouse

    for name in list(ClickHouse.Parser.FUNCTIONS):
        if name.startswith("TOSTARTOF"):
            del ClickHouse.Parser.FUNCTIONS[name]


_keep_clickhouse_time_grains()
