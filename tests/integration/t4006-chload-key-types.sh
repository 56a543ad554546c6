#!/usr/bin/env bash
# chload: tables whose types chload cannot change.
#  1. A key column's type changes in the source (INT to BIGINT, INT to
#     VARCHAR). ClickHouse cannot alter a sorting key column, so the column
#     keeps its type: values it can hold load, others go to the dead-letter
#     file; a type that is no form of the values is refused (exit 65) with
#     the table left readable. On 18.16 and the current engine.
#  2. An upgrade: tables an 18.16 server's path made (Date and DateTime keys,
#     Decimal(18, p) times, `_ts` DateTime) loaded by the current path on
#     the current engine: keys and `_ts` keep their types, other columns
#     move to the current types, and every value arrives exactly.
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
db=t4_key_$$
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
trap 'ch "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT

gen() {
PYTHONPATH=$ROOT/tests/integration $PY - "$db" "$1" <<'PYEOF'
import datetime as d
import sys
import envstream as es
db, part = sys.argv[1], sys.argv[2]
s = es.Stream(sys.stdout.buffer)
k1 = es.Table(db, "k", [es.Col("id", "int", key=1), es.Col("v", "int", True)])
k2 = es.Table(db, "k", [es.Col("id", "bigint", key=1), es.Col("v", "int", True)])
k3 = es.Table(db, "k", [es.Col("id", "varchar(20)", key=1), es.Col("v", "int", True)])
u = es.Table(db, "u", [es.Col("id", "int", key=1), es.Col("day", "date", key=2),
                       es.Col("at", "datetime", key=3), es.Col("t3", "datetime(3)", True),
                       es.Col("d", "date", True), es.Col("tag", "set('a','b')", True)])
T = lambda t: d.datetime.fromisoformat(t)
D = lambda t: d.date.fromisoformat(t)
if part == "int":
    s.insert(k1, {"id": 1, "v": 1}, version=10)
    s.commit()
elif part == "bigint":
    s.insert(k2, {"id": 2, "v": 2}, version=20)
    s.insert(k2, {"id": 5000000000, "v": 3}, version=21)
    s.update(k2, {"id": 1, "v": 1}, {"id": 1, "v": 4}, version=22)
    s.commit()
elif part == "varchar":
    s.insert(k3, {"id": "x", "v": 5}, version=30)
    s.commit()
elif part == "old":
    s.insert(u, {"id": 1, "day": D("2024-01-01"), "at": T("2024-01-01 10:00:00"),
                 "t3": T("2024-01-01 10:00:00.123"), "d": D("2024-02-02"),
                 "tag": "a"}, version=40, ts_ms=1700000000123)
    s.commit()
elif part == "new":
    s.insert(u, {"id": 2, "day": D("2024-01-03"), "at": T("2024-01-03 11:00:00"),
                 "t3": T("2024-01-03 11:00:00.456"), "d": D("1950-03-04"),
                 "tag": "a,b"}, version=50, ts_ms=1700000001456)
    s.insert(u, {"id": 3, "day": D("1950-01-01"), "at": T("2024-01-03 11:00:00"),
                 "t3": None, "d": None, "tag": None}, version=51)
    s.update(u, {"id": 1, "day": D("2024-01-01"), "at": T("2024-01-01 10:00:00"),
                 "t3": T("2024-01-01 10:00:00.123"), "d": D("2024-02-02"), "tag": "a"},
             {"id": 1, "day": D("2024-01-01"), "at": T("2024-01-01 10:00:00"),
              "t3": T("2024-01-01 10:00:00.789"), "d": D("2299-12-31"), "tag": "b"},
             version=52, ts_ms=1700000002789)
    s.commit()
PYEOF
}
load() { "$BIN/chload" -u "$CDC_CLICKHOUSE_URL" --dead-letter "$T/dl" "$@"; }
coltype() {
	ch "SELECT type FROM system.columns WHERE database = '$db' AND table = '$1' AND name = '$2' FORMAT TSVRaw"
}

# 1. Key columns.
gen int | load -q
rc=0
gen bigint | load 2>"$T/err" || rc=$?
check_eq "INT key, then BIGINT: loads (exit 0)" "$rc" 0
check_eq "the key column keeps its type" "$(coltype k id)" Int32
check_eq "rows that fit load, the update too" \
    "$(ch "SELECT id, v FROM $db.k_current ORDER BY id FORMAT CSV")" "$(printf '1,4\n2,2')"
check "a value the key cannot hold goes to the dead-letter file" \
    grep -q '"version":21,"error":"column '"'id'"': 5000000000 out of range of Int32"' "$T/dl"
check "says the key column is kept" grep -q "key column 'id' of .* is Int32 in ClickHouse and Int64 in the source; kept" "$T/err"
rc=0
gen varchar | load 2>"$T/err" || rc=$?
check_eq "INT key, then VARCHAR: refused (exit 65)" "$rc" 65
check "says why, in one line" grep -q "error: key column 'id' of .* is Int32 in ClickHouse and String in the source: ClickHouse cannot change a key column" "$T/err"
check_eq "the table is left readable and unchanged" \
    "$(ch "SELECT count() FROM $db.k_current"),$(coltype k id)" "2,Int32"

# 2. An upgrade from 18.16: the current path on tables the 18.16 path made.
if on current; then
	gen old | load -q --server-version 18.16
	check_eq "18.16's types, made on the current engine" \
	    "$(coltype u day) $(coltype u at) $(coltype u t3) $(coltype u _ts)" \
	    "Date DateTime('UTC') Nullable(Decimal(18, 3)) DateTime('UTC')"
	rc=0
	gen new | load 2>"$T/err" || rc=$?
	check_eq "the current path loads them (exit 0)" "$rc" 0
	check_eq "keys and _ts keep their types, others move on" \
	    "$(coltype u day) $(coltype u at) $(coltype u d) $(coltype u tag) $(coltype u _ts)" \
	    "Date DateTime('UTC') Nullable(Date32) LowCardinality(Nullable(String)) DateTime('UTC')"
	check_eq "every value exact, _ts to the second" \
	    "$(ch "SELECT id, day, at, t3, d, tag, _version, _ts FROM $db.u_current ORDER BY id FORMAT CSV")" \
	    "$(printf '%s\n' '1,"2024-01-01","2024-01-01 10:00:00",1704103200.789,"2299-12-31","b",52,"2023-11-14 22:13:22"' \
		'2,"2024-01-03","2024-01-03 11:00:00",1704279600.456,"1950-03-04","a,b",50,"2023-11-14 22:13:21"')"
	check "a key date the old Date cannot hold goes to the dead-letter file" \
	    grep -q '"version":51,"error":"column '"'day'"': 1950-01-01 is outside the range of Date' "$T/dl"
	check_eq "no other row in the table" \
	    "$(ch "SELECT count() FROM $db.u WHERE id NOT IN (1, 2)")" 0
fi
