#!/usr/bin/env bash
# chload: every MySQL type of docs/stream.md 4.3, with edge values, through
# binlog2avro-shaped schemas into ClickHouse, checked value by value on both
# engines (ClickHouse 18.16, and 26.9 through chdb), each with its own
# expected types: fractional seconds as Decimal(18, p) on 18.16 and
# DateTime64 on 26.9; DATE/DATETIME columns widened when a value outside
# their type's range arrives (1970..2105 on 18.16, 1900..2299 on 26.9), and
# the _current view remade with the wide types; a key column cannot widen:
# its row goes to the dead-letter file, named by column and value (on 18.16;
# 26.9's Date32 holds that key). The 24.3 path of --dry-run too.
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
db=t4_types_$$
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
trap 'ch "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$T"' EXIT

PYTHONPATH=$ROOT/tests/integration $PY - "$db" >"$T/s.avro" <<'PYEOF'
import sys, datetime as dt
from decimal import Decimal as D
import envstream as es
db = sys.argv[1]
cols = [
    es.Col("id", "int", key=1),
    es.Col("ti", "tinyint", True), es.Col("tiu", "tinyint unsigned", True),
    es.Col("si", "smallint", True), es.Col("siu", "smallint unsigned", True),
    es.Col("mi", "mediumint", True), es.Col("miu", "mediumint unsigned", True),
    es.Col("i", "int", True), es.Col("iu", "int unsigned", True),
    es.Col("bi", "bigint", True), es.Col("biu", "bigint unsigned", True),
    es.Col("d", "decimal(10,2)", True), es.Col("d65", "decimal(65,30)", True),
    es.Col("d38", "decimal(38,10)", True),
    es.Col("f", "float", True), es.Col("db", "double", True),
    es.Col("b1", "bit(1)", True), es.Col("b12", "bit(12)", True),
    es.Col("y", "year", True), es.Col("dt", "date", True),
    es.Col("tm", "time(6)", True), es.Col("dt0", "datetime", True),
    es.Col("dt6", "datetime(6)", True), es.Col("ts3", "timestamp(3)", True),
    es.Col("c", "char(3)", True), es.Col("vc", "varchar(20)", True),
    es.Col("tx", "text", True), es.Col("bn", "binary(3)", True),
    es.Col("vb", "varbinary(10)", True), es.Col("e", "enum('a','b''c','x y')", True),
    es.Col("st", "set('p','q')", True), es.Col("js", "json", True),
    es.Col("g", "point", True), es.Col("v", "vector(3)", True),
]
t = es.Table(db, "types", cols)
rows = [
  {"id": 1, "ti": -128, "tiu": 255, "si": -32768, "siu": 65535, "mi": -8388608,
   "miu": 16777215, "i": -2147483648, "iu": 4294967295, "bi": -9223372036854775808,
   "biu": 18446744073709551615, "d": D("-99999999.99"),
   "d65": D("-99999999999999999999999999999999999.999999999999999999999999999999"),
   "d38": D("9999999999999999999999999999.9999999999"),
   "f": 3.4028234663852886e38, "db": -1.7976931348623157e308, "b1": True, "b12": 0xfff,
   "y": 2155, "dt": dt.date(2105, 12, 31), "tm": dt.timedelta(hours=838, minutes=59, seconds=59),
   "dt0": dt.datetime(2105, 12, 31, 23, 59, 59), "dt6": dt.datetime(1970, 1, 1, 0, 0, 0, 999999),
   "ts3": dt.datetime(2038, 1, 19, 3, 14, 7, 499000), "c": "abc", "vc": "h\u00e9llo \u20ac \U0001F600",
   "tx": "tab\there\nnl \\ 'q' \"dq\"", "bn": b"\x00\xff", "vb": b"\x00\x01\xfe\xff",
   "e": "b'c", "st": "p,q", "js": '{"k": [1, 2]}', "g": {"wkb": b"\x01\x01\x00", "srid": 4326},
   "v": [1.5, -2.0, 0.0]},
  {"id": 2, "ti": 127, "tiu": 0, "si": 32767, "siu": 0, "mi": 8388607, "miu": 0,
   "i": 2147483647, "iu": 0, "bi": 9223372036854775807, "biu": 0, "d": D("0.01"),
   "d65": D("0"), "d38": D("-0.0000000001"), "f": -0.0, "db": 5e-324, "b1": False, "b12": 0,
   "y": 0, "dt": dt.date(1970, 1, 1), "tm": -dt.timedelta(hours=838, minutes=59, seconds=59),
   "dt0": dt.datetime(1970, 1, 1), "dt6": dt.datetime(2024, 5, 1, 10, 20, 30, 123456),
   "ts3": dt.datetime(1970, 1, 1, 0, 0, 1), "c": "", "vc": "", "tx": "", "bn": b"abc",
   "vb": b"", "e": "", "st": "", "js": "null", "g": {"wkb": b"", "srid": None}, "v": []},
  {"id": 3},
]
w = es.Table(db, "wide", [
    es.Col("id", "int", key=1), es.Col("kd", "date", key=2),
    es.Col("dt", "date", True), es.Col("dt0", "datetime", True),
    es.Col("dt3", "datetime(3)", True), es.Col("dt6", "datetime(6)", True),
    es.Col("ts0", "timestamp", True), es.Col("ts6", "timestamp(6)", True),
])
k = dt.date(2000, 1, 1)
w1 = {"id": 1, "kd": k, "dt": dt.date(2105, 12, 31), "dt0": dt.datetime(1970, 1, 1),
      "dt3": dt.datetime(2024, 5, 1, 10, 20, 30, 123000),
      "dt6": dt.datetime(1970, 1, 1, 0, 0, 0, 1), "ts0": dt.datetime(2038, 1, 19, 3, 14, 7),
      "ts6": dt.datetime(1970, 1, 1, 0, 0, 1, 999999)}
