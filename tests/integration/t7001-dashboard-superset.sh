#!/usr/bin/env bash
# The Superset dashboard (scripts/dashboard, docs/dashboard.md) as a person
# sees it, in headless Chromium:
#   - the files of scripts/superset/assets import cleanly into a fresh
#     Superset (new metadata in a temporary folder);
#   - with the demo running (scripts/demo, which finds the dashboard up and
#     prints its URL), every chart renders without an error and the revenue
#     chart's latest minute moves between two automatic refreshes;
#   - with the workload stopped, each chart's data from Superset's chart
#     data API equals the SQL it ran, run directly on ClickHouse; the
#     screenshot is kept in CDC_STACK_DIR/artifacts/t7001-dashboard.png;
#   - a Superset already set up starts again in seconds.
. "$(dirname "$0")/lib.sh"
need_stack

STACK=$CDC_STACK_DIR
DEPS=${CDC_DEPS_DIR:-$ROOT/.deps}
VENV=$DEPS/superset-$(sed -n 's/^apache_superset==//p' "$ROOT/scripts/superset/requirements.txt")
if [ ! -x "$VENV/bin/python" ] || [ ! -x /usr/bin/chromium ] ||
    [ ! -x /usr/bin/chromedriver ]; then
	if [ "${CI:-}" = true ]; then
		t_fail setup "no Superset venv in $VENV or no chromium/chromedriver: run scripts/deps"
		exit 1
	fi
	t_skip setup "no Superset venv in $VENV or no chromium: run scripts/deps"
	exit 0
fi

# The test stops the dashboard at the end only if it was not running.
if "$ROOT/scripts/dashboard" status >/dev/null 2>&1; then
	trap 'rm -rf "$T"' EXIT
else
	trap '"$ROOT/scripts/dashboard" down >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
fi

# A fresh Superset: schema, roles, admin and every asset, in $T/fresh.
rc=0
CDC_DASHBOARD_DIR=$T/fresh "$ROOT/scripts/dashboard" setup >"$T/fresh.out" 2>&1 || rc=$?
counts=$(python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(*[c.execute("SELECT count(*) FROM " + t).fetchone()[0]
        for t in ("dbs", "tables", "slices", "dashboards")])' \
    "$T/fresh/superset.db" 2>&1) || true
if [ "$rc" -eq 0 ] && [ "$counts" = "1 5 6 1" ] &&
    ! grep -q -i 'traceback' "$T/fresh/setup.log"; then
	t_ok "the assets import into a fresh Superset: 1 database, 5 datasets, 6 charts, 1 dashboard"
else
	t_fail "fresh import" "exit $rc, counts '$counts': $(tail -n 3 "$T/fresh.out" | tr '\n' ' ')"
fi

check "scripts/dashboard up" "$ROOT/scripts/dashboard" up
base=$("$ROOT/scripts/dashboard" url)
base=${base%/superset/dashboard/shop/}

# The demo, for about 45 s; it finds the dashboard up and leaves it up.
# An earlier demo's tables (t0003's) go first, so that the rows counted
# below are this run's, not ones the demo is about to drop.
curl -sS "$CDC_CLICKHOUSE_URL" --data-binary "DROP DATABASE IF EXISTS shop" >/dev/null
(cd "$ROOT" && DEMO_SECONDS=45 DEMO_RATE=50 scripts/demo) >"$T/demo.out" 2>&1 &
demo=$!
# Orders streaming: the view has more than the 5000 initial ones.
n=0
for _ in $(seq 90); do
	n=$(curl -sS "$CDC_CLICKHOUSE_URL" --data-binary \
	    "SELECT count() FROM shop.orders_current" 2>/dev/null | head -n 1)
	case $n in '' | *[!0-9]*) n=0 ;; esac
	[ "$n" -gt 5000 ] && break
	sleep 1
done
check_eq "the demo streams orders into ClickHouse" "$([ "$n" -gt 5000 ] && echo yes)" yes

py() {
	"$VENV/bin/python" "$ROOT/tests/integration/dashboard_browser.py" \
	    --base "$base" --password-file "$STACK/superset/admin-password" \
	    --clickhouse "$CDC_CLICKHOUSE_URL" "$@"
}
py --phase live 2>"$T/live.err" || t_fail "browser, live" "$(tail -n 3 "$T/live.err" | tr '\n' ' ')"

rc=0
wait "$demo" || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^.*dashboard: http://127.0.0.1:.*password in' "$T/demo.out"; then
	t_ok "scripts/demo printed the dashboard's URL and login, exit 0"
else
	t_fail "scripts/demo" "exit $rc: $(grep -i -m 3 'dashboard\|error' "$T/demo.out" | tr '\n' ' ')"
fi

mkdir -p "$STACK/artifacts"
shot=$STACK/artifacts/t7001-dashboard.png
rm -f "$shot"
py --phase final --screenshot "$shot" 2>"$T/final.err" ||
    t_fail "browser, final" "$(tail -n 3 "$T/final.err" | tr '\n' ' ')"
if [ -s "$shot" ]; then
	t_ok "screenshot kept: $shot"
	echo "# screenshot: $shot" >&2
else
	t_fail screenshot "no $shot"
fi

# A later start: metadata set up, so only the server starts.
"$ROOT/scripts/dashboard" down >/dev/null 2>&1
t0=$SECONDS
check "scripts/dashboard up again" "$ROOT/scripts/dashboard" up
took=$((SECONDS - t0))
if [ "$took" -le 30 ]; then
	t_ok "a Superset already set up answers in ${took}s"
else
	t_fail "restart" "took ${took}s (want 30 at most)"
fi
