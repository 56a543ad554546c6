#!/usr/bin/env bash
# chload --cluster on a ClickHouse 18.16 cluster of scripts/stack (two
# replicas of one shard and ZooKeeper, private, on their own ports):
#  1. replicated tables and views on both replicas, DDL ON CLUSTER, a column
#     added and a table renamed mid-stream reach both, and a new table of
#     the renamed one's old name gets a replication path of its own;
#  2. one replica killed -9 mid-load: chload goes on through the other,
#     the killed one catches up when it is back, and both equal a load into
#     a single server;
#  3. a replayed load through the other replica is stored once: the
#     replicated tables drop a block they hold already (merges stopped, so
#     that the count of rows shows it);
#  4. from MariaDB under a write workload (scripts/cdc-direct with
#     --cluster, supervised), a replica chosen at random killed -9 at a
#     random moment and started again: both replicas equal MariaDB
#     (cdc-verify), seeds 1, 2, 3 (CDC_CLUSTER_SEEDS).
# The current engine (chdb) has no ZooKeeper or interserver port: this
# runs on 18.16 only (docs/chload.md 1.1).
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
N=100000
R=26130 # replica n: HTTP R+n, TCP R+10+n, interserver R+20+n
U1=http://127.0.0.1:$((R + 1))/ U2=http://127.0.0.1:$((R + 2))/
st2() {
	CDC_STACK_DIR=$T/stack CDC_STACK_TIMEOUT=120 CDC_STACK_ZK_PORT=26181 \
	    CDC_STACK_CH_REPLICA_PORT=$R "$ROOT/scripts/stack" "$@"
}
db=t4_clu_$$ ref=t4_clu_ref_$$
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
q() { curl -sS --fail-with-body "$1" --data-binary "$2"; }
trap 'st2 down >/dev/null 2>&1 || true; ch "DROP DATABASE IF EXISTS $ref" >/dev/null 2>&1; rm -rf "$T"' EXIT

rc=0
st2 up zookeeper clickhouse-r1 clickhouse-r2 >"$T/up.out" 2>"$T/up.err" || rc=$?
check_eq "private cluster up (zookeeper, two replicas)" "$rc" 0
if [ "$rc" -ne 0 ]; then
	t_fail "cluster" "$(tail -n 5 "$T/up.err" | tr '\n' ' ')"
	exit 0
fi
load() { "$BIN/chload" -C cdc "$@"; }
# both SQL: the same answer from both replicas, or both answers.
both() {
	local a b
	a=$(q "$U1" "$1" 2>&1) b=$(q "$U2" "$1" 2>&1)
	[ "$a" = "$b" ] && printf '%s' "$a" || printf '%s | %s' "$a" "$b"
}
sync() { q "$1" "SYSTEM SYNC REPLICA $2" >/dev/null 2>&1; }

check_fails "a list of URLs without --cluster" 78 \
    "a list of replicas needs --cluster" "$BIN/chload" -u "$U1,$U2" </dev/null
check_fails "a list with a bad URL" 78 "'ftp://x/': must start with http" \
    "$BIN/chload" -C cdc -u "$U1,ftp://x/" </dev/null

# 1. DDL on the cluster.
gen() {
PYTHONPATH=$ROOT/tests/integration $PY - "$db" "$1" <<'PYEOF'
import sys
import envstream as es
db, part = sys.argv[1], sys.argv[2]
s = es.Stream(sys.stdout.buffer)
a1 = es.Table(db, "a", [es.Col("id", "int", key=1), es.Col("v", "varchar(5)", True)])
a2 = es.Table(db, "a", [es.Col("id", "int", key=1), es.Col("v", "varchar(5)", True),
                        es.Col("w", "int", True)])
if part == "1":
    s.insert(a1, {"id": 1, "v": "x"}, version=10)
    s.commit()
    s.insert(a2, {"id": 2, "v": "y", "w": 7}, version=11)
    s.commit()
    s.ddl(db, "RENAME TABLE a TO b")
    s.commit()
    s.insert(a1, {"id": 3, "v": "z"}, version=13)
    s.commit()
PYEOF
}
rc=0
gen 1 | load -u "$U1,$U2" 2>"$T/ddl.err" || rc=$?
check_eq "a stream with a new column and a rename loads (exit 0)" "$rc" 0
sync "$U2" "$db.b"; sync "$U1" "$db.a"; sync "$U2" "$db.a"
check_eq "both replicas have the renamed table's rows and new column" \
    "$(both "SELECT id, v, w FROM $db.b_current ORDER BY id FORMAT CSV")" "$(printf '1,"x",\\N\n2,"y",7')"
