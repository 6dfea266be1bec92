#!/bin/sh
# Ensure the Debian/Ubuntu packages Parley needs are present.
#   packaging/system-deps.sh run    -> what `make run` needs (Qt xcb/EGL libs, PortAudio, venv)
#   packaging/system-deps.sh test   -> plus what the test suite needs (PipeWire virtual devices, Xvfb)
# Installs with apt-get when root and something is missing; otherwise prints one line naming the
# packages and the command to install them, and exits 1. Does no network work when nothing is missing.
set -eu
group=${1:-run}

RUN_PKGS="libportaudio2 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
 libxcb-randr0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
 libxkbcommon0 libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core"
TEST_PKGS="pipewire pipewire-bin pipewire-alsa pipewire-pulse wireplumber pulseaudio-utils dbus
 xvfb xauth libasound2-plugins gnome-keyring binutils"

pkgs=$RUN_PKGS
[ "$group" = test ] && pkgs="$RUN_PKGS $TEST_PKGS"

# A fresh Debian has python3 without ensurepip: venv creation needs python3-venv.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    pkgs="$pkgs python${pyver}-venv"
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian/Ubuntu system; make sure these are installed: $(echo $pkgs)" >&2
    exit 0
fi

missing=""
for p in $pkgs; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    echo "system-deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "system-deps: missing Debian packages:$missing -- install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi
