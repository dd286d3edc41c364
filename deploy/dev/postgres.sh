#!/usr/bin/env bash
# A private PostgreSQL cluster for development: data and socket under DIR,
# listening on 127.0.0.1:PORT. Usage: postgres.sh start|stop|psql DIR PORT
set -euo pipefail
action="$1" dir="$(realpath -m "$2")" port="$3"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null; then bindir="$(dirname "$(command -v pg_ctl)")"; fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found. Install them: apt-get install postgresql (Debian), brew install postgresql@16 (macOS)." >&2
  exit 1
fi

# initdb refuses to run as root: run the cluster as the postgres user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# As root, the cluster's folder must be reachable by the postgres user. A
# clone under a folder closed to other users (a home of mode 0700) is not:
# the cluster then lives in a folder of the postgres user's home, one per
# clone path, and DIR becomes a link to it, so the next run finds it again.
reachable_by_postgres() { runuser -u postgres -- test -x "$1" 2>/dev/null; }
if [ "$(id -u)" = 0 ] && [ "$action" = start ] && [ ! -f "$dir/PG_VERSION" ] && [ ! -L "$2" ]; then
  parent="$(dirname "$dir")"
  mkdir -p "$parent"
  if ! id postgres >/dev/null 2>&1; then
    echo "No postgres user: install the server package (apt-get install postgresql), which creates it." >&2
    exit 1
  fi
  if ! reachable_by_postgres "$parent"; then
    home="$(getent passwd postgres | cut -d: -f6)"
    if [ -z "$home" ] || [ ! -d "$home" ] || ! reachable_by_postgres "$home"; then
      echo "The postgres user cannot enter $parent (a parent folder is closed to other users) and has no home to keep the cluster in." >&2
      echo "Either open the path to it (chmod o+x on each closed parent folder), or clone the project under a folder it can enter (/srv, /opt)." >&2
      exit 1
    fi
    elsewhere="$home/procuration/$(printf %s "$dir" | sha256sum | cut -c1-16)"
    # The link was gone, so its .data/ was wiped: so is the cluster it named.
    rm -rf "$elsewhere"
    mkdir -p "$elsewhere"
    chown postgres "$home/procuration" "$elsewhere"
    rm -rf "$dir"
    ln -s "$elsewhere" "$dir"
    echo "==> $parent is closed to the postgres user: the cluster lives in $elsewhere ($dir links to it)"
    dir="$elsewhere"
  fi
fi

case "$action" in
start)
  if [ ! -f "$dir/PG_VERSION" ]; then
    echo "==> creating a PostgreSQL cluster in $dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
    as_owner "$bindir/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
      { cat "$dir.initdb.log" >&2; exit 1; }
  fi
  if as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    echo "==> PostgreSQL already running on port $port"
  else
    echo "==> starting PostgreSQL on 127.0.0.1:$port"
    as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
  fi
  if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='procuration'" | grep -q 1; then
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres procuration
  fi
  ;;
stop)
  if [ -f "$dir/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    echo "==> PostgreSQL stopped"
  fi
  ;;
psql) # the cluster's own client, with psql's arguments after PORT
  shift 3
  exec "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres "$@"
  ;;
*) echo "usage: $0 start|stop|psql DIR PORT [psql arguments]" >&2; exit 2 ;;
esac