check_eq "and the new table of the old name" \
    "$(both "SELECT id, v FROM $db.a_current FORMAT CSV")" '3,"z"'
check_eq "the tables are replicated" \
    "$(both "SELECT engine FROM system.tables WHERE database = '$db' AND name IN ('a', 'b', '_chload_truncations') ORDER BY name FORMAT CSV")" \
    "$(printf '"ReplicatedMergeTree"\n"ReplicatedReplacingMergeTree"\n"ReplicatedReplacingMergeTree"')"
check "a and b have replication paths of their own" test \
    "$(q "$U1" "SELECT uniqExact(zookeeper_path) FROM system.replicas WHERE database = '$db' AND table IN ('a', 'b')")" = 2

# 2. A replica killed mid-load.
"$BIN/../tests/chload_benchgen" "$N" "$db" >"$T/s.avro"
"$BIN/../tests/chload_benchgen" "$N" "$ref" >"$T/ref.avro"
"$BIN/chload" -q -u "$CDC_CLICKHOUSE_URL" <"$T/ref.avro"
split -n 40 "$T/s.avro" "$T/part."
feed() { for p in "$T"/part.*; do cat "$p"; sleep 0.15; done; }
feed | load -u "$U1,$U2" -b 5000 -r 60 --ack "$T/ack" >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.5
kill -KILL "$(cat "$T/stack/clickhouse-r1.pid")"
rc=0
wait "$pid" || rc=$?
check_eq "loads on through the other replica (exit 0)" "$rc" 0
check "says it retried" grep -q "retrying" "$T/err"
check_eq "the last commit mark is acknowledged" "$(tail -n1 "$T/ack" | cut -d' ' -f1,2)" "ack $((N / 1000))"
st2 up clickhouse-r1 >/dev/null 2>&1
# A block that r1 took just before the kill is on r1 only (replication is
# asynchronous) until r2 fetches it once r1 is back: sync both.
sync "$U1" "$db.orders"; sync "$U2" "$db.orders"
sum() { q "$1" "SELECT count(), sum(cityHash64(concat(toString(id), '|', toString(qty), '|', toString(price), '|', name, '|', toString(created), '|', toString(score), '|', ifNull(note, 'NULL'), '|', toString(_version)))) FROM $2.orders_current FORMAT CSV" 2>&1; }
want=$(sum "$CDC_CLICKHOUSE_URL" "$ref")
check_eq "the surviving replica, synced, equals a load into one server" "$(sum "$U2" "$db")" "$want"
check_eq "the killed replica caught up" "$(sum "$U1" "$db")" "$want"

# 3. Stored once: the same load again, through the other replica. Merges
# stop once both replicas hold the first load, so that a block stored twice
# would stay as rows of the same change (id, version, deleted) twice. A
# merge may have collapsed updated rows before the stop (the stream has
# updates and deletes), so what the replay must not change is the count of
# rows it finds, not the count of changes in the stream.
q "$U1" "DROP TABLE $db.orders_current ON CLUSTER cdc" >/dev/null
q "$U1" "DROP TABLE $db.orders ON CLUSTER cdc" >/dev/null
load -q -u "$U1" -b 5000 <"$T/s.avro"
sync "$U2" "$db.orders"
q "$U1" "SYSTEM STOP MERGES $db.orders" >/dev/null
q "$U2" "SYSTEM STOP MERGES $db.orders" >/dev/null
before=$(q "$U2" "SELECT count() FROM $db.orders")
rc=0
load -q -u "$U2" -b 5000 <"$T/s.avro" || rc=$?
check_eq "the replay loads (exit 0)" "$rc" 0
check_eq "the replay adds no row to the replica it went to" \
    "$(q "$U2" "SELECT count() FROM $db.orders")" "$before"
