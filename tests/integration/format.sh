#!/bin/sh
# make format-check (scripts/format-check.sh) on a small tree with the
# project's .clang-format: it passes on well-formatted files, fails and
# names the file on a mis-formatted one, and in a git checkout looks at
# the tracked files only. Skips without clang-format.
. "$top_srcdir/tests/tap/tap.sh"
script=$top_srcdir/scripts/format-check.sh
command -v "${CLANG_FORMAT:-clang-format}" >/dev/null 2>&1 ||
  skip_all "clang-format not found (Debian: apt-get install clang-format)"
plan 10
tap_tmpdir; tmp=$tap_tmp
t=$tmp/tree
mkdir -p "$t/src/core" "$t/include/stdbp"
cp "$top_srcdir/.clang-format" "$t/"

# Formatted as .clang-format says (4 spaces, Linux braces, 100 columns).
cat > "$t/src/core/good.c" <<'EOF'
#include "stdbp/good.h"

int stdbp_good_sum(const int *v, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] > 0)
            s += v[i];
    }
    return s;
}
EOF
cat > "$t/include/stdbp/good.h" <<'EOF'
#ifndef STDBP_GOOD_H
#define STDBP_GOOD_H

int stdbp_good_sum(const int *v, int n);

#endif
EOF

sh "$script" "$t" > "$tmp/out" 2>&1
ok $? "well-formatted files pass"
grep -q "2 files formatted" "$tmp/out"
ok $? "it says how many files it checked"

# Two spaces, a brace on the same line, two statements on one line.
cat > "$t/src/core/bad.c" <<'EOF'
int stdbp_bad(int x) {
  int y = x; return y;
}
EOF
sh "$script" "$t" > "$tmp/out" 2>&1
rc=$?
[ $rc = 1 ]
ok $? "a mis-formatted file fails (exit $rc)"
grep -q '^  src/core/bad\.c$' "$tmp/out"
ok $? "the output names it"
! grep -q 'good\.[ch]' "$tmp/out"
ok $? "and not the well-formatted ones"
[ $rc = 1 ] || sed 's/^/#   /' "$tmp/out" >&2

cp "$t/src/core/bad.c" "$t/include/stdbp/bad.h"
sh "$script" "$t" > "$tmp/out" 2>&1
[ $? = 1 ] && grep -q '^  include/stdbp/bad\.h$' "$tmp/out" && grep -q '^  src/core/bad\.c$' "$tmp/out"
ok $? "headers are checked too, every bad file is listed"
rm -f "$t/include/stdbp/bad.h"

"${CLANG_FORMAT:-clang-format}" -i --style=file "$t/src/core/bad.c"
sh "$script" "$t" > "$tmp/out" 2>&1
ok $? "after clang-format -i it passes"

# Without .clang-format it cannot check: exit 2, not a pass.
rm "$t/.clang-format"
sh "$script" "$t" > "$tmp/out" 2>&1
[ $? = 2 ]
ok $? "no .clang-format: exit 2"
cp "$top_srcdir/.clang-format" "$t/"

# In a git checkout: the tracked files only.
if command -v git >/dev/null 2>&1; then
  printf 'int stdbp_untracked(void) { return 0; }\n' > "$t/src/core/untracked.c"
  (cd "$t" && git init -q . && git add .clang-format src include) >/dev/null 2>&1
  git -C "$t" rm -q --cached src/core/untracked.c >/dev/null 2>&1
  sh "$script" "$t" > "$tmp/out" 2>&1
  ok $? "git checkout: an untracked mis-formatted file is not checked"
  git -C "$t" add src/core/untracked.c >/dev/null 2>&1
  sh "$script" "$t" > "$tmp/out" 2>&1
  [ $? = 1 ] && grep -q '^  src/core/untracked\.c$' "$tmp/out"
  ok $? "git checkout: once tracked, it fails"
else
  echo "ok $((tap_n = tap_n + 1)) # SKIP no git"
  echo "ok $((tap_n = tap_n + 1)) # SKIP no git"
fi
tap_done
