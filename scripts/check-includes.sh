#!/bin/sh
# check-includes.sh [SRCDIR]: the layering rules of docs/ARCHITECTURE.md,
# checked on the #include lines of SRCDIR/{src,include,tests,bench}
# (default: the tree this script is in). Prints one line per violation,
# "FILE:LINE: rule (X): what. Fix: what to do", and exits 1 if there is
# any (0 if none, 2 on a usage error). `make check-includes` runs it.
#
#   (a) a module includes its own private headers ("mod/x.h", mod = its
#       folder) and public headers of its own module or of modules below
#       it; stdbp/stdbp.h (everything) only in src/cli, tests and bench
#   (b) a private header is included only in its folder and by tests
#       (src/util's headers: by every library module, not by src/cli);
#       bench includes public headers only
#   (c) src/cli includes public headers and its own cli/*.h only
#   (d) src/hw and src/export never reach <mpi.h>, directly or through
#       the headers they include (followed transitively)
#   (e) public headers include public headers only
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -u

top=${1:-$(dirname "$0")/..}
if [ $# -gt 1 ] || [ ! -d "$top/src" ] || [ ! -d "$top/include/stdbp" ]; then
  echo "usage: check-includes.sh [SRCDIR]  (SRCDIR holds src/ and include/stdbp/)" >&2
  exit 2
fi
cd "$top" || exit 2

files=$(find src include tests bench -type f \( -name '*.c' -o -name '*.h' -o -name '*.h.in' \) \
          2>/dev/null | LC_ALL=C sort)
[ -n "$files" ] || { echo "check-includes.sh: no sources under $top" >&2; exit 2; }
# shellcheck disable=SC2086
out=$(LC_ALL=C awk '
function fail(f, l, rule, msg, fix) {
  printf "%s:%d: rule (%s): %s. Fix: %s\n", f, l, rule, msg, fix
  nfail++
}
# The module whose public header stdbp/NAME is.
function pubmod(name) {
  sub(/^stdbp\//, "", name); sub(/\.h$/, "", name)
  return (name in pub) ? pub[name] : ""
}
# The module a file belongs to: its src/ folder, the module of a public
# header ("umbrella" for stdbp.h), "tests" or "bench".
function owner(f,   p) {
  if (f ~ /^src\//) { split(f, p, "/"); return p[2] }
  if (f ~ /^include\/stdbp\//) {
    p[1] = f; sub(/^include\/stdbp\//, "", p[1]); sub(/\.in$/, "", p[1])
    return p[1] == "stdbp.h" ? "umbrella" : pubmod(p[1])
  }
  if (f ~ /^tests\//) return "tests"
  return "bench"
}
function exists(path) {
  return (path in seen) || (path ".in" in seen)
}
# The file a quoted include names, or "" if there is none.
function resolve(f, name,   d, first) {
  if (index(name, "/") == 0) {
    d = f; sub(/[^\/]*$/, "", d)
    return exists(d name) ? d name : ""
  }
  first = name; sub(/\/.*/, "", first)
  if (first == "stdbp") return exists("include/" name) ? "include/" name : ""
  if (exists("src/" name)) return "src/" name
  if (exists("tests/" name)) return "tests/" name
  return ""
}
# Does file f reach <mpi.h>? Sets chain to the path that does.
function reaches_mpi(f, depth,   i, r, c) {
  if (f in mpiline) { chain = f ":" mpiline[f]; return 1 }
  if (depth > 32 || (f in visiting)) return 0
  visiting[f] = 1
  for (i = 1; i <= ninc[f]; i++) {
    if (ikind[f, i] != "q") continue
    r = resolve(f, iname[f, i])
    if (r != "" && reaches_mpi(r, depth + 1)) {
      chain = f ":" iline[f, i] " -> " chain
      delete visiting[f]
      return 1
    }
  }
  delete visiting[f]
  return 0
}
BEGIN {
  # The layering, bottom to top: the modules each one may use.
  below["util"] = ""
  below["core"] = "util"
  below["data"] = "util core"
  below["config"] = "util core data"
  below["dist"] = "util core data config"
  below["ckpt"] = "util core data config dist"
  below["train"] = "util core data config dist ckpt"
  below["hw"] = "util core data config"
  below["export"] = "util core data config ckpt"
  below["sweep"] = "util core data config dist ckpt train"
  # Public headers (include/stdbp/NAME.h) and their modules.
  n = split("error:util api:util version:util rng:core neuron:core net:core " \
            "loss:core optim:core data:data config:config dist:dist ckpt:ckpt " \
            "train:train hw:hw nir:export sweep:sweep", kv, " ")
  for (i = 1; i <= n; i++) { split(kv[i], p, ":"); pub[p[1]] = p[2] }
}
FNR == 1 { seen[FILENAME] = 1; ninc[FILENAME] = 0 }
/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
  line = $0
  sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
  k = ++ninc[FILENAME]
  ikind[FILENAME, k] = substr(line, 1, 1) == "\"" ? "q" : "a"
  sub(/^[<"]/, "", line); sub(/[>"].*$/, "", line)
  iname[FILENAME, k] = line
  iline[FILENAME, k] = FNR
  if (line == "mpi.h" && ikind[FILENAME, k] == "a") mpiline[FILENAME] = FNR
}
END {
  for (f in seen) {
    o = owner(f)
    if (o == "") {
      fail(f, 1, "e", "public header " f " belongs to no module",
           "add it to the public header map of scripts/check-includes.sh and docs/ARCHITECTURE.md")
      continue
    }
    allowed = " " o " " ((o in below) ? below[o] : "") " "
    for (i = 1; i <= ninc[f]; i++) {
      if (ikind[f, i] != "q") continue
      name = iname[f, i]; l = iline[f, i]
      if (resolve(f, name) == "") {
        fail(f, l, "a", "\"" name "\" is no header of the tree",
             "include public headers as \"stdbp/x.h\" and private ones as \"module/x.h\"")
        continue
      }
      if (index(name, "/") == 0) continue   # beside the file: its own folder
      first = name; sub(/\/.*/, "", first)
      if (first == "stdbp") {
        pm = pubmod(name)
        if (name == "stdbp/stdbp.h") {
          if (o != "cli" && o != "tests" && o != "bench" && o != "umbrella")
            fail(f, l, "a", "\"stdbp/stdbp.h\" (all of the API) used by module " o,
                 "include the public headers this file needs (stdbp/version.h for STDBP_VERSION)")
        } else if (pm == "") {
          fail(f, l, "e", "public header \"" name "\" belongs to no module",
               "add it to the public header map of scripts/check-includes.sh and docs/ARCHITECTURE.md")
        } else if (o != "cli" && o != "tests" && o != "bench" && o != "umbrella" &&
                   index(allowed, " " pm " ") == 0) {
          fail(f, l, "a", "module " o " includes \"" name "\" of module " pm ", which is not below it",
               "move the code to a module that may use " pm ", or what it needs down into " o)
        }
        continue
      }
      # A private header of module (or tests folder) first.
      if (f ~ /^include\//)
        fail(f, l, "e", "public header includes private header \"" name "\"",
             "include only stdbp/*.h here; move what it needs into a public header or the .c files")
      else if (o == first || o == "tests")
        continue
      else if (o == "cli")
        fail(f, l, "c", "src/cli includes private header \"" name "\"",
             "use the public API (stdbp/*.h) or cli/*.h; add what is missing to a public header")
      else if (o == "bench")
        fail(f, l, "b", "benchmark includes private header \"" name "\"",
             "benchmarks use the public API (stdbp/*.h) only; test internals in tests/unit")
      else if (first != "util")
        fail(f, l, "b", "module " o " includes \"" name "\", private to " (first == "tap" ? "tests" : "src/" first),
             "use the public header of " first " or move the code into " first)
    }
    # (d): hw and export stay free of MPI.
    if (f ~ /^src\/(hw|export)\//) {
      if (f in mpiline)
        fail(f, mpiline[f], "d", "src/" o " includes <mpi.h>",
             "hw and export run on one rank without MPI: move the MPI part to dist or src/cli")
      for (i = 1; i <= ninc[f]; i++) {
        if (ikind[f, i] != "q") continue
        r = resolve(f, iname[f, i]); chain = ""
        if (r != "" && reaches_mpi(r, 0))
          fail(f, iline[f, i], "d", "src/" o " reaches <mpi.h> through \"" iname[f, i] "\" (" chain ")",
               "hw and export must not see MPI: include an MPI-free header instead")
      }
    }
  }
  exit nfail > 0
}' $files)
rc=$?
[ -z "$out" ] || printf '%s\n' "$out" | LC_ALL=C sort -t: -k1,1 -k2,2n
exit $rc
