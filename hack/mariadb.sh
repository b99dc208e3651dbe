#!/usr/bin/env bash
# hack/mariadb.sh: the MariaDB server herald's mysql sink is tested against.
#
#   hack/mariadb.sh install            install Debian's mariadb-server if mariadbd is absent
#                                      (no system service is started or needed)
#   hack/mariadb.sh bin                print the paths of mariadbd and mariadb-install-db
#   hack/mariadb.sh start DIR [PORT]   create a private instance in DIR (datadir, socket, log),
#                                      start it on 127.0.0.1:PORT (a free port if absent), wait
#                                      until it answers, and print the DSN to use
#   hack/mariadb.sh stop DIR           stop the instance started in DIR
#
# The Go tests (test/mariadb) start their own instance the same way; this script is for
# installing the server and for poking at an instance by hand.
set -euo pipefail

die() { echo "hack/mariadb.sh: $*" >&2; exit 1; }

find_bin() { # name...: first one found on PATH or in the Debian locations
	local n d
	for n in "$@"; do
		if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
		for d in /usr/sbin /usr/bin /usr/libexec /usr/local/sbin /usr/local/bin; do
			if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
		done
	done
	return 1
}

mariadbd_bin() { find_bin mariadbd mysqld; }
installdb_bin() { find_bin mariadb-install-db mysql_install_db; }

cmd_install() {
	if mariadbd_bin >/dev/null && installdb_bin >/dev/null; then
		echo "mariadb already installed: $(mariadbd_bin) ($("$(mariadbd_bin)" --version))"
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "installing mariadb-server needs root (apt-get); run: sudo $0 install"
	command -v apt-get >/dev/null || die "apt-get not found: install MariaDB (mariadbd, mariadb-install-db) with your system's package manager"
	# A package's postinst must not start a system service: herald's tests run private instances.
	local policy=/usr/sbin/policy-rc.d created_policy=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		created_policy=1
	fi
	local rc=0 lock="${XDG_CACHE_HOME:-$HOME/.cache}/herald/apt.lock"
	mkdir -p "$(dirname "$lock")"
	# hack/promtool.sh may run apt-get at the same moment (servers.sh starts both); one at a time.
	flock "$lock" bash -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server' || rc=$?
	[ -n "$created_policy" ] && rm -f "$policy"
	[ "$rc" = 0 ] || die "apt-get failed (exit $rc): mariadb-server is not installed; the mysql sink tests need it (see the apt output above)"
	mariadbd_bin >/dev/null || die "apt-get succeeded but mariadbd is not found"
	echo "installed: $(mariadbd_bin) ($("$(mariadbd_bin)" --version))"
}

free_port() {
	python3 - 2>/dev/null <<'EOF' || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

cmd_start() {
	local dir=${1:?usage: $0 start DIR [PORT]} port=${2:-}
	local mysqld installdb
	mysqld=$(mariadbd_bin) || die "mariadbd not found: run hack/mariadb.sh install"
	installdb=$(installdb_bin) || die "mariadb-install-db not found: run hack/mariadb.sh install"
	[ -n "$port" ] || port=$(free_port)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	local user
	user=$(id -un)
	if [ ! -d "$dir/data/mysql" ]; then
		"$installdb" --no-defaults --datadir="$dir/data" --user="$user" \
			--auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
			die "mariadb-install-db failed; see $dir/install.log"
	fi
	"$mysqld" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" --port="$port" \
		--bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
		--user="$user" --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=64M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci >/dev/null 2>&1 &
	local i
	for i in $(seq 1 100); do
		[ -S "$dir/mysqld.sock" ] && [ -s "$dir/mysqld.pid" ] && break
		sleep 0.1
	done
	[ -S "$dir/mysqld.sock" ] || die "mariadbd did not start; see $dir/error.log"
	echo "$port" >"$dir/port"
	echo "mariadbd pid $(cat "$dir/mysqld.pid") on 127.0.0.1:$port, socket $dir/mysqld.sock"
	echo "DSN: root@tcp(127.0.0.1:$port)/mysql   (root has no password; as a --sink: mysql:?root@tcp(127.0.0.1:$port)/DB?charset=utf8mb4&table=kube_event)"
}

cmd_stop() {
	local dir=${1:?usage: $0 stop DIR}
	[ -s "$dir/mysqld.pid" ] || die "no $dir/mysqld.pid: nothing started there"
	local pid
	pid=$(cat "$dir/mysqld.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || { echo "stopped mariadbd pid $pid"; return 0; }
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	echo "killed mariadbd pid $pid (it did not stop within 10s)"
}

case "${1:-}" in
install) cmd_install ;;
bin)
	mariadbd_bin || die "mariadbd not found: run hack/mariadb.sh install"
	installdb_bin || die "mariadb-install-db not found: run hack/mariadb.sh install"
	;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) sed -n '2,13p' "$0"; exit 2 ;;
esac
