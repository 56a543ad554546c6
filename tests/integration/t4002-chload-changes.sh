#!/usr/bin/env bash
# chload: deletes, primary-key changes, truncation (op t and a Ddl frame),
# schema evolution, rename and drop, a malicious identifier, replays of the
# same stream and of an overlapping part, keyless tables, acknowledgements;
# deleted rows kept as tombstones (a replay cannot bring them back), column
# changes the rows in ClickHouse cannot take refused (exit 65) with the
# table left readable, on ClickHouse 18.16 and 26.9.
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
db=t4_chg_$$
evil='t4 `evil`; DROP DATABASE x; --'\''"\'
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
edb="$evil"_$$
# qid NAME: NAME as a ClickHouse identifier.
qid() { printf '`%s`' "$(printf %s "$1" | sed 's/[\\`]/\\&/g')"; }
# qstr TEXT: TEXT as a ClickHouse string literal.
qstr() { printf "'%s'" "$(printf %s "$1" | sed "s/[\\\\']/\\\\&/g")"; }
cleanup() {
	ch "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	ch "DROP DATABASE IF EXISTS $(qid "$edb")" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap - EXIT

gen() {
PYTHONPATH=$ROOT/tests/integration $PY - "$db" "$evil" "$$" "$1" <<'PYEOF'
import sys
import envstream as es
db, evil, pid, part = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
t = es.Table(db, "t", [es.Col("id", "int", key=1), es.Col("v", "varchar(10)", True)])
t2 = es.Table(db, "t", [es.Col("id", "int", key=1), es.Col("v", "bigint", True),
                        es.Col("w", "varchar(5)", True)])
t3 = es.Table(db, "t", [es.Col("id", "int", key=1), es.Col("w", "varchar(5)", True)])
k = es.Table(db, "nokey", [es.Col("a", "int"), es.Col("b", "varchar(3)")])
e = es.Table(evil + "_" + pid, "sel`ect; DROP TABLE t --", [
    es.Col("id`) ENGINE=Memory; --", "int", key=1), es.Col("sel ect", "varchar(9)"),
    es.Col("a\\b'c\"d", "int", True), es.Col("from", "int", True)])
tr = es.Table(db, "tr", [es.Col("id", "int", key=1)])
s = es.Stream(sys.stdout.buffer)
if part == "old2":
    # A replay of row 2's insert alone, long after its delete.
    s.insert(t, {"id": 2, "v": "2"}, version=11)
    s.commit()
if part == "nullable":
    # NULL allowed, then not: the column stays Nullable in ClickHouse.
    n1 = es.Table(db, "nn", [es.Col("id", "int", key=1), es.Col("v", "int", True)])
    n2 = es.Table(db, "nn", [es.Col("id", "int", key=1), es.Col("v", "int")])
    s.insert(n1, {"id": 1, "v": None}, version=70)
    s.commit()
    s.insert(n2, {"id": 2, "v": 2}, version=71)
    s.commit()
if part == "narrow":
    # Text that is no number, then a bigint: refused.
    w1 = es.Table(db, "nv", [es.Col("id", "int", key=1), es.Col("v", "varchar(5)")])
    w2 = es.Table(db, "nv", [es.Col("id", "int", key=1), es.Col("v", "bigint")])
    s.insert(w1, {"id": 1, "v": "x"}, version=72)
    s.commit()
    s.insert(w2, {"id": 2, "v": 5}, version=73)
    s.commit()
if part in ("all", "first"):
    # Numbers as text: v becomes a bigint later, and every value
    # converts (one that cannot is refused: the "narrow" part).
    s.insert(t, {"id": 1, "v": "1"}, version=10)
    s.insert(t, {"id": 2, "v": "2"}, version=11)
    s.insert(t, {"id": 3, "v": "3"}, version=12)
    s.commit()
    s.update(t, {"id": 1, "v": "1"}, {"id": 1, "v": "11"}, version=20)
    s.delete(t, {"id": 2, "v": "2"}, version=21)
    s.tombstone(t, {"id": 2})
    s.update(t, {"id": 3, "v": "3"}, {"id": 4, "v": "3"}, version=22)
    s.insert(k, {"a": 1, "b": "x"}, version=23)
    s.insert(k, {"a": 1, "b": "x"}, version=24)
    s.insert(k, {"a": 2, "b": "y"}, version=25)
    s.delete(k, {"a": 1, "b": "x"}, version=26)
    s.update(k, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}, version=27)
    s.insert(e, {"id`) ENGINE=Memory; --": 7, "sel ect": "it's", "a\\b'c\"d": 1, "from": 2}, version=28)
    for i in range(5):
        s.insert(tr, {"id": i}, version=30 + i)
    s.commit()
if part in ("all", "second"):
    s.truncate(tr, version=40)
    s.insert(tr, {"id": 9}, version=41)
    s.commit()
    # Schema evolution: v changes type, w is added; then v is dropped.
    s.insert(t2, {"id": 5, "v": 55, "w": "new"}, version=50)
    s.commit()
    s.insert(t3, {"id": 6, "w": "six"}, version=60)
    s.commit()
    s.ddl(db, "RENAME TABLE `tr` TO `tr2`")
    s.ddl(db, "DROP TABLE IF EXISTS `nokey`")
    s.heartbeat()
s.close()
PYEOF
}
gen all >"$T/all.avro"
gen first >"$T/first.avro"
gen second >"$T/second.avro"
gen old2 >"$T/old2.avro"
gen nullable >"$T/nullable.avro"
gen narrow >"$T/narrow.avro"

load() {
	local rc=0
	"$BIN/chload" -u "$CDC_CLICKHOUSE_URL" --ack "$T/ack.$1" <"$2" >"$T/out.$1" 2>"$T/err.$1" || rc=$?
	check_eq "load $1 exits 0" "$rc" 0
}
state() {
	ch "SELECT id, w FROM $db.t_current ORDER BY id FORMAT CSV" | tr '\n' ' '
	ch "SELECT a, b FROM $db.nokey_current ORDER BY a, b FORMAT CSV" | tr '\n' ' '
	ch "SELECT id FROM $db.tr2_current ORDER BY id FORMAT CSV" | tr '\n' ' '
}
want='1,\N 4,\N 5,"new" 6,"six" 1,"x" 2,"z" 9 '
load 1 "$T/all.avro"
check_eq "current state after the stream" "$(state)" "$want"
check_eq "acknowledged the last commit mark" "$(tail -n1 "$T/ack.1" | cut -d' ' -f1,2)" "ack 5"
check "acks in order" sh -c "cut -d' ' -f2 '$T/ack.1' | sort -n -c"
check_eq "evolved columns" "$(ch "SELECT name, type FROM system.columns WHERE database = '$db' AND table = 't' FORMAT CSV" | sed "s/\\\\'/'/g" | tr '\n' ' ')" \
    "\"id\",\"Int32\" \"w\",\"Nullable(String)\" \"_version\",\"UInt64\" \"_deleted\",\"UInt8\" \"_ts\",\"$(on 18.16 && echo "DateTime('UTC')" || echo "DateTime64(3, 'UTC')")\" "
check "the old row of a changed key is deleted" test "$(ch "SELECT _deleted FROM $db.t WHERE id = 3 ORDER BY _version DESC LIMIT 1")" = 1
# SELECT ... FINAL hides deleted rows on current servers (the table is
# ReplacingMergeTree(_version, _deleted)); 18.16 shows the tombstone.
check_eq "SELECT FINAL shows a deleted key ($ENGINE)" "$(ch "SELECT count() FROM $db.t FINAL WHERE id = 3")" "$(on 18.16 && echo 1 || echo 0)"
# Merges keep deleted rows on both engines: they are the tombstones that
# keep a replay from bringing a row back.
ch "OPTIMIZE TABLE $db.t FINAL"
check_eq "OPTIMIZE FINAL keeps the tombstones" "$(ch "SELECT count() FROM $db.t WHERE _deleted = 1 AND id IN (2, 3)")" 2
load old2 "$T/old2.avro"
check_eq "a replayed insert of a deleted row stays deleted" "$(ch "SELECT count() FROM $db.t_current WHERE id = 2")" 0
check "rename applied" test "$(ch "EXISTS TABLE $db.tr2")" = 1
check "drop reported, not applied" grep -q "source dropped table '$db.nokey'.*not applied" "$T/err.1"
check_eq "truncate leaves only later rows" "$(ch "SELECT count() FROM $db.tr2_current")" 1
check_eq "malicious names are names" "$(ch "SELECT name FROM system.columns WHERE database = $(qstr "$edb") AND table = $(qstr 'sel`ect; DROP TABLE t --') ORDER BY name FORMAT TSVRaw" | tr '\n' '|')" \
    "_deleted|_ts|_version|a\\b'c\"d|from|id\`) ENGINE=Memory; --|sel ect|"
check_eq "malicious table holds the row" "$(ch "SELECT \`sel ect\` FROM $(qid "$edb").$(qid 'sel`ect; DROP TABLE t --') FORMAT TSVRaw")" "it's"
check_eq "its view too" "$(ch "SELECT \`a\\\\b'c\"d\` FROM $(qid "$edb").$(qid 'sel`ect; DROP TABLE t --_current')")" 1

# Replays: the whole stream again, then an overlapping part.
load 2 "$T/all.avro"
check_eq "replaying the stream changes nothing" "$(state)" "$want"
# An older part alone takes the table back to that part's columns (see
# docs/chload.md); the rows stay, and the later part restores the rest.
load 3 "$T/first.avro"
check_eq "replaying an older part keeps the rows" "$(ch "SELECT id FROM $db.t_current ORDER BY id FORMAT CSV" | tr '\n' ' ')" "1 4 5 6 "
load 4 "$T/second.avro"
check_eq "replaying the overlapping parts in order changes nothing" "$(state)" "$want"

# Keyless tables need a version per change: the same image again (a replay)
# is stored once; two different images at one version are refused (exit 65)
# rather than kept as one.
PYTHONPATH=$ROOT/tests/integration $PY - "$db" "$T/kv" <<'PYEOF'
import sys
import envstream as es
db, out = sys.argv[1], sys.argv[2]
k = es.Table(db, "kv", [es.Col("a", "int", True)])
with es.Stream(open(out + ".same.avro", "wb")) as s:
    s.insert(k, {"a": 1}, version=7)
    s.insert(k, {"a": 1}, version=7)
    s.insert(k, {"a": 1}, version=8)
    s.commit()
with es.Stream(open(out + ".diff.avro", "wb")) as s:
    s.insert(k, {"a": 2}, version=9)
    s.insert(k, {"a": 3}, version=9)
    s.commit()
PYEOF
load kv1 "$T/kv.same.avro"
check_eq "a keyless image repeated at its version is stored once" "$(ch "SELECT count() FROM $db.kv_current")" 2
rc=0
"$BIN/chload" -u "$CDC_CLICKHOUSE_URL" <"$T/kv.diff.avro" >"$T/out.kv2" 2>"$T/err.kv2" || rc=$?
check_eq "two keyless images at one version are refused (exit)" "$rc" 65
check "and said so" grep -q "keyless table '$db.kv': two different after images at version 9" "$T/err.kv2"

# A column that allowed NULL and no longer does stays Nullable; a change of
# type that rows in ClickHouse cannot take is refused before any ALTER
# (26.9 would leave a stuck mutation and a table no SELECT can read; 18.16
# would turn the text into NULL), and the table stays as it was.
load nullable "$T/nullable.avro"
check_eq "a column NOT NULL now stays Nullable" "$(ch "SELECT type FROM system.columns WHERE database = '$db' AND table = 'nn' AND name = 'v'")" "Nullable(Int32)"
check_eq "and takes both rows" "$(ch "SELECT v FROM $db.nn_current ORDER BY id FORMAT CSV" | tr '\n' ' ')" '\N 2 '
rc=0
"$BIN/chload" -u "$CDC_CLICKHOUSE_URL" <"$T/narrow.avro" >"$T/out.nar" 2>"$T/err.nar" || rc=$?
check_eq "text to bigint over rows that are no numbers: exit" "$rc" 65
check "says which column, and why, in one line" grep -qx "chload: error: cannot change column 'v' of '\`$db\`.\`nv\`' from String to Int64: rows in ClickHouse cannot take the new type (.*Code: 6.*); the table is left as it is" "$T/err.nar"
check_eq "the table keeps its type" "$(ch "SELECT type FROM system.columns WHERE database = '$db' AND table = 'nv' AND name = 'v'")" String
check_eq "and can be read" "$(ch "SELECT id, v FROM $db.nv_current FORMAT CSV")" '1,"x"'
check_eq "no mutation is left" "$(ch "SELECT count() FROM system.mutations WHERE database = '$db' AND NOT is_done")" 0

# Loaders of one table at once (the sinks of one consumer group): each
# remakes the view, and one that finds it dropped or made by another under
# it starts again rather than failing (before: 14 of 15 tries of three
# loaders on 18.16 had one exit on "already exists" or "doesn't exist").
"$BIN/../tests/chload_benchgen" 2000 "${db}_many" >"$T/many.avro"
pids=()
for k in 1 2 3; do
	"$BIN/chload" -q -u "$CDC_CLICKHOUSE_URL" <"$T/many.avro" 2>"$T/many$k.err" &
	pids+=($!)
done
rcs=
for p in "${pids[@]}"; do
	rc=0
	wait "$p" || rc=$?
	rcs+="$rc "
done
check_eq "three loaders of one new table at once all exit 0" "$rcs" "0 0 0 "
"$BIN/../tests/chload_benchgen" 2000 "${db}_one" | "$BIN/chload" -q -u "$CDC_CLICKHOUSE_URL"
state() { ch "SELECT count(), sum(cityHash64(id, qty, name, _version)) FROM $1.orders_current FORMAT CSV"; }
check_eq "and its view equals one loader's" "$(state "${db}_many")" "$(state "${db}_one")"
ch "DROP DATABASE IF EXISTS ${db}_many" >/dev/null
ch "DROP DATABASE IF EXISTS ${db}_one" >/dev/null
