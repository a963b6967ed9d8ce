#!/bin/sh
# Every script of scripts/ and bench/ answers -h and --help with its
# usage (naming the script) on stdout and exit status 0, within seconds,
# and does nothing else: no file in the working directory, no build, no
# run, no cluster. (A script that took --help for a directory or passed
# it on to make would start a test suite or a SLURM cluster instead.)
. "$top_srcdir/tests/tap/tap.sh"
tap_tmpdir; tmp=$tap_tmp

# A python3 with numpy (the Python scripts import it before parsing).
py=
for p in python3 /usr/bin/python3; do
  "$p" -c 'import numpy' > /dev/null 2>&1 && { py=$p; break; }
done

scripts=$(cd "$top_srcdir" && ls scripts/*.sh scripts/*.py scripts/netns-agent bench/*.sh)
n=0
for s in $scripts; do n=$((n + 2)); done
plan "$n"

for s in $scripts; do
  name=$(basename "$s")
  case $(head -n 1 "$top_srcdir/$s") in
    *python3*) run=$py ;;
    *bash*) run=bash ;;
    *) run=sh ;;
  esac
  for opt in -h --help; do
    if [ -z "$run" ]; then
      ok 0 "$s $opt # SKIP no python3 with numpy (Debian: python3-numpy)"
      continue
    fi
    rm -rf "$tmp/cwd" && mkdir "$tmp/cwd"
    (cd "$tmp/cwd" && timeout -s KILL 30 "$run" "$top_srcdir/$s" "$opt" \
      > "$tmp/out" 2> "$tmp/err"); status=$?
    made=$(ls -A "$tmp/cwd")
    [ "$status" -eq 0 ] && [ -z "$made" ] && grep -q -- "${name%.py}" "$tmp/out" &&
      [ "$(wc -l < "$tmp/out")" -ge 2 ]
    ok $? "$s $opt: usage on stdout, exit 0, nothing made (exit $status${made:+, made: $made})"
    [ "$status" -eq 0 ] || head -n 5 "$tmp/err" | sed 's/^/#   /' >&2
  done
done
tap_done