wrows = [
  w1,
  {"id": 2, "kd": k, "dt": dt.date(1000, 1, 1), "dt0": dt.datetime(1000, 1, 1),
   "dt3": dt.datetime(9999, 12, 31, 23, 59, 59, 999000),
   "dt6": dt.datetime(1969, 12, 31, 23, 59, 59, 999999)},
  {"id": 3, "kd": k, "dt": dt.date(9999, 12, 31), "dt0": dt.datetime(9999, 12, 31, 23, 59, 59),
   "dt3": dt.datetime(1000, 1, 1, 0, 0, 0, 1000),
   "dt6": dt.datetime(9999, 12, 31, 23, 59, 59, 999999)},
  {"id": 4, "kd": dt.date(1969, 12, 31), "dt": dt.date(2024, 2, 29)},
]
with es.Stream(sys.stdout.buffer) as s:
    for r in rows:
        s.insert(t, r)
    s.commit()
    for r in wrows:
        s.insert(w, r)
    s.commit()
    s.update(w, w1, dict(w1, dt=dt.date(2024, 2, 29), dt0=dt.datetime(2106, 2, 7, 6, 28, 16)))
    s.commit()
PYEOF
rc=0
"$BIN/chload" --url "$CDC_CLICKHOUSE_URL" --dead-letter "$T/dead" <"$T/s.avro" >"$T/out" 2>"$T/err" || rc=$?
check_eq "loads every type (exit 0)" "$rc" 0
check "nothing on stdout" test ! -s "$T/out"
# pick A B: A on 18.16, B on the current engine.
pick() { if on 18.16; then printf '%s' "$1"; else printf '%s' "$2"; fi; }
if on 18.16; then
	check_eq "a key date out of range goes to the dead-letter file, named" "$(sed -E 's/,"row":.*//' "$T/dead")" \
"{\"database\":\"$db\",\"table\":\"wide\",\"version\":107,\"error\":\"column 'kd': 1969-12-31 is outside the range of Date (1970-01-01..2105-12-31); a key column cannot change its type\""
	check "dead letters keep the row" grep -q '"row":{"id":4,"kd":-1,' "$T/dead"
	check "stderr says the row was rejected" grep -q "rejected: column 'kd': 1969-12-31 is outside" "$T/err"
else
	check "a key date of 1969 fits Date32: no dead letters" test ! -s "$T/dead"
fi
for c in "dt': 1000-01-01 is outside the range of Nullable($(pick Date Date32))" \
    "dt0': 1000-01-01 00:00:00.000000 is outside the range of Nullable($(pick "DateTime('UTC')" "DateTime64(0, 'UTC')"))"; do
	check "stderr explains widening column '$c" grep -q "$c.*: widening" "$T/err"
done
# 18.16 keeps fractional seconds as Decimal already: nothing to widen.
on current && for c in "dt3': 9999-12-31 23:59:59.999000 is outside the range of Nullable(DateTime64(3, 'UTC'))" \
    "dt6': 9999-12-31 23:59:59.999999 is outside the range of Nullable(DateTime64(6, 'UTC'))"; do
	check "stderr explains widening column '$c" grep -q "$c.*: widening" "$T/err"
