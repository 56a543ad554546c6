#!/usr/bin/env bash
# scripts/stack: MariaDB writes a row-based binlog that a cdc client can read,
# from the file and over the replication protocol.
. "$(dirname "$0")/lib.sh"
need_stack

db=t0005_mariadb_$$
marker="marker-$db-é"
my() {
	MYSQL_PWD=$CDC_MYSQL_PASSWORD mariadb --no-defaults -N -B \
	    -h "$CDC_MYSQL_HOST" -P "$CDC_MYSQL_PORT" -u "$CDC_MYSQL_USER" "$@"
}

check "tcp login as cdc" my -e 'SELECT 1'
check_eq "binlog settings" \
    "$(my -e 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image,
        @@binlog_row_metadata, @@gtid_strict_mode, @@server_id' 2>&1)" \
    "$(printf '1\tROW\tFULL\tFULL\t1\t1')"
check "create and insert" my -e "CREATE DATABASE $db;
    CREATE TABLE $db.t (id INT PRIMARY KEY, s VARCHAR(64))
        DEFAULT CHARSET=utf8mb4;
    INSERT INTO $db.t VALUES (1, '$marker')"

file=$(my -e 'SHOW MASTER STATUS' 2>"$T/status.err" | cut -f1)
check "binlog file in CDC_MYSQL_BINLOG_DIR" \
    test -s "$CDC_MYSQL_BINLOG_DIR/${file:-none}"

rc=0
mariadb-binlog --no-defaults --verbose --base64-output=DECODE-ROWS \
    "$CDC_MYSQL_BINLOG_DIR/${file:-none}" >"$T/file.txt" 2>"$T/file.err" ||
    rc=$?
check_eq "mariadb-binlog on the file exits 0" "$rc" 0
check "insert in the binlog file" grep -qF "### INSERT INTO \`$db\`.\`t\`" \
    "$T/file.txt"
check "value in the binlog file" grep -qF "###   @2='$marker'" "$T/file.txt"
check "gtid in the binlog file" grep -qE 'GTID 0-1-[0-9]+ trans' "$T/file.txt"

# The same over the network proves the cdc user may act as a replica.
rc=0
MYSQL_PWD=$CDC_MYSQL_PASSWORD mariadb-binlog --no-defaults \
    --read-from-remote-server -h "$CDC_MYSQL_HOST" -P "$CDC_MYSQL_PORT" \
    -u "$CDC_MYSQL_USER" --verbose --base64-output=DECODE-ROWS \
    "${file:-none}" >"$T/remote.txt" 2>"$T/remote.err" || rc=$?
check_eq "mariadb-binlog over the network exits 0" "$rc" 0
check "value in the remote binlog" grep -qF "###   @2='$marker'" \
    "$T/remote.txt"

check "drop database" my -e "DROP DATABASE $db"
