# Shared by speed.sh and bench_defaults.sh (sourced, not run): a previous release's code beside this checkout.
# absolute_data_dir: a relative SEQGAN_DATA_DIR must keep its meaning when a command starts in the release's folder.
# release_code DIR COMMIT: `git archive` COMMIT into DIR once, with its task modules where pyproject.toml installs
# them (seqgan/tasks), so that PYTHONPATH=DIR runs that release.
absolute_data_dir() {
  if [[ -n ${SEQGAN_DATA_DIR:-} ]]; then export SEQGAN_DATA_DIR; SEQGAN_DATA_DIR=$(cd "$SEQGAN_DATA_DIR" && pwd); fi
}
release_code() {
  [[ -d $1 ]] && return 0
  mkdir -p "$1"
  git archive "$2" | tar -x -C "$1"
  ln -s ../tasks "$1/seqgan/tasks"
}
