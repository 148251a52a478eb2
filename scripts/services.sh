#!/usr/bin/env bash
# Throwaway Redis, PostgreSQL and Prometheus for the demo, the tests and the benchmarks.
#
#   scripts/services.sh up       install what is missing, start what is not running (harmless to repeat)
#   scripts/services.sh down     stop everything this script started and delete its data
#   scripts/services.sh status   say what runs where
#   scripts/services.sh env      print REDIS_URL, DATABASE_URL and PROMETHEUS_URL as shell assignments
#
# Everything lives under $OLEADA_RUN_DIR (default .oleada/run) on ports of its own, never the standard ones.
# When REDIS_URL, DATABASE_URL or PROMETHEUS_URL is already set, that server is used and nothing is started for it.
# Prometheus scrapes every file_sd target file dropped into $OLEADA_RUN_DIR/prometheus/targets/ (kube-sim writes one
# per cluster), every $OLEADA_SCRAPE_INTERVAL (default 1s).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run_dir=${OLEADA_RUN_DIR:-$root/.oleada/run}
redis_port=${OLEADA_REDIS_PORT:-16379}
pg_port=${OLEADA_PG_PORT:-15432}
prom_port=${OLEADA_PROMETHEUS_PORT:-19090}
scrape_interval=${OLEADA_SCRAPE_INTERVAL:-1s}
pg_bin=${OLEADA_PG_BIN:-}

