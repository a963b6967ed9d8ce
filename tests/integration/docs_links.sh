#!/bin/sh
# Documents that stand on their own in a clone: no file outside the
# repository (a design note or reference list that is not in it, a
# neighbouring checkout, a machine's /work directory) and no issue numbers
# in docs/, README.md, or the comments of configs/, jobs/, scripts/, src/,
# include/, examples/, python/, packaging/; every relative Markdown link
# and every in-repository file path that docs/*.md or README.md names
# exists (or is generated from FILE.in); configs/smoke.yaml says that its
# low accuracy is by design.
. "$top_srcdir/tests/tap/tap.sh"
plan 5
cd "$top_srcdir" || exit 99
tap_tmpdir; tmp=$tap_tmp
where="docs README.md configs jobs scripts src include examples python packaging"

# 1. Files outside the repository.
# shellcheck disable=SC2086  # where: several paths
grep -rnE 'DESIGN\.md|REFERENCES\.md|\.\./shared|/work/' $where > "$tmp/outside" 2> /dev/null
[ ! -s "$tmp/outside" ]
ok $? "no references to files outside the repository"
sed 's/^/#   /' "$tmp/outside" >&2

# 2. Issue numbers: "issue 9", "issue #9", "#9" (not "&#9", "%#x", a
# colour "#1f77b4", "C#1" or a URL's fragment).
# shellcheck disable=SC2086
grep -rnE '[Ii]ssues? #?[0-9]+|(^|[^&%A-Za-z0-9/_"'"'"'])#[0-9]+([^0-9A-Za-z]|$)' $where 2> /dev/null |
  grep -vE '#[0-9a-fA-F]{6}([^0-9A-Za-z]|$)' > "$tmp/issues"
[ ! -s "$tmp/issues" ]
ok $? "no issue numbers"
sed 's/^/#   /' "$tmp/issues" >&2

# 3. Relative Markdown links.
: > "$tmp/links"
for f in docs/*.md README.md; do
  d=$(dirname "$f")
  grep -oE '\]\([^)]+\)' "$f" | sed 's/^](//; s/)$//; s/#.*//' | while read -r l; do
    case "$l" in "" | http://* | https://* | mailto:*) continue ;; esac
    [ -e "$d/$l" ] || echo "$f: link to $l" >> "$tmp/links"
  done
done
[ ! -s "$tmp/links" ]
ok $? "every relative Markdown link in docs/ and README.md exists"
sed 's/^/#   /' "$tmp/links" >&2

# 4. In-repository files named in docs/*.md and README.md. Not checked:
# placeholders (a part in capitals, such as configs/hw/NAME.yaml, or
# configs/x.yaml) and NIR's own docs/source/primitives.md (named as a file
# of NIR's repository in docs/NIR.md).
: > "$tmp/paths"
for f in docs/*.md README.md; do
  grep -oE '(^|[^A-Za-z0-9_./$-])(docs|configs|scripts|jobs|src|include|tests|examples|python|bench|packaging)/[A-Za-z0-9_./-]*\.(md|yaml|sh|c|h|py|sbatch|mk|am|ac|txt)([^A-Za-z0-9_]|$)' "$f" |
    sed -E 's/^[^a-z]//; s/[^A-Za-z0-9_]$//' | sort -u | while read -r p; do
      case "$p" in */x.yaml | docs/source/primitives.md) continue ;; esac
      echo "$p" | grep -qE '/[A-Z_]+(\.[a-z]+)?$|/[A-Z_]+/' && continue
      [ -e "$p" ] || [ -e "$p.in" ] || echo "$f: $p" >> "$tmp/paths"
    done
done
[ ! -s "$tmp/paths" ]
ok $? "every file of the repository that the docs name exists"
sed 's/^/#   /' "$tmp/paths" >&2

# 5. smoke.yaml's expectation.
grep -q '^#.*about 20 % test accuracy' configs/smoke.yaml &&
  grep -q '^#.*by design' configs/smoke.yaml &&
  grep -q 'smoke.yaml.*about 20 %.*by design' docs/CONFIG.md
ok $? "configs/smoke.yaml and docs/CONFIG.md: about 20 % accuracy, by design"
tap_done
