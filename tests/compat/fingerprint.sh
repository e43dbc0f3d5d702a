#!/bin/sh
# Prints the end state the compat corpus manages, normalised (host names and addresses
# replaced), so two hosts converged by different tools can be compared line by line.
{
for p in /srv/compat /etc/compat /etc/profile.d/compat.sh /etc/sysctl.d/60-compat.conf \
         /etc/sudoers.d/compat /etc/systemd/system/compat-app.service /etc/cron.d/compat-backup \
         /usr/local/bin/compat-backup /var/backups/compat; do
  find "$p" -printf '%p %y %m %u %g %l\n' 2>/dev/null | sort
  find "$p" -type f 2>/dev/null | sort | while read -r f; do echo "== $f"; cat "$f"; done
done
for u in compat_alice compat_bob; do
  getent passwd "$u" | cut -d: -f1,3,5,6,7; id -Gn "$u"
  echo "== ~$u/.ssh"; find "/home/$u/.ssh" -printf '%p %y %m %u %g\n' 2>/dev/null | sort; cat "/home/$u/.ssh/authorized_keys" 2>/dev/null
done
getent group compat | cut -d: -f1,3
echo "service: $(systemctl is-active compat-app) $(systemctl is-enabled compat-app)"
echo "sysctl: $(sysctl -n net.core.somaxconn) $(sysctl -n net.ipv4.tcp_fin_timeout)"
dpkg-query -W -f='${Package} ${Status}\n' tree cron
} | sed -e 's/lab[0-9][0-9]*/HOST/g' -e 's/10\.77\.0\.[0-9]*/IP/g'
