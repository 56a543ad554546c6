# Shared helpers for integration tests; sourced by tests/integration/t*.sh.
#
# Each check prints one line that tests/run counts:
#   ok NAME | not ok NAME: WHY | skip NAME: WHY
# A script that exits non-zero after its checks counts as one more failure.
#
# Ports: a test's private servers listen below 32768, outside Linux's
# ephemeral range (32768-60999): a port that an outgoing connection of
# another test holds at that moment cannot be bound (t5002's registry once
# failed so). Taken: 23xxx/28xxx/29xxx (t0006, t2003), 24306 and 29123-30093
# (t5001), 25306 and 30123-31095 (t5002), 26131-26181 (t4007), 27000-27124
# (t4004), 22201-22213 (t5004).
set -eu

# A test that sets ENGINES (e.g. "18.16 current") before sourcing this file
# runs once per ClickHouse engine of scripts/stack: ClickHouse 18.16
# (CDC_CLICKHOUSE_URL) and the current one (CDC_CLICKHOUSE_CURRENT_URL,
# chdb behind tests/tools/chdb_http.py). Each run's check names end in
# [ENGINE], and $ENGINE says which one is running.
if [ -n "${ENGINES:-}" ] && [ -z "${CDC_TEST_ENGINE:-}" ]; then
	_rc=0
	for _e in $ENGINES; do
		CDC_TEST_ENGINE=$_e bash "$0" "$@" || _rc=1
	done
	exit "$_rc"
fi
ENGINE=${CDC_TEST_ENGINE:-18.16}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CDC_BIN:-$ROOT/bin}
# The recorded binlogs the tests read, carried by the repository (SOURCES.md
# there says where each came from).
FIX=${CDC_FIXTURES:-$ROOT/tests/fixtures/binlog}
T=$(mktemp -d "${TMPDIR:-/tmp}/cdc-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
TNAME=$(basename "$0" .sh)${ENGINES:+[$ENGINE]}

t_ok() { printf 'ok %s: %s\n' "$TNAME" "$1"; }
# tests/run shows only "not ok" lines, so a reason stays on one line.
t_fail() {
	printf 'not ok %s: %s: %s\n' "$TNAME" "$1" \
	    "$(printf '%s' "${2:-}" | tr '\n' ' ')"
}
t_skip() { printf 'skip %s: %s: %s\n' "$TNAME" "$1" "${2:-}"; }

# check NAME CMD...: ok when CMD exits 0.
check() {
	local name=$1 rc=0
	shift
	"$@" >"$T/check.out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		t_ok "$name"
	else
		t_fail "$name" "exit $rc: $(tail -n 3 "$T/check.out" | tr '\n' ' ')"
	fi
}

# check_rc NAME WANT CMD...: ok when CMD exits WANT.
check_rc() {
	local name=$1 want=$2 rc=0
	shift 2
	"$@" >"$T/check.out" 2>&1 || rc=$?
	if [ "$rc" -eq "$want" ]; then
		t_ok "$name"
	else
		t_fail "$name" "exit $rc, want $want: $(tail -n 3 "$T/check.out" | tr '\n' ' ')"
	fi
}

# check_fails NAME WANT TEXT CMD...: ok when CMD exits WANT saying TEXT.
check_fails() {
	local name=$1 want=$2 text=$3 rc=0
	shift 3
	"$@" >"$T/check.out" 2>&1 || rc=$?
	if [ "$rc" -eq "$want" ] && grep -qF -- "$text" "$T/check.out"; then
		t_ok "$name: exit $want"
	else
		t_fail "$name" "exit $rc, want $want saying '$text': $(tail -n 2 "$T/check.out" | tr '\n' ' ')"
	fi
}

# binlog_files FIRST LAST: the local server's binlog files from FIRST up to,
# not including, LAST (names as SHOW MASTER STATUS gives them), one a line.
binlog_files() {
	local n=$((10#${1##*.})) suffix=${2##*.}
	while [ "$n" -lt "$((10#$suffix))" ]; do
		printf '%s/%s.%0*d\n' "$CDC_MYSQL_BINLOG_DIR" "${1%.*}" "${#suffix}" "$n"
		n=$((n + 1))
	done
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		t_ok "$1"
	else
		t_fail "$1" "got '$2', want '$3'"
	fi
}

# need_fixture PATH: the repository carries its fixtures, so one that is
# missing is a failure, never a skip.
need_fixture() {
	if [ ! -e "$1" ]; then
		t_fail fixtures "$1 is missing (the repository's tests/fixtures)"
		exit 1
	fi
}

# need_stack: configure the environment from scripts/stack; with CI=true a
# stack that is not up is a failure, otherwise the script's checks are skipped.
need_stack() {
	if ! "$ROOT/scripts/stack" status >/dev/null 2>&1; then
		if [ "${CI:-}" = true ]; then
			t_fail stack "scripts/stack is not up"
			exit 1
		fi
		t_skip stack "scripts/stack is not up (run scripts/stack up)"
		exit 0
	fi
	eval "$("$ROOT/scripts/stack" env)"
	[ -n "${ENGINES:-}" ] && need_engine
	return 0
}

# need_engine: point CDC_CLICKHOUSE_URL (what chload and the checks use) at
# $ENGINE's server, and set CH_VERSION to what it says it is.
need_engine() {
	case $ENGINE in
	18.16) ;;
	current) export CDC_CLICKHOUSE_URL=$CDC_CLICKHOUSE_CURRENT_URL ;;
	*) t_fail engine "unknown engine '$ENGINE'"; exit 1 ;;
	esac
	CH_VERSION=$(curl -sS --max-time 10 --fail-with-body \
	    "${CDC_CLICKHOUSE_URL}?query=SELECT%20version()%20FORMAT%20TSVRaw" 2>&1) ||
	    CH_VERSION=
	case $CH_VERSION in
	[0-9]*) ;;
	*)
		t_fail engine "ClickHouse $ENGINE at $CDC_CLICKHOUSE_URL does not answer: $CH_VERSION"
		exit 1
		;;
	esac
}

# on ENGINE: true when this run is on ENGINE.
on() { [ "$ENGINE" = "$1" ]; }
