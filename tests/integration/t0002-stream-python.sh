#!/usr/bin/env bash
# The stream format against Apache Avro's Python library (python3-avro):
# python reads what our writer wrote, and streamcat reads what python wrote.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
GEN=$BIN/../tests/streamgen
HERE=$ROOT/tests/integration

for codec in null deflate zstandard; do
	"$GEN" $codec >"$T/gen.avro"
	$PY "$HERE/stream_python.py" read "$T/gen.avro" >"$T/py.out" 2>"$T/py.err" ||
		t_fail "python reads $codec stream" "$(tail -n 3 "$T/py.err")"
	sed "s/\$/ ($codec)/" "$T/py.out"
done

# The frame schema exactly as the writers put it in the header.
"$GEN" >"$T/gen.avro"
schema=$($PY -c 'import sys,avro.datafile,avro.io
r = avro.datafile.DataFileReader(open(sys.argv[1], "rb"), avro.io.DatumReader())
print(r.meta["avro.schema"].decode())' "$T/gen.avro")

want='{"kind":"schema","fingerprint":"X","schema":{}}
{"kind":"schema","fingerprint":"X","schema":{}}
{"kind":"change","topic":"py.db.t","key":{"k":"xé"},"key_schema":"X","value":{"after":{"k":"xé","amount":"-12345678901234567890123456789012345.123456789012345678901234567890","tags":["a","b"],"attrs":{"z":-1},"e":"B","fx":"\u0000\u00ff\u0010"},"op":"c"},"value_schema":"X","position":"p:1","version":5}
{"kind":"commit","seq":1,"position":"p:2","version":5,"ts_ms":7}
{"kind":"ddl","position":"p:3","database":"db","statement":"DROP TABLE t","ts_ms":8}
{"kind":"heartbeat","position":"p:4","now_ms":9}'
for codec in null deflate; do
	$PY "$HERE/stream_python.py" write "$T/py.avro" $codec "$schema" 2>"$T/pyw.err" ||
		t_fail "python writes $codec" "$(tail -n 2 "$T/pyw.err")"
	rc=0
	"$BIN/streamcat" "$T/py.avro" >"$T/cat.out" 2>"$T/cat.err" || rc=$?
	got=$(sed -E 's/"(fingerprint|key_schema|value_schema)":"[0-9a-f]{16}"/"\1":"X"/g; s/"schema":\{.*\}\}$/"schema":{}}/' "$T/cat.out")
	check_eq "streamcat reads python's $codec stream (exit $rc)" "$got" "$want"
done
