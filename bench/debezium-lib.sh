# Debezium's MariaDB connector beside binlog2avro, for bench/debezium and
# tests/integration/t6001: sourced after `eval "$(scripts/stack env)"`.
# Debezium runs in bench/DebeziumRunner.java (its embedded engine, the JSON
# converter with schemas) from the jars that scripts/deps fetched; its
# offsets and schema history are files in a state folder, so that
#   dbz_prime  starts it once on the current binlog end (snapshot.mode
#              no_data), and
#   dbz_read   reads from there, after a workload, up to a stop row.
# Debezium's defaults are kept unless DBZ_EXTRA names other settings
# (lines of key=value), but for its schema history, which keeps only the
# captured database's tables (the test server is shared: another test's
# DDL must not stop Debezium).

DBZ_POM=$ROOT/scripts/debezium/pom.xml
DBZ_VERSION=$(sed -n 's:.*<debezium.version>\(.*\)</debezium.version>.*:\1:p' "$DBZ_POM")
DBZ_HOME=${CDC_DEPS_DIR:-$ROOT/.deps}/debezium-$DBZ_VERSION
DBZ_HEAP=${DBZ_HEAP:-1g}
DBZ_STOP_TABLE=dbz_stop

# dbz_ready: Debezium and the compiled runner are there.
dbz_ready() {
	[ -f "$DBZ_HOME/classes/DebeziumRunner.class" ] && [ -d "$DBZ_HOME/lib" ]
}

# The runner's command (arguments: PROPERTIES OUT STOP_TOPIC STOP_ID):
# quiet but for warnings, heap bounded, ended after DBZ_TIMEOUT (600)
# seconds. The password reaches it in CDC_MYSQL_PASSWORD, which `scripts/
# stack env` exports, never in argv.
dbz_java() {
	timeout "${DBZ_TIMEOUT:-600}" java -Xmx"$DBZ_HEAP" \
	    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
	    -cp "$DBZ_HOME/lib/*:$DBZ_HOME/classes" DebeziumRunner "$@"
}

# dbz_setup STATE DB SERVER_ID: the state folder, its properties, and the
# stop table in DB (which must exist); DB becomes DBZ_DB.
dbz_setup() {
	local state=$1 db=$2 id=$3
	mkdir -p "$state"
	cat >"$state/props" <<EOF
name=dbz-$db
connector.class=io.debezium.connector.mariadb.MariaDbConnector
database.hostname=$CDC_MYSQL_HOST
database.port=$CDC_MYSQL_PORT
database.user=$CDC_MYSQL_USER
database.server.id=$id
database.ssl.mode=disable
topic.prefix=dbz
database.include.list=$db
snapshot.mode=no_data
snapshot.locking.mode=none
include.schema.changes=false
schema.history.internal.store.only.captured.databases.ddl=true
schema.history.internal.store.only.captured.tables.ddl=true
converter.schemas.enable=true
offset.storage=org.apache.kafka.connect.storage.FileOffsetBackingStore
offset.storage.file.filename=$state/offsets.dat
offset.flush.interval.ms=0
schema.history.internal=io.debezium.storage.file.history.FileSchemaHistory
schema.history.internal.file.filename=$state/history.dat
${DBZ_EXTRA:-}
EOF
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" "$db" \
	    -e "CREATE TABLE IF NOT EXISTS $DBZ_STOP_TABLE (id INT PRIMARY KEY)"
	DBZ_DB=$db
}

# dbz_stop_row: one more row in the stop table; prints its id.
dbz_stop_row() {
	mariadb -N -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" "$DBZ_DB" \
	    -e "INSERT INTO $DBZ_STOP_TABLE SELECT COALESCE(MAX(id), 0) + 1 FROM $DBZ_STOP_TABLE;
		SELECT MAX(id) FROM $DBZ_STOP_TABLE"
}

# dbz_prime STATE: Debezium on the binlog's current end. Stop rows go in
# until the runner has seen one (it reads only what comes after it
# started); returns non-zero when it has not within TIMEOUT (120) seconds.
dbz_prime() {
	local pid i rc=0
	dbz_java "$1/props" /dev/null "dbz.$DBZ_DB.$DBZ_STOP_TABLE" any 2>"$1/prime.err" &
	pid=$!
	for ((i = 0; i < ${TIMEOUT:-120} * 2; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		dbz_stop_row >/dev/null
		sleep 0.5
	done
	kill "$pid" 2>/dev/null && rc=1
	wait "$pid" || rc=$?
	return "$rc"
}

# dbz_read STATE OUT ID: Debezium from where its last run stopped up to the
# stop row ID (dbz_stop_row's), events to OUT as JSON lines; its figures
# line on stderr (see DebeziumRunner.java).
dbz_read() {
	dbz_java "$1/props" "$2" "dbz.$DBZ_DB.$DBZ_STOP_TABLE" "$3"
}
