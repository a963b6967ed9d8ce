#!/bin/sh
# format-check.sh [SRCDIR]: are the C sources of SRCDIR (default: the tree
# this script is in) formatted as its .clang-format says? Checks the
# tracked *.c and *.h files in a git checkout, else every *.c and *.h
# under src/ include/ tests/ bench/. Lists the files that are not and
# exits 1; 0 if all are; 2 if it cannot check (no clang-format, no
# .clang-format). `make format-check` runs it. CLANG_FORMAT names the
# program (default: clang-format).
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -u

top=${1:-$(dirname "$0")/..}
cf=${CLANG_FORMAT:-clang-format}
if [ $# -gt 1 ] || [ ! -d "$top" ]; then
  echo "usage: format-check.sh [SRCDIR]" >&2
  exit 2
fi
cd "$top" || exit 2
if ! command -v "$cf" >/dev/null 2>&1; then
  echo "format-check.sh: $cf not found (Debian: apt-get install clang-format)" >&2
  exit 2
fi
if [ ! -f .clang-format ]; then
  echo "format-check.sh: no .clang-format in $(pwd)" >&2
  exit 2
fi

# The git checkout's tracked files, if SRCDIR is the top of one.
here=$(pwd -P)
gittop=$(git rev-parse --show-toplevel 2>/dev/null || true)
if [ -n "$gittop" ] && [ "$(cd "$gittop" && pwd -P)" = "$here" ]; then
  files=$(git ls-files -- '*.c' '*.h')
else
  # The generated default hardware profile is not formatted.
  files=$(find src include tests bench -type f \( -name '*.c' -o -name '*.h' \) \
            ! -name profile_default.c 2>/dev/null | LC_ALL=C sort)
fi

n=$(printf '%s\n' $files | grep -c .)
[ "$n" -gt 0 ] || { echo "format-check.sh: no *.c or *.h files in $(pwd)" >&2; exit 2; }
# One run over all files; each one that differs is named in a
# "FILE:LINE:COL: error: code should be clang-formatted" line.
# shellcheck disable=SC2086
out=$("$cf" --style=file --dry-run --Werror $files 2>&1)
rc=$?
bad=$(printf '%s\n' "$out" | sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' |
        LC_ALL=C sort -u | tr '\n' ' ')
bad=${bad% }
if [ $rc != 0 ] && [ -z "$bad" ]; then
  echo "format-check.sh: $cf failed:" >&2
  printf '%s\n' "$out" >&2
  exit 2
fi
if [ -n "$bad" ]; then
  echo "format-check.sh: not formatted as .clang-format says (checked $n files):"
  for f in $bad; do echo "  $f"; done
  echo "Fix: clang-format -i $bad"
  exit 1
fi
echo "format-check.sh: $n files formatted as .clang-format says"
exit 0
