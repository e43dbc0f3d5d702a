# Installed by the compat corpus.
export COMPAT_HOME=/srv/compat
alias ll='ls -l'