say() { printf 'services: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# --- installing -------------------------------------------------------------------------------------------------

find_pg_bin() {
  if [ -n "$pg_bin" ]; then return; fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then pg_bin=$dir; return; fi
  done
  if command -v initdb >/dev/null 2>&1; then pg_bin=$(dirname "$(command -v initdb)"); fi
}

apt_updated=""
apt_install() {
  local package=$1 hint=$2
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "$package is not installed and this script can only install it as root on Debian. Install the package \"$package\", or set $hint to an existing server."
  fi
  # Debian starts a package's service on install unless policy-rc.d says no; we want only our own instances.
  local policy=/usr/sbin/policy-rc.d added_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=yes
  fi
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed; install \"$package\" by hand or set $hint"
    apt_updated=yes
  fi
  say "installing $package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
    || die "apt-get install $package failed; install it by hand or set $hint"
  [ -n "$added_policy" ] && rm -f "$policy"
  return 0
}

install_missing() {
  if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server REDIS_URL; fi
  if [ -z "${DATABASE_URL:-}" ]; then
    find_pg_bin
    if [ -z "$pg_bin" ]; then apt_install postgresql DATABASE_URL; find_pg_bin; fi
    [ -n "$pg_bin" ] || die "PostgreSQL's initdb was not found after installing; set OLEADA_PG_BIN or DATABASE_URL"
  fi
  if [ -z "${PROMETHEUS_URL:-}" ] && ! command -v prometheus >/dev/null 2>&1; then apt_install prometheus PROMETHEUS_URL; fi
}

# --- helpers ----------------------------------------------------------------------------------------------------

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not come up in time"
    sleep 0.1
  done
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# PostgreSQL's files must belong to the postgres user, who may not be able to reach a checkout under /root.
pg_dir() {
  local dir=$run_dir/postgres
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$run_dir"; then
    dir=/tmp/oleada-postgres-$pg_port
  fi
  printf '%s' "$dir"
}

# --- starting ---------------------------------------------------------------------------------------------------

start_redis() {
  [ -z "${REDIS_URL:-}" ] || return 0
  local dir=$run_dir/redis
  mkdir -p "$dir"
  if alive "$dir/redis.pid"; then return 0; fi
  port_busy "$redis_port" && die "port $redis_port is taken by another process; set OLEADA_REDIS_PORT or REDIS_URL"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  wait_for 10 "redis on port $redis_port" port_busy "$redis_port"
  say "redis ready on 127.0.0.1:$redis_port"
}

start_postgres() {
  [ -z "${DATABASE_URL:-}" ] || return 0
  find_pg_bin
  local dir; dir=$(pg_dir)
  if [ "$dir" != "$run_dir/postgres" ]; then mkdir -p "$run_dir"; ln -sfn "$dir" "$run_dir/postgres"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_postgres "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || die "initdb failed; see $dir/initdb.log"
  fi
  if as_postgres "$pg_bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return 0; fi
  port_busy "$pg_port" && die "port $pg_port is taken by another process; set OLEADA_PG_PORT or DATABASE_URL"
  as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null || die "PostgreSQL did not start; see $dir/postgres.log"
  say "postgresql ready on 127.0.0.1:$pg_port"
}

start_prometheus() {
  [ -z "${PROMETHEUS_URL:-}" ] || return 0
  local dir=$run_dir/prometheus
  mkdir -p "$dir/targets" "$dir/data"
  if alive "$dir/prometheus.pid"; then return 0; fi
  port_busy "$prom_port" && die "port $prom_port is taken by another process; set OLEADA_PROMETHEUS_PORT or PROMETHEUS_URL"
  cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: $scrape_interval
  scrape_timeout: $scrape_interval
  evaluation_interval: $scrape_interval
scrape_configs:
  - job_name: kube-sim
    file_sd_configs:
      - files: ['$dir/targets/*.json']
        refresh_interval: 1s
YAML
  nohup prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.retention.time=1d \
    --web.enable-lifecycle >"$dir/prometheus.log" 2>&1 &
  echo $! >"$dir/prometheus.pid"
  wait_for 30 "prometheus on port $prom_port (see $dir/prometheus.log)" curl -fsS "http://127.0.0.1:$prom_port/-/ready"
  say "prometheus ready on 127.0.0.1:$prom_port (scraping $dir/targets/*.json every $scrape_interval)"
}

# --- stopping ---------------------------------------------------------------------------------------------------

stop_pidfile() { # stop_pidfile FILE NAME
  if alive "$1"; then
    local pid; pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    say "$2 stopped"
  fi
  rm -f "$1"
}

down() {
  stop_pidfile "$run_dir/redis/redis.pid" redis
  stop_pidfile "$run_dir/prometheus/prometheus.pid" prometheus
  find_pg_bin
  local dir; dir=$(pg_dir)
  if [ -n "$pg_bin" ] && [ -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 && say "postgresql stopped"
  fi
  rm -rf "$dir" "$run_dir/redis" "$run_dir/prometheus" "$run_dir/postgres"
}

print_env() {
  printf "REDIS_URL='%s'\n" "${REDIS_URL:-redis://127.0.0.1:$redis_port}"
  printf "DATABASE_URL='%s'\n" "${DATABASE_URL:-postgres://postgres@127.0.0.1:$pg_port/postgres}"
  printf "PROMETHEUS_URL='%s'\n" "${PROMETHEUS_URL:-http://127.0.0.1:$prom_port}"
  printf "OLEADA_PROMETHEUS_TARGETS='%s'\n" "$run_dir/prometheus/targets"
}

# The report is the command's output, so it goes to stdout (the test set-up reads it to know what to stop after).
status() {
  report() { printf '%s\n' "$*"; }
  alive "$run_dir/redis/redis.pid" && report "redis: running on $redis_port" || report "redis: stopped"
  find_pg_bin
  if [ -n "$pg_bin" ] && as_postgres "$pg_bin/pg_ctl" -D "$(pg_dir)/data" status >/dev/null 2>&1; then
    report "postgresql: running on $pg_port"; else report "postgresql: stopped"; fi
  alive "$run_dir/prometheus/prometheus.pid" && report "prometheus: running on $prom_port" || report "prometheus: stopped"
}

case "${1:-}" in
  up)
    command -v curl >/dev/null 2>&1 || apt_install curl PROMETHEUS_URL
    install_missing
    mkdir -p "$run_dir"
    start_redis
    start_postgres
    start_prometheus
    ;;
  down) down ;;
  status) status ;;
  env) print_env ;;
  *) die "usage: scripts/services.sh up|down|status|env" ;;
esac