done
check_eq "widened once per column" "$(grep -c ': widening' "$T/err")" "$(pick 2 4)"
check_eq "the other rows are in" "$(ch "SELECT count() FROM $db.types")" 3
check_eq "and those of the widened table" "$(ch "SELECT count() FROM $db.wide_current")" "$(pick 3 4)"

q() { ch "SELECT $1 FROM $db.types WHERE id = $2 FORMAT TabSeparated" 2>&1; }
cmp1() { check_eq "$1 $2" "$(q "$2" "$3")" "$4"; }
# Types: name, ClickHouse type.
if on 18.16; then
check_eq "column types (18.16 path)" "$(ch "SELECT name, type FROM system.columns WHERE database = '$db' AND table = 'types' FORMAT TabSeparatedRaw" | tr '\t\n' '=;')" \
"id=Int32;ti=Nullable(Int8);tiu=Nullable(UInt8);si=Nullable(Int16);siu=Nullable(UInt16);mi=Nullable(Int32);miu=Nullable(UInt32);i=Nullable(Int32);iu=Nullable(UInt32);bi=Nullable(Int64);biu=Nullable(UInt64);d=Nullable(Decimal(10, 2));d65=Nullable(String);d38=Nullable(Decimal(38, 10));f=Nullable(Float32);db=Nullable(Float64);b1=Nullable(UInt8);b12=Nullable(UInt64);y=Nullable(UInt16);dt=Nullable(Date);tm=Nullable(Int64);dt0=Nullable(DateTime('UTC'));dt6=Nullable(Decimal(18, 6));ts3=Nullable(Decimal(18, 3));c=Nullable(String);vc=Nullable(String);tx=Nullable(String);bn=Nullable(FixedString(3));vb=Nullable(String);e=Nullable(Enum8('' = 0, 'a' = 1, 'b\\'c' = 2, 'x y' = 3));st=Nullable(String);js=Nullable(String);g=Tuple(String, Nullable(Int32));v=Array(Float32);_version=UInt64;_deleted=UInt8;_ts=DateTime('UTC');"
else
check_eq "column types (26.9 path)" "$(ch "SELECT name, type FROM system.columns WHERE database = '$db' AND table = 'types' FORMAT TabSeparatedRaw" | tr '\t\n' '=;')" \
"id=Int32;ti=Nullable(Int8);tiu=Nullable(UInt8);si=Nullable(Int16);siu=Nullable(UInt16);mi=Nullable(Int32);miu=Nullable(UInt32);i=Nullable(Int32);iu=Nullable(UInt32);bi=Nullable(Int64);biu=Nullable(UInt64);d=Nullable(Decimal(10, 2));d65=Nullable(Decimal(65, 30));d38=Nullable(Decimal(38, 10));f=Nullable(Float32);db=Nullable(Float64);b1=Nullable(UInt8);b12=Nullable(UInt64);y=Nullable(UInt16);dt=Nullable(Date32);tm=Nullable(Int64);dt0=Nullable(DateTime64(0, 'UTC'));dt6=Nullable(DateTime64(6, 'UTC'));ts3=Nullable(DateTime64(3, 'UTC'));c=Nullable(String);vc=Nullable(String);tx=Nullable(String);bn=Nullable(FixedString(3));vb=Nullable(String);e=Nullable(Enum8('' = 0, 'a' = 1, 'b\\'c' = 2, 'x y' = 3));st=LowCardinality(Nullable(String));js=Nullable(String);g=Tuple(String, Nullable(Int32));v=Array(Float32);_version=UInt64;_deleted=UInt8;_ts=DateTime64(3, 'UTC');"
fi