# r1 fetches what r2 stored, if anything (no SYNC REPLICA: with merges
# stopped, a merge in its queue would hold it for ever).
for ((i = 0; i < 50; i++)); do
	[ "$(q "$U1" "SELECT count() FROM $db.orders")" = "$(q "$U2" "SELECT count() FROM $db.orders")" ] && break
	sleep 0.2
done
dups="SELECT count() - uniqExact(id, _version, _deleted) FROM $db.orders"
check_eq "no change stored twice, on both replicas" "$(both "$dups")" 0
check_eq "and the view still equals a load into one server" "$(sum "$U2" "$db")" "$want"
q "$U1" "DROP DATABASE IF EXISTS $db ON CLUSTER cdc" >/dev/null 2>&1 || true

# 4. From MariaDB, under a write workload: scripts/cdc-direct with
# chload --cluster, restarted by a supervisor when it exits; one replica,
# at random, killed -9 at a random moment and started again. Both replicas
# must end equal to MariaDB (scripts/cdc-verify against each).
. "$(dirname "$0")/crash_lib.sh"
export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN CDC_METRICS_DIR=$T/metrics
set +e # chaos: a stage that exits and is restarted is normal
trap 'touch "$T/stop"; pkill -KILL -f "$T/stop|t47-direct-$$|--server-id 747[0-9]" 2>/dev/null;
	st2 down >/dev/null 2>&1; ch "DROP DATABASE IF EXISTS $ref" >/dev/null 2>&1; rm -rf "$T"' EXIT
for seed in ${CDC_CLUSTER_SEEDS:-1 2 3}; do
	RANDOM=$((seed * 6007))
	rm -f "$T/stop" "$T/stop-load"
	wdb=t47_$$_$seed
	crash_tables "$wdb"
	export CDC_STATE_DIR=$T/state$seed
	supervise "direct$seed" "$ROOT/scripts/cdc-direct" --name "t47-direct-$$-$seed" \
		-- --server-id $((7470 + seed)) --include "$wdb.*" \
		--chload -C cdc -u "$U1,$U2" -r 60
	wait_log "$T/direct$seed.log" "replicating from" 30
	workload "$seed" "$wdb" &
	wpid=$!
	sleep $((2 + RANDOM % 4))
	victim=$((1 + RANDOM % 2))
	bounce st2 "clickhouse-r$victim" $((2 + RANDOM % 4))
	sleep $((1 + RANDOM % 3))
	touch "$T/stop-load"
	wait "$wpid" 2>/dev/null
	ok=
	for u in "$U1" "$U2"; do
		CDC_CLICKHOUSE_URL=$u catch_up "$wdb" && ok+=1 || ok+=0
		cp "$T/verify.out" "$T/verify.$((${#ok}))" 2>/dev/null
	done
	touch "$T/stop"
	pkill -TERM -f "$T/stop|t47-direct-$$-$seed|--server-id $((7470 + seed))" 2>/dev/null
	sleep 1
	rows=$(crash_rows "$wdb")
	restarts=$(grep -c '^exited' "$T/direct$seed.log")
	if [ "$ok" = 11 ]; then
		t_ok "seed $seed: replica r$victim killed -9 and back, $restarts restarts, both replicas = MariaDB ($rows rows)"
	else
		t_fail "seed $seed: replica r$victim killed -9 and back (r1, r2 equal: $ok)" \
		    "$(tail -n 4 "$T"/verify.[12] | tr '\n' ' ') | $(grep -v info "$T/direct$seed.log" | tail -n 4 | tr '\n' ' ')"
	fi
	pkill -KILL -f "$T/stop|t47-direct-$$-$seed|--server-id $((7470 + seed))" 2>/dev/null
	my -e "DROP DATABASE IF EXISTS $wdb"
	q "$U1" "DROP DATABASE IF EXISTS $wdb ON CLUSTER cdc" >/dev/null 2>&1
done
exit 0
