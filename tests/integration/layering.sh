#!/bin/sh
# The layering of docs/ARCHITECTURE.md (scripts/check-includes.sh): the
# real tree breaks no rule; one violation planted per rule in a copy makes
# the script fail and name the planted FILE:LINE and rule.
. "$top_srcdir/tests/tap/tap.sh"
script=$top_srcdir/scripts/check-includes.sh

plan 14
tap_tmpdir; tmp=$tap_tmp

sh "$script" "$top_srcdir" > "$tmp/real.out" 2>&1
ok $? "the source tree breaks no layering rule"
[ -s "$tmp/real.out" ] && { diag "check-includes.sh reports:"; sed 's/^/#   /' "$tmp/real.out" >&2; }
[ ! -s "$tmp/real.out" ]
ok $? "and prints nothing"

# A copy of the tree to plant violations in.
mkdir "$tmp/clean"
(cd "$top_srcdir" && tar -cf - src include tests bench) | (cd "$tmp/clean" && tar -xf -)
chmod -R u+w "$tmp/clean"

# plant RULE FILE LINE-TEXT NAME: append LINE-TEXT to FILE in a fresh copy
# of the clean tree; the script must fail and report FILE:LINE for RULE.
plant() {
  rm -rf "$tmp/p" && cp -R "$tmp/clean" "$tmp/p"
  printf '%s\n' "$3" >> "$tmp/p/$2"
  line=$(wc -l < "$tmp/p/$2" | tr -d ' ')
  sh "$script" "$tmp/p" > "$tmp/p.out" 2>&1
  rc=$?
  [ $rc = 1 ] && grep -q "^$2:$line: rule ($1): " "$tmp/p.out"
  ok $? "rule ($1) planted: $4"
  [ $rc = 1 ] && grep -q "^$2:$line: rule ($1): " "$tmp/p.out" ||
    { diag "exit $rc, expected $2:$line: rule ($1) in:"; sed 's/^/#   /' "$tmp/p.out" >&2; }
}
plant a src/core/rng.c '#include "stdbp/data.h"' "core includes the public header of data (above it)"
plant a src/hw/quant.c '#include "stdbp/sweep.h"' "hw includes the public header of sweep"
plant a src/train/trainer.c '#include "stdbp/stdbp.h"' "a library module includes the umbrella header"
plant b src/train/trainer.c '#include "ckpt/ckpt_impl.h"' "train includes a private header of ckpt"
plant b bench/bench_core.c '#include "core/layer.h"' "a benchmark includes a private header"
plant c src/cli/stdbp_train.c '#include "train/metrics.h"' "src/cli includes a private header of train"
plant c src/cli/cli_common.h '#include "util/log.h"' "src/cli includes a private header of util"
plant d src/hw/sim.c '#include <mpi.h>' "hw includes <mpi.h>"
plant d src/export/nir_write.c '#include "stdbp/ckpt.h"' "export reaches <mpi.h> through a public header"
plant e include/stdbp/net.h '#include "core/layer.h"' "a public header includes a private header"
plant e include/stdbp/hw.h '#include "hw/hw_impl.h"' "a public header includes its own private header"

# Usage errors are not violations.
sh "$script" "$tmp/nowhere" > /dev/null 2>&1
[ $? = 2 ]
ok $? "a directory without src/ and include/stdbp/ is a usage error (exit 2)"
tap_done