cmp1 max "ti, tiu, si, siu" 1 "$(printf -- '-128\t255\t-32768\t65535')"
cmp1 max "mi, miu, i, iu" 1 "$(printf -- '-8388608\t16777215\t-2147483648\t4294967295')"
cmp1 max "bi, biu" 1 "$(printf -- '-9223372036854775808\t18446744073709551615')"
cmp1 other "ti, tiu, si, siu, mi, miu, i, iu, bi, biu" 2 "$(printf -- '127\t0\t32767\t0\t8388607\t0\t2147483647\t0\t9223372036854775807\t0')"
cmp1 max "d, d65, d38" 1 "$(printf -- '-99999999.99\t-99999999999999999999999999999999999.999999999999999999999999999999\t9999999999999999999999999999.9999999999')"
# 26.9 prints a Decimal's zero without trailing zeros
# (output_format_decimal_trailing_zeros = 0); the value is the same.
cmp1 small "d, d65, d38" 2 "$(printf -- '0.01\t%s\t-0.0000000001' "$(pick 0.000000000000000000000000000000 0)")"
cmp1 edge "f, db" 1 "$(printf -- '3.4028235e38\t-1.7976931348623157e308')"
cmp1 edge "f, db" 2 "$(printf -- '-0\t5e-324')"
cmp1 bits "b1, b12" 1 "$(printf -- '1\t4095')"
cmp1 bits "b1, b12" 2 "$(printf -- '0\t0')"
cmp1 max "y, dt, tm" 1 "$(printf -- '2155\t2105-12-31\t3020399000000')"
# 18.16 prints day 0 and second 0 as 0000-00-00: compare the numbers.
cmp1 min "y, toUInt16(dt), tm" 2 "$(printf -- '0\t0\t-3020399000000')"
if on 18.16; then
# Fractional seconds: Decimal(18, p) seconds since the epoch, exact.
cmp1 max "dt0, dt6, ts3" 1 "$(printf -- '2105-12-31 23:59:59\t0.999999\t2147483647.499')"
cmp1 other "toUInt32(dt0), dt6, ts3" 2 "$(printf -- '0\t1714558830.123456\t1.000')"
cmp1 "usable as time" "toDateTime(toUInt32(dt6), 'UTC'), toInt64(ts3), dt6 > toDecimal64(1714558830.123455, 6)" 2 \
	"$(printf -- '2024-05-01 10:20:30\t1\t1')"
else
# Fractional seconds: DateTime64(p, 'UTC'), exact.
cmp1 max "dt0, dt6, ts3" 1 "$(printf -- '2105-12-31 23:59:59\t1970-01-01 00:00:00.999999\t2038-01-19 03:14:07.499')"
cmp1 other "toUInt32(dt0), dt6, ts3" 2 "$(printf -- '0\t2024-05-01 10:20:30.123456\t1970-01-01 00:00:01.000')"
cmp1 "usable as time" "toUnixTimestamp64Micro(dt6), toInt64(ts3), dt6 > toDateTime64('2024-05-01 10:20:30.123455', 6, 'UTC')" 2 \
	"$(printf -- '1714558830123456\t1\t1')"
fi
cmp1 text "c, vc, hex(tx)" 1 "$(printf -- 'abc\th\303\251llo \342\202\254 \360\237\230\200\t%s' "$(printf 'tab\there\nnl \\ '"'"'q'"'"' "dq"' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)")"
cmp1 binary "hex(bn), hex(vb)" 1 "$(printf -- '00FF00\t0001FEFF')"
cmp1 binary "hex(bn), hex(vb)" 2 "$(printf -- '616263\t')"
cmp1 enum "hex(toString(e)), st, js" 1 "$(printf -- "622763\tp,q\t{\"k\": [1, 2]}")"
cmp1 enum "toInt8(e), st, js" 2 "$(printf -- '0\t\tnull')"
cmp1 geometry "hex(tupleElement(g, 1)), tupleElement(g, 2), v" 1 "$(printf -- '010100\t4326\t[1.5,-2,0]')"
cmp1 geometry "hex(tupleElement(g, 1)), tupleElement(g, 2), v" 2 "$(printf -- '\t\\N\t[]')"
cmp1 nulls "ti, biu, d65, f, dt, dt6, vc, bn, e, js" 3 "$(printf -- '\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N')"
cmp1 metadata "_version, _deleted, _ts" 1 "$(printf -- '101\t0\t2023-11-14 22:13:20%s' "$(pick '' .000)")"

