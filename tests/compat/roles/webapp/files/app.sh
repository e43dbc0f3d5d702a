#!/bin/sh
# A stand-in application: --check prints its port, --serve idles, --init prints a stamp.
conf=/srv/compat/etc/app.conf
case "$1" in
  --check) sed -n 's/^listen = .*:\([0-9]*\)$/port=\1/p' "$conf" ;;
  --init) echo initialized ;;
  --serve) exec sleep infinity ;;
  *) echo "usage: $0 --check|--init|--serve" >&2; exit 2 ;;
esac
