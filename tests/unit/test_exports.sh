#!/bin/sh
# The shared library exports exactly the public API: its defined dynamic
# symbols (functions and data) are the names that include/stdbp/*.h
# declare with STDBP_API, no more and no fewer. Internals (built with
# -fvisibility=hidden) stay in the library but are not exported.
. "$top_srcdir/tests/tap/tap.sh"
lib=$top_builddir/.libs/libstdbp.so
internal=$top_builddir/.libs/libstdbp_internal.a
NM=${NM:-nm}
command -v "$NM" >/dev/null 2>&1 || skip_all "no nm (binutils)"
[ -f "$lib" ] || skip_all "no shared library $lib (configured with --disable-shared?)"
plan 7
tap_tmpdir; tmp=$tap_tmp

# The names declared with STDBP_API: comments and preprocessor lines out,
# then per declaration the identifier before its "(" (a function) or
# before its ";", "[" or "=" (data).
for h in "$top_srcdir"/include/stdbp/*.h; do
  cat "$h"; echo
done | awk '
  { text = text "\n" $0 }
  END {
    while ((i = index(text, "/*")) > 0) {
      rest = substr(text, i + 2); j = index(rest, "*/")
      text = substr(text, 1, i - 1) " " (j ? substr(rest, j + 2) : "")
    }
    n = split(text, lines, "\n"); text = ""
    for (k = 1; k <= n; k++) if (lines[k] !~ /^[ \t]*#/) text = text " " lines[k]
    gsub(/\(\*/, " ", text)   # a function returning a function pointer
    while ((i = index(text, "STDBP_API")) > 0) {
      text = substr(text, i + 9)
      decl = text; sub(/[(;[=].*/, "", decl)
      if (match(decl, /[A-Za-z_][A-Za-z_0-9]*[ \t]*$/)) {
        name = substr(decl, RSTART, RLENGTH); sub(/[ \t]+$/, "", name); print name
      }
    }
  }' | LC_ALL=C sort -u > "$tmp/api"
n_api=$(wc -l < "$tmp/api" | tr -d ' ')
[ "$n_api" -ge 100 ]
ok $? "include/stdbp/*.h declare $n_api names with STDBP_API"

# Defined dynamic symbols; names starting with "_" are reserved for the
# implementation (_init, __bss_start, sanitizer helpers), never stdbp's.
"$NM" -D --defined-only "$lib" > "$tmp/nm.out"
ok $? "nm -D --defined-only libstdbp.so"
awk 'NF >= 3 { print $3 }' "$tmp/nm.out" | sed 's/@.*//' | grep -v '^_' | LC_ALL=C sort -u > "$tmp/exported"

extra=$(LC_ALL=C comm -13 "$tmp/api" "$tmp/exported")
[ -z "$extra" ]
ok $? "every exported symbol is declared STDBP_API in include/stdbp/"
[ -z "$extra" ] || { diag "exported but not public (give them STDBP_API, or keep them internal):"
  printf '%s\n' "$extra" | sed 's/^/#   /' >&2; }

missing=$(LC_ALL=C comm -23 "$tmp/api" "$tmp/exported")
[ -z "$missing" ]
ok $? "every STDBP_API declaration is exported"
[ -z "$missing" ] || { diag "declared STDBP_API but not exported (not defined, or defined without the header):"
  printf '%s\n' "$missing" | sed 's/^/#   /' >&2; }

# Internals exist in the library (its convenience archive defines them,
# stdbp_hw_default_profile_yaml among them) but are not exported.
"$NM" --defined-only "$internal" 2>/dev/null | awk 'NF >= 3 && $2 ~ /^[TDRBVWi]$/ { print $3 }' |
  LC_ALL=C sort -u > "$tmp/globals"
LC_ALL=C comm -23 "$tmp/globals" "$tmp/api" > "$tmp/internals"
n_int=$(wc -l < "$tmp/internals" | tr -d ' ')
leaked=$(LC_ALL=C comm -12 "$tmp/internals" "$tmp/exported")
[ "$n_int" -ge 50 ] && grep -qx stdbp_hw_default_profile_yaml "$tmp/internals" && [ -z "$leaked" ]
ok $? "the $n_int internal global symbols (stdbp_hw_default_profile_yaml, ...) are hidden"
[ -z "$leaked" ] || { diag "internal but exported:"; printf '%s\n' "$leaked" | sed 's/^/#   /' >&2; }

# -version-info 1:0:0 gives the soname libstdbp.so.1.
if command -v readelf >/dev/null 2>&1; then
  soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
  [ "$soname" = libstdbp.so.1 ]
  ok $? "soname is libstdbp.so.1 (got '$soname')"
else
  echo "ok $((tap_n = tap_n + 1)) # SKIP no readelf"
fi

# No public name outside the stdbp_ namespace.
odd=$(grep -v '^stdbp_' "$tmp/api")
[ -z "$odd" ]
ok $? "every public name starts with stdbp_"
[ -z "$odd" ] || printf '%s\n' "$odd" | sed 's/^/#   /' >&2
tap_done