# The widened table: Int32 days and Decimal(18, p) seconds hold 1000..9999.
check_eq "column types after widening" "$(ch "SELECT name, type FROM system.columns WHERE database = '$db' AND table = 'wide' FORMAT TabSeparatedRaw" | tr '\t\n' '=;')" \
"$(pick "id=Int32;kd=Date;dt=Nullable(Int32);dt0=Nullable(Decimal(18, 0));dt3=Nullable(Decimal(18, 3));dt6=Nullable(Decimal(18, 6));ts0=Nullable(DateTime('UTC'));ts6=Nullable(Decimal(18, 6));_version=UInt64;_deleted=UInt8;_ts=DateTime('UTC');" \
"id=Int32;kd=Date32;dt=Nullable(Int32);dt0=Nullable(Decimal(18, 0));dt3=Nullable(Decimal(18, 3));dt6=Nullable(Decimal(18, 6));ts0=Nullable(DateTime64(0, 'UTC'));ts6=Nullable(DateTime64(6, 'UTC'));_version=UInt64;_deleted=UInt8;_ts=DateTime64(3, 'UTC');")"
# The view is remade when a column widens, in the same run: its columns
# have the table's types (it kept the narrow ones before).
coltypes() { ch "SELECT name, type FROM system.columns WHERE database = '$db' AND table = '$1' AND name NOT IN ('_deleted') FORMAT TabSeparatedRaw" | tr '\t\n' '=;'; }
check_eq "the view has the widened types" "$(coltypes wide_current)" "$(coltypes wide)"
qw() { ch "SELECT $1 FROM $db.wide_current WHERE id = $2 FORMAT TabSeparated" 2>&1; }
cmpw() { check_eq "wide $1" "$(qw "$1" "$2")" "$3"; }
# Row 1 was written before the widening (as Date, DateTime) and updated after.
cmpw "dt, toDate(dt), dt0, dt3, dt6, ts0, ts6" 1 "$(printf -- '19782\t2024-02-29\t4294967296\t1714558830.123\t0.000001\t2038-01-19 03:14:07\t%s' "$(pick 1.999999 '1970-01-01 00:00:01.999999')")"
cmpw "dt, dt0, dt3, dt6" 2 "$(printf -- '-354285\t-30610224000\t253402300799.999\t-0.000001')"
cmpw "dt, dt0, dt3, dt6" 3 "$(printf -- '2932896\t253402300799\t-30610223999.999\t253402300799.999999')"
check_eq "ordered as times" "$(ch "SELECT groupArray(id) FROM (SELECT id FROM $db.wide_current ORDER BY dt6)")" "$(pick "[2,1,3]" "[2,1,3,4]")"
# The same stream again: the widened types stay, nothing changes.
rc=0
"$BIN/chload" --url "$CDC_CLICKHOUSE_URL" --dead-letter "$T/dead2" <"$T/s.avro" >"$T/out" 2>"$T/err2" || rc=$?
check_eq "a replay loads (exit 0)" "$rc" 0
check "a replay widens nothing" test "$(grep -c ': widening' "$T/err2")" = 0
check_eq "a replay keeps the wide types" "$(ch "SELECT groupArray(type) FROM system.columns WHERE database = '$db' AND table = 'wide' AND name LIKE 'dt%'")" \
	"['Nullable(Int32)','Nullable(Decimal(18, 0))','Nullable(Decimal(18, 3))','Nullable(Decimal(18, 6))']"
# Row 4 (dt 2024-02-29, day 19782) is in only on 26.9.
check_eq "a replay keeps the rows" "$(qw "count(), sum(dt), sum(dt0)" "id")" "$(pick "$(printf -- '3\t2598393\t227087044095')" "$(printf -- '4\t2618175\t227087044095')")"

# The new-server path, from --dry-run with an assumed version.
"$BIN/chload" --dry-run --server-version 24.3 <"$T/s.avro" >"$T/dry" 2>"$T/dry.err" || true
create=$(grep '^CREATE TABLE IF NOT EXISTS `'"$db"'`.`types`' "$T/dry")
for want in '`d65` Nullable(Decimal(65, 30))' '`dt` Nullable(Date32)' \
    '`dt0` Nullable(DateTime64(0, '"'UTC'"'))' '`dt6` Nullable(DateTime64(6, '"'UTC'"'))' \
    '`ts3` Nullable(DateTime64(3, '"'UTC'"'))' '`st` LowCardinality(Nullable(String))' \
    '`_ts` DateTime64(3, '"'UTC'"')' 'ReplacingMergeTree(`_version`, `_deleted`)' \
    'non_replicated_deduplication_window'; do
	case $create in
	*"$want"*) t_ok "24.3 path has $want" ;;
	*) t_fail "24.3 path has $want" "$create" ;;
	esac
done
check "24.3 dry run keeps fractions" grep -q '"dt6":"2024-05-01 10:20:30.123456"' "$T/dry"
check "24.3 widens Date32 to Int32" grep -q "^ALTER TABLE \`$db\`.\`wide\` MODIFY COLUMN \`dt\` Nullable(Int32);" "$T/dry"
check "24.3 widens DateTime64(6) to Decimal(18, 6)" grep -q "^ALTER TABLE \`$db\`.\`wide\` MODIFY COLUMN \`dt6\` Nullable(Decimal(18, 6));" "$T/dry"
check "24.3 dry run renders widened rows" grep -q '"dt":"1000-01-01","dt0":"1000-01-01 00:00:00"' "$T/dry"
