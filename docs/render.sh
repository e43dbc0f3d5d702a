#!/bin/sh
# Renders the architecture diagram from its Graphviz source (needs graphviz: apt-get install graphviz).
set -e
cd "$(dirname "$0")"
dot -Tsvg ha-stack.dot -o ha-stack.svg
