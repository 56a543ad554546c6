#!/usr/bin/env bash
# binlog2avro --start at a GTID set, against the local MariaDB (the stack
# has no MySQL server): a MySQL set is parsed (as MySQL prints it, over
# several lines) and refused up front on MariaDB, naming MariaDB's own
# form; malformed sets are usage errors before any connection; a commit
# mark's binlog:FILE:POS;gtid=<MySQL set> starts at its exact file
# position; a MariaDB GTID list starts replication where it says; a GTID or
# a binlog the server does not have ends the run with the server's reason
# in one line (exit 65). The MySQL COM_BINLOG_DUMP_GTID path itself is
# covered by tests/unit/test_binlog2avro_gtid.c only.
. "$(dirname "$0")/lib.sh"
need_stack
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
DB=t1g_$$
my() { mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" "$@"; }
trap 'my -e "DROP DATABASE IF EXISTS $DB" 2>/dev/null; rm -rf "$T"' EXIT
B2A=$BIN/binlog2avro
U=3e11fa47-71ca-11e1-9e33-c80aa9429562

# run ARGS...: binlog2avro replicating with ARGS; stdout in $T/out, stderr
# in $T/err, exit code in $rc.
run() {
	rc=0
	timeout 60 "$B2A" --include "$DB.*" --server-id 9401 --snapshot=never \
		"$@" >"$T/out" 2>"$T/err" || rc=$?
}
err() { tr '\n' ' ' <"$T/err" | cut -c1-400; }
# expect NAME RC TEXT: the last run exited RC with TEXT in its one error
# line, and wrote no frame (the stream's header only).
expect() {
	local frames
	frames=$("$BIN/streamcat" "$T/out" 2>/dev/null | grep -c '"kind"' || true)
	if [ "$rc" = "$2" ] && [ "$(grep -c ': error: ' "$T/err")" = 1 ] &&
		grep ': error: ' "$T/err" | grep -qF -- "$3" && [ "$frames" = 0 ]; then
		t_ok "$1: exit $2, '$3'"
	else
		t_fail "$1" "exit $rc (want $2), $frames frames, stderr: $(err)"
	fi
}
# ids: the ids of the changes of $T/out, in order.
ids() {
	"$BIN/streamcat" "$T/out" 2>/dev/null | grep '"kind":"change"' |
		sed -E 's/.*"after":\{"id":([0-9]+).*/\1/' | tr '\n' ' '
}

# ---- MySQL GTID sets: parsed, then refused by MariaDB -----------------------

run --start "$U:1-100:200"
expect "a MySQL GTID set on MariaDB" 64 "cannot start at a MySQL GTID set (uuid:N-M) on MariaDB"
grep -qF "domain-server-sequence" "$T/err" &&
	t_ok "the refusal names MariaDB's own form" ||
	t_fail "the refusal names MariaDB's own form" "$(err)"
run --start "$(printf '%s:1-5,\n%s:7' "$U" 00000000-0000-0000-0000-00000000000a)"
expect "a set as @@gtid_executed prints it (',\\n')" 64 "cannot start at a MySQL GTID set"
run --start "$U:1-5:mytag:1-3"
expect "a tagged set (MySQL 8.3+)" 64 "cannot start at a MySQL GTID set"

# Malformed sets: exit 64 before connecting (a server that is not there
# would take the retries first).
bad() { # NAME START TEXT
	rc=0
	CDC_MYSQL_HOST=192.0.2.1 CDC_MYSQL_SOCKET= timeout 20 "$B2A" --server-id 9401 \
		--snapshot=never --start "$2" >"$T/out" 2>"$T/err" || rc=$?
	expect "$1" 64 "$3"
}
bad "GTID number 0" "$U:0" "invalid MySQL GTID set in --start: invalid transaction number at '0': numbers start at 1"
bad "a reversed interval" "$U:9-3" "interval 9-3 ends before it starts"
bad "garbage after a set" "$U:1-5 x" "want ':', ',' or the end at 'x'"
bad "a second item that is not a uuid" "$U:1,nope" "want a uuid at 'nope'"
bad "a set without transactions" "$U" "names no transaction"

# ---- Positions on the local MariaDB --------------------------------------

my -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
my "$DB" -e "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))"
read -r file pos < <(my -N -e "SHOW MASTER STATUS" | cut -f1,2)
gtid=$(my -N -e "SELECT @@gtid_binlog_pos")
last_gtid=()
for i in 1 2 3; do
	last_gtid[$i]=$(my "$DB" -N -e "INSERT INTO t VALUES ($i, 'v$i'); SELECT @@last_gtid")
done

# A commit mark's position with a MySQL GTID set: the file position wins.
run --start "binlog:$file:$pos;gtid=$U:1-100" --stop-at-end
if [ "$rc" = 0 ] && [ "$(ids)" = "1 2 3 " ]; then
	t_ok "binlog:FILE:POS;gtid=<MySQL set> starts at FILE:POS (3 changes)"
else
	t_fail "binlog:FILE:POS;gtid=<MySQL set>" "exit $rc, ids '$(ids)', stderr: $(err)"
fi

# MariaDB's GTID list: after the GTID given, as a replica would.
run --start "$gtid" --stop-at-end
if [ "$rc" = 0 ] && [ "$(ids)" = "1 2 3 " ]; then
	t_ok "a MariaDB GTID list ($gtid) starts after that transaction (3 changes)"
else
	t_fail "a MariaDB GTID list start" "exit $rc, ids '$(ids)', stderr: $(err)"
fi
# At the second insert's GTID: only the third comes (one domain only:
# with several, the list would need them all).
if [[ "$gtid" != *,* ]]; then
	run --start "${last_gtid[2]}" --stop-at-end
	if [ "$rc" = 0 ] && [ "$(ids)" = "3 " ]; then
		t_ok "a MariaDB GTID list in the middle: only what follows it"
	else
		t_fail "a MariaDB GTID list in the middle" "exit $rc, ids '$(ids)', stderr: $(err)"
	fi
else
	t_skip "a MariaDB GTID list in the middle" "several domains: $gtid"
fi

# What the server does not have: its reason, one line, exit 65.
run --start "0-1-999999999999" --stop-at-end
expect "a GTID the server never had" 65 "the server cannot start at GTID 0-1-999999999999: "
grep ': error: ' "$T/err" | grep -qF "(error 1236)" &&
	t_ok "the server's own message and error number reach the user" ||
	t_fail "the server's message" "$(err)"
run --start "gone-bin.000001:4" --stop-at-end
expect "a binlog the server does not have" 65 "binlog position gone-bin.000001:4 is not on the server (purged?)"
