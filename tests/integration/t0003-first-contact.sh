#!/usr/bin/env bash
# First contact: the README's two commands as the first commands in a fresh
# copy of the repository, on a machine whose -dev packages appear only once
# scripts/deps has installed them. PATH shims stand in for that machine:
# pkg-config finds nothing and dpkg-query says libzstd-dev is missing until
# apt-get (a shim that records its arguments) has "installed" it. Then
#   - a plain `make` stops at once with one line naming the libraries;
#   - `make test` installs, builds in a new make and runs the unit tests
#     (CDC_TESTS matches no integration test: this one runs them all);
#   - `make demo` shows the shop tables arriving in ClickHouse.
# The copy uses the running stack (CDC_STACK_DIR) and Kafka's jars
# (CDC_DEPS_DIR) of this checkout, so it starts nothing of its own.
. "$(dirname "$0")/lib.sh"
need_stack

C=$T/clone
SHIM=$T/shim
STAMP=$T/installed
mkdir -p "$C" "$SHIM"
# Tracked files and new ones not ignored: the tree as a commit would have it.
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    (cd "$ROOT" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -xf - -C "$C"

real_pkg=$(command -v pkg-config)
real_dpkg=$(command -v dpkg-query)
cat >"$SHIM/pkg-config" <<EOF
#!/bin/sh
[ -e "$STAMP" ] || exit 1
exec "$real_pkg" "\$@"
EOF
cat >"$SHIM/dpkg-query" <<EOF
#!/bin/sh
for a; do last=\$a; done
if [ ! -e "$STAMP" ] && [ "\$last" = libzstd-dev ]; then
	printf 'not-installed'
	exit 0
fi
exec "$real_dpkg" "\$@"
EOF
cat >"$SHIM/apt-get" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T/apt.log"
case " \$* " in *" install "*) touch "$STAMP" ;; esac
exit 0
EOF
printf '#!/bin/sh\nexec "$@"\n' >"$SHIM/sudo"
chmod +x "$SHIM"/*

export PATH=$SHIM:$PATH
export CDC_STACK_DIR=${CDC_STACK_DIR:-$ROOT/.stack}
export CDC_DEPS_DIR=${CDC_DEPS_DIR:-$ROOT/.deps}
unset CDC_BIN MAKEFLAGS MFLAGS MAKELEVEL

rc=0
(cd "$C" && make) >"$T/make.out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q 'pkg-config cannot find' "$T/make.out" &&
    [ ! -e "$C/bin/binlog2avro" ]; then
	t_ok "make before the libraries: stops at once, naming them"
else
	t_fail "make before the libraries" "exit $rc: $(tail -n 2 "$T/make.out" | tr '\n' ' ')"
fi

rc=0
(cd "$C" && make test CDC_TESTS=no-integration-test) >"$T/test.out" 2>&1 || rc=$?
last=$(tail -n 1 "$T/test.out")
if [ "$rc" -eq 0 ] && [[ $last =~ ^[1-9][0-9]*\ passed,\ 0\ failed,\ 0\ skipped$ ]]; then
	t_ok "make test as the first command: installs, builds, passes ($last)"
else
	t_fail "make test as the first command" "exit $rc: $(grep -m 3 -E 'error|not ok' "$T/test.out" | tr '\n' ' ') $last"
fi
check "make test ran apt-get install with libzstd-dev" \
    grep -q '^install .*libzstd-dev' "$T/apt.log"
check "the tools built by make test run" "$C/bin/binlog2avro" --version

rc=0
(cd "$C" && DEMO_SECONDS=25 make demo) >"$T/demo.out" 2>&1 || rc=$?
# The last dashboard: every customer in ClickHouse, and orders arriving.
cust=$(awk '$1 == "customers" {m = $2; c = $3} END {print m " " c}' "$T/demo.out")
orders=$(awk '$1 == "orders" {c = $3} END {print c + 0}' "$T/demo.out")
if [ "$rc" -eq 0 ] && [ "$cust" = "1000 1000" ] && [ "$orders" -ge 5000 ]; then
	t_ok "make demo: the shop in ClickHouse (customers $cust, orders $orders)"
else
	t_fail "make demo" "exit $rc, customers '$cust', orders '$orders': $(grep -i -m 3 'error\|stopped' "$T/demo.out" | tr '\n' ' ')"
fi
