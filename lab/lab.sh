#!/bin/bash
# hoist lab: N throw-away Debian bookworm hosts on one machine, driven by `hoist lab`.
#
# Each host is a systemd-nspawn container (systemd as PID 1, own pid/mount/uts/ipc namespaces) booted
# from an overlayfs clone of one cached debootstrapped rootfs, inside its own network namespace attached
# to a private bridge 10.77.0.0/24. The root namespace is 10.77.0.1; hosts get NO default route, no NAT,
# no forwarding. apt inside a host sees only a local repository prepared on the root namespace.
#
#   lab.sh deps              install host tools (systemd-container debootstrap dpkg-dev iproute2 ssh client openssl)
#   lab.sh base              build the cached rootfs in $BASE (debootstrap + security updates)
#   lab.sh repo PKG...       download PKG and its dependencies into the local apt repository $REPO
#   lab.sh up N              start hosts lab1..labN = 10.77.0.11.. and write $LAB/known_hosts
#   lab.sh check N           wait until sshd answers on every host (key auth as root)
#   lab.sh status            one line per host: name ip state
#   lab.sh kill_host NAME    crash one host (all its processes killed, its link down)
#   lab.sh start_host NAME   boot a crashed host again (as after a power cycle)
#   lab.sh down              stop everything and remove all state except $BASE and $REPO
#
# The binary embeds this file (hoist lab ...) and exports LAB, BASE, REPO.
set -euo pipefail
LAB=${LAB:-/var/tmp/hoist-lab/run}          # per-run state (keys, overlay dirs, logs)
BASE=${BASE:-/var/tmp/hoist-lab/base}       # lower layer, built once and cached between runs
REPO=${REPO:-/var/tmp/hoist-lab/repo}       # local apt repository, grows with --packages
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${SECMIRROR:-http://deb.debian.org/debian-security}
NSPAWN_EXTRA=${NSPAWN_EXTRA:---private-network --capability=CAP_NET_ADMIN --bind=/dev/fuse}
BR=hoistbr0; NET=10.77.0; PFX=lab; CGNAME=hoistlab
SSHO=(-i "$LAB/id_ed25519" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$LAB/known_hosts"
      -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=3)
if [ -d /sys/fs/cgroup/unified ]; then CGH="/sys/fs/cgroup/systemd /sys/fs/cgroup/unified"  # hybrid v1
else CGH=/sys/fs/cgroup; fi                                                              # pure v2

die() { echo "lab: $*" >&2; exit 1; }

deps() {
  local need=()
  command -v systemd-nspawn >/dev/null || need+=(systemd-container)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v dpkg-scanpackages >/dev/null || need+=(dpkg-dev)
  command -v ip >/dev/null || need+=(iproute2)
  command -v ssh >/dev/null || need+=(openssh-client)
  command -v ssh-keygen >/dev/null || need+=(openssh-client)
  command -v openssl >/dev/null || need+=(openssl)          # the HA stack's CA lives on the controller
  [ ${#need[@]} -eq 0 ] && return 0
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
}

base() {
  [ -x "$BASE/usr/sbin/sshd" ] && [ -f "$BASE/.hoist-base-ok" ] && return 0
  rm -rf "$BASE.tmp"; mkdir -p "$(dirname "$BASE")"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,iputils-ping,python3,procps,sudo,ca-certificates,less \
    bookworm "$BASE.tmp" "$MIRROR"
  cat > "$BASE.tmp/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECMIRROR bookworm-security main
EOF
  mount -t proc proc "$BASE.tmp/proc"
  chroot "$BASE.tmp" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get -y -q upgrade && apt-get clean' \
    || { umount "$BASE.tmp/proc"; exit 1; }
  umount "$BASE.tmp/proc"
  rm -f "$BASE.tmp"/etc/ssh/ssh_host_*                 # every host gets its own key in up()
  : > "$BASE.tmp/etc/machine-id"                        # every host gets its own id in up()
  for t in apt-daily apt-daily-upgrade; do               # they would grab the dpkg lock mid-test
    ln -sf /dev/null "$BASE.tmp/etc/systemd/system/$t.timer"; done
  touch "$BASE.tmp/.hoist-base-ok"
  rm -rf "$BASE"; mv "$BASE.tmp" "$BASE"
}

repo() {   # the closure is computed against the base rootfs, downloaded with apt on the root namespace
  [ $# -gt 0 ] || return 0
  mkdir -p "$REPO"
  local have=1 p
  for p in "$@"; do ls "$REPO"/"${p}"_*.deb >/dev/null 2>&1 || have=0; done
  [ $have = 1 ] && [ -f "$REPO/Packages" ] && return 0
  mount -t proc proc "$BASE/proc"
  chroot "$BASE" sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --download-only -o Dir::Cache::archives=/var/cache/lab-debs $*" || { umount "$BASE/proc"; exit 1; }
  umount "$BASE/proc"
  mv "$BASE"/var/cache/lab-debs/*.deb "$REPO"/ 2>/dev/null || true
  rm -rf "$BASE/var/cache/lab-debs"
  chroot "$BASE" apt-get clean
  (cd "$REPO" && dpkg-scanpackages -m . /dev/null > Packages 2>/dev/null)
}

boot() {   # starts host $1's systemd-nspawn (its overlay and netns already exist)
  local h=$1 D=$LAB/$1 c
  local bind=(--bind-ro="$REPO:/srv/lab-repo")
  for c in $CGH; do mkdir -p $c/$CGNAME/$h; done        # one cgroup per machine, so down can reap it
  # A reboot inside the host ends systemd-nspawn with status 133: it boots again, as a
  # machine would (any other end is a power-off).
  setsid sh -c 'for c in $1; do echo $$ > $c/'$CGNAME'/$2/cgroup.procs; done; shift 2; while "$@"; [ $? -eq 133 ]; do :; done' sh "$CGH" $h \
    systemd-nspawn -q -D "$D/root" -M $h --boot --register=no --keep-unit \
    --network-namespace-path=/run/netns/$h --console=read-only "${bind[@]}" $NSPAWN_EXTRA \
    >> "$D/console.log" 2>&1 < /dev/null &
  echo $! > "$D/nspawn.pid"
}

reap() {   # kills every process in host $1's cgroup (a power cut) and waits until they are gone
  local h=$1 c t p
  for c in $CGH; do
    [ -d $c/$CGNAME/$h ] || continue
    [ -f $c/$CGNAME/$h/cgroup.kill ] && echo 1 > $c/$CGNAME/$h/cgroup.kill
    for t in $(seq 1 50); do
      p=$(find $c/$CGNAME/$h -name cgroup.procs -exec cat {} + 2>/dev/null || true)
      [ -z "$p" ] && break
      kill -KILL $p 2>/dev/null || true; sleep 0.1
    done
  done
}

kill_host() {   # a crash: every process dies at once and the network link goes down
  local h=$1
  [ -f "$LAB/$h/nspawn.pid" ] || die "no host $h in this lab"
  ip -n $h link set eth0 down
  reap $h
  local t; for t in $(seq 1 50); do kill -0 "$(cat "$LAB/$h/nspawn.pid")" 2>/dev/null || break; sleep 0.1; done
}

start_host() {   # boots a killed host again, as after a power cycle (only its own address)
  local h=$1 ip
  [ -f "$LAB/$h/nspawn.pid" ] || die "no host $h in this lab"
  kill -0 "$(cat "$LAB/$h/nspawn.pid")" 2>/dev/null && die "$h is running"
  ip=$(awk -v h=$h '$1 == h {print $2}' "$LAB/hostlist")
  ip -n $h addr flush dev eth0
  ip -n $h addr add $ip/24 dev eth0
  ip -n $h link set eth0 up
  boot $h
}

up() {
  local N=$1 i h ip D
  [ -e "$LAB/up" ] && die "a lab is already up (state in $LAB); run 'hoist lab down' first"
  [ -f "$BASE/.hoist-base-ok" ] || die "no base rootfs in $BASE"
  mkdir -p "$LAB"
  touch "$LAB/up"
  [ -f "$LAB/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C hoist-lab -f "$LAB/id_ed25519"
  sysctl -q -w fs.inotify.max_user_instances=8192     # default 128 is exhausted by ~15 booted systemds
  ip link add $BR type bridge
  ip addr add $NET.1/24 dev $BR
  ip link set $BR up
  { echo "127.0.0.1 localhost"; for i in $(seq 1 "$N"); do echo "$NET.$((10+i)) $PFX$i"; done; } > "$LAB/hosts"
  : > "$LAB/known_hosts"
  for i in $(seq 1 "$N"); do
    h=$PFX$i; ip=$NET.$((10+i)); D=$LAB/$h
    ip netns del $h 2>/dev/null || true                    # stale ones from an interrupted run
    ip link del v-$h 2>/dev/null || true
    ip netns add $h                                        # network: own netns + veth on the bridge
    ip link add v-$h type veth peer name eth0 netns $h
    ip link set v-$h master $BR up
    ip -n $h link set lo up
    ip -n $h addr add $ip/24 dev eth0
    ip -n $h link set eth0 up                              # (deliberately no default route)
    mkdir -p "$D"/upper/root/.ssh "$D"/upper/etc/ssh/sshd_config.d "$D"/upper/etc/apt "$D"/work "$D"/root
    chmod 700 "$D"/upper/root "$D"/upper/root/.ssh
    cp "$LAB/id_ed25519.pub" "$D/upper/root/.ssh/authorized_keys"
    echo $h > "$D/upper/etc/hostname"
    cp "$LAB/hosts" "$D/upper/etc/hosts"
    tr -d - < /proc/sys/kernel/random/uuid > "$D/upper/etc/machine-id"
    ssh-keygen -q -t ed25519 -N '' -C root@$h -f "$D/upper/etc/ssh/ssh_host_ed25519_key"
    printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nUseDNS no\n' \
      > "$D/upper/etc/ssh/sshd_config.d/00-lab.conf"
    echo "$ip,$h $(cut -d' ' -f1,2 "$D/upper/etc/ssh/ssh_host_ed25519_key.pub")" >> "$LAB/known_hosts"
    echo 'deb [trusted=yes] file:/srv/lab-repo ./' > "$D/upper/etc/apt/sources.list"
    mkdir -p "$D/upper/srv/lab-repo" "$REPO"
    [ -f "$REPO/Packages" ] || : > "$REPO/Packages"
    mount -t overlay overlay -o lowerdir="$BASE",upperdir="$D/upper",workdir="$D/work" "$D/root"
    boot "$h"
    echo "$h $ip" >> "$LAB/hostlist"
  done
}

check() {
  local N=$1 i ip t fail=0
  for i in $(seq 1 "$N"); do
    ip=$NET.$((10+i))
    for t in $(seq 1 240); do ssh "${SSHO[@]}" root@$ip true 2>/dev/null && break; sleep 0.25; done
    ssh "${SSHO[@]}" root@$ip 'timeout 60 systemctl is-system-running --wait >/dev/null || true' \
      || { echo "lab: $PFX$i ($ip) does not answer ssh; see $LAB/$PFX$i/console.log" >&2; fail=1; }
  done
  return $fail
}

status() {
  [ -f "$LAB/hostlist" ] || { echo "no lab is up"; return 0; }
  local h ip st
  while read -r h ip; do
    st=down
    if [ -f "$LAB/$h/nspawn.pid" ] && kill -0 "$(cat "$LAB/$h/nspawn.pid")" 2>/dev/null; then st=running; fi
    echo "$h $ip $st"
  done < "$LAB/hostlist"
}

down() {
  local D p t c
  [ -d "$LAB" ] || { stale; return 0; }
  for D in "$LAB"/$PFX*; do [ -f "$D/nspawn.pid" ] && { kill -TERM "$(cat "$D/nspawn.pid")" 2>/dev/null || true; }; done  # => poweroff
  for D in "$LAB"/$PFX*; do
    [ -f "$D/nspawn.pid" ] || continue; p=$(cat "$D/nspawn.pid")
    for t in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for c in $CGH; do                                       # anything left in a machine's cgroup dies too
    [ -d $c/$CGNAME ] || continue
    for t in $(seq 1 50); do
      p=$(cat $c/$CGNAME/*/cgroup.procs 2>/dev/null || true)
      [ -z "$p" ] && break
      kill -KILL $p 2>/dev/null || true; sleep 0.1
    done
  done
  for D in "$LAB"/$PFX*; do
    [ -d "$D" ] || continue
    if mountpoint -q "$D/root"; then umount "$D/root" 2>/dev/null || umount -l "$D/root"; fi
    ip netns del "$(basename "$D")" 2>/dev/null || true    # removes the veth pair too
    rm -rf "$D"
  done
  for c in $CGH; do [ -d $c/$CGNAME ] && find $c/$CGNAME -depth -type d -exec rmdir {} \; 2>/dev/null; done
  stale
  rm -rf "$LAB"
}

stale() {   # namespaces, veths and the bridge a busy moment or an interrupted run left behind
  local n
  for n in $(ip netns list 2>/dev/null | awk -v p="^$PFX[0-9]+$" '$1 ~ p {print $1}'); do
    ip netns del "$n" 2>/dev/null || true
  done
  for n in $(ip -o link show 2>/dev/null | awk -F': ' -v p="^v-$PFX[0-9]+@" '$2 ~ p {split($2, a, "@"); print a[1]}'); do
    ip link del "$n" 2>/dev/null || true
  done
  ip link del $BR 2>/dev/null || true
}

"$@"
