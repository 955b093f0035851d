# Sourced by experiments/oracle.sh and experiments/text.sh: their shared option parsing and the GAN recipes both run,
# kept in one place so that a README row's recipe has one definition.
#
#   source experiments/gan_recipes.sh; parse_seeds_and_dir oracle "$@"   # sets SEEDS (default "42 43 44") and R
#   check_bridges                                                         # every key of $BRIDGES is a recipe below
parse_seeds_and_dir() {
  local name=$1; shift
  SEEDS="42 43 44"
  while [[ $# -gt 0 ]]; do
    case $1 in
      --seeds) SEEDS=$2; shift 2 ;;
      -*) echo "unknown option $1; usage: bash experiments/$name.sh [--seeds \"42 43 44\"] [runs_dir]" >&2; exit 2 ;;
      *) R=$1; shift ;;
    esac
  done
  R=${R:-runs}
}
# Each bridge's options on top of the task's defaults for --method gan (DEFAULTS["gan"]); the run is <task>-gan-<key>-seed<seed>.
declare -A BRIDGE_OPTS=(
  [reinforce]="--bridge reinforce"
  # ColdGAN-style: G's step samples at T = 0.7 and corrects by the clipped importance ratio (--cold_clip 5).
  [cold]="--bridge reinforce --cold_temperature 0.7"
  [dense]="--bridge dense --disc_causal"
  # ScratchGAN-style (d'Autume et al. 2019): per-prefix rewards of a causal D (GPT-2 blocks: layer norm) trained on
  # every prefix, discount 0.23, a 4x larger batch (their 512 is 8x; this CPU pays 4x already), D regularised by
  # dropout 0.1 and AdamW weight decay 0.01 (the defaults; their L2 was 1e-6 on a from-scratch LSTM).
  [scratch]="--bridge dense --disc_causal --dense_gamma 0.23 --batch_size 256"
  [gumbel]="--bridge gumbel --gan_loss rsgan"
  [st-gumbel]="--bridge st-gumbel --gan_loss rsgan"
  # Rollouts cost ~10 decoder steps per sampled token: fewer, richer steps for the same CPU budget.
  [rollout]="--bridge rollout --num_rollouts 8 --adv_steps 60 --gan_eval_every 5"
  # text: the earlier defaults (G learning rate 1e-4, no MLE term), kept as a measured failure.
  [reinforce-nomle]="--bridge reinforce --g_learning_rate 1e-4 --mle_weight 0"
  [gumbel-nomle]="--bridge gumbel --gan_loss rsgan --g_learning_rate 1e-4 --mle_weight 0"
)
# A misspelt key would otherwise run the task's default bridge under the misspelt name: stop before any training.
check_bridges() {
  local b
  for b in $BRIDGES; do
    [[ -v BRIDGE_OPTS[$b] ]] || { echo "unknown recipe '$b' in BRIDGES; choose from: ${!BRIDGE_OPTS[*]}" >&2; exit 2; }
  done
}
