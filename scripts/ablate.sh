#!/bin/sh
# The ablation table of docs/RESULTS.md: train a recipe once as it is and
# once per changed setting, then print a Markdown table of the results.
#   sh scripts/ablate.sh [CONFIG] [EPOCHS]      (defaults: configs/mnist_mlp.yaml, 8)
# Runs go to runs/ablation/<variant>/ (an existing finished run is reused:
# --resume auto). NP ranks (default 1), BUILD_DIR (default build/) as for
# scripts/quickstart.sh; the results do not depend on NP.
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
np=${NP:-1}
config=${1:-configs/mnist_mlp.yaml}
epochs=${2:-8}
out=${ABLATION_DIR:-runs/ablation}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export STDBP_DATA=${STDBP_DATA:-$top/data}
cd "$top"
mkdir -p "$out"

# name|what changes|--set assignments (space-separated)
variants='recipe|as configured|
no-shift|no random shifts|augment.shift=0
no-penalty|no weight-sum penalty|train.weight_sum_penalty=0
no-clip|no per-neuron gradient clip|network.grad_clip=.inf
kaiming|Kaiming instead of fire initialisation|network.init.kind=kaiming
window-2|time window t_max = 2|network.t_max=2
beta-5|loss temperature beta = 5 instead of 20|loss.beta=5'

echo "$variants" | while IFS='|' read -r name what sets; do
  args=""
  for s in $sets; do args="$args --set $s"; done
  # stdin from /dev/null: mpirun would read the variant list.
  # shellcheck disable=SC2086
  mpirun -np "$np" --oversubscribe --bind-to none "$build/src/cli/stdbp_train" "$config" \
    --quiet --no-deploy --resume auto --set train.epochs="$epochs" \
    --set run.dir="$out/$name" $args < /dev/null > "$out/$name.log" 2>&1 ||
    { echo "ablate: $name failed; see $out/$name.log" >&2; exit 1; }
done

# metrics.csv columns: epoch,step,lr,train_loss,train_acc,val_loss,val_acc,
# test_loss,test_acc,epoch_seconds,samples_per_s,wall_seconds
echo "| variant | change | train acc. | best val. acc. | final test acc. |"
echo "|---|---|---|---|---|"
echo "$variants" | while IFS='|' read -r name what sets; do
  awk -F, -v name="$name" -v what="$what" '
    NR > 1 { train = $5; test = $9; if ($7 > best) best = $7 }
    END { printf "| %s | %s | %.2f %% | %.2f %% | %.2f %% |\n",
                 name, what, 100 * train, 100 * best, 100 * test }' "$out/$name/metrics.csv"
done
