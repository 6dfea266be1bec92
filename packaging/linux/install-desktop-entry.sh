#!/bin/sh
# Add (or with --uninstall remove) Parley to this user's application menu, for an unpacked tarball:
#   tar xzf Parley-<version>-linux-x86_64.tar.gz -C ~/.local/opt && ~/.local/opt/Parley/install-desktop-entry.sh
# Installs the .desktop file (Exec pointing at this bundle) and the hicolor icons under
# $XDG_DATA_HOME (~/.local/share). Needs nothing beyond POSIX sh and coreutils.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
resources="$here/_internal/resources"
sizes="16 22 24 32 48 64 128 256 512"

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$data/applications/parley.desktop"
    for s in $sizes; do rm -f "$data/icons/hicolor/${s}x${s}/apps/parley.png"; done
    echo "Parley removed from the application menu (the bundle in $here is untouched)."
    exit 0
fi

[ -x "$here/parley" ] || { echo "install-desktop-entry: no parley executable beside this script" >&2; exit 1; }
mkdir -p "$data/applications"
for s in $sizes; do
    mkdir -p "$data/icons/hicolor/${s}x${s}/apps"
    cp "$resources/icons/hicolor/${s}x${s}/apps/parley.png" "$data/icons/hicolor/${s}x${s}/apps/parley.png"
done
# Exec gets the absolute path, quoted as the Desktop Entry spec wants when it contains spaces.
sed "s|^Exec=.*|Exec=\"$here/parley\"|" "$resources/parley.desktop" > "$data/applications/parley.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "Parley added to the application menu ($data/applications/parley.desktop)."
