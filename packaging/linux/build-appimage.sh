#!/bin/sh
# Turn the one-dir bundle (dist/Parley, from `make package`) into dist/Parley-<version>-x86_64.AppImage.
#   packaging/linux/build-appimage.sh [path/to/appimagetool]
# (PARLEY_BUNDLE and PARLEY_OUT override the bundle dir and the output/work dir: tests use them.)
# appimagetool is taken from PATH, the argument, or downloaded once into build/ (a single
# static binary, https://github.com/AppImage/appimagetool); it always runs with
# --appimage-extract-and-run, so FUSE is not needed. The AppImage is squashfs + zstd: about the
# size of the tar.gz.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=${PARLEY_BUNDLE:-$root/dist/Parley}
out_dir=${PARLEY_OUT:-$root/dist}
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root/desktop_app/__init__.py")
arch=$(uname -m)
appdir="${PARLEY_OUT:-$root/build}/Parley.AppDir"
tool=${1:-$(command -v appimagetool || true)}

[ -x "$bundle/parley" ] || { echo "build-appimage: run 'make package' first (no $bundle/parley)" >&2; exit 1; }
if [ -z "$tool" ]; then
    tool="$root/build/appimagetool-$arch.AppImage"
    if [ ! -x "$tool" ]; then
        mkdir -p "$root/build"
        curl -fsSL -o "$tool.part" \
            "https://github.com/AppImage/appimagetool/releases/download/continuous/appimagetool-$arch.AppImage"
        chmod +x "$tool.part" && mv "$tool.part" "$tool"
    fi
fi

rm -rf "$appdir"
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" "$appdir/usr/share/icons"
cp -a "$bundle" "$appdir/usr/lib/Parley"
cp -a "$root/resources/icons/hicolor" "$appdir/usr/share/icons/hicolor"
cp "$root/resources/parley.desktop" "$appdir/usr/share/applications/parley.desktop"
cp "$root/resources/parley.desktop" "$appdir/parley.desktop"
cp "$root/resources/icons/parley.png" "$appdir/parley.png"
ln -s parley.png "$appdir/.DirIcon"
cat > "$appdir/AppRun" <<'RUN'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
exec "$here/usr/lib/Parley/parley" "$@"
RUN
chmod +x "$appdir/AppRun"

out="$out_dir/Parley-$version-$arch.AppImage"
case "$tool" in  # a real appimagetool is itself an AppImage: unpack-and-run needs no FUSE
    *.AppImage|*appimagetool) extract="--appimage-extract-and-run" ;;
    *) extract="" ;;
esac
ARCH=$arch "$tool" $extract --comp zstd "$appdir" "$out"
echo "build-appimage: $out ($(du -h "$out" | cut -f1))"
