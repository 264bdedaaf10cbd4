#!/usr/bin/env bash
# Make a drag-to-Applications disk image from the .app PyInstaller built.
#
#   packaging/macos/make_dmg.sh "dist/Kling Motion Studio.app" dist/KlingMotionStudio-0.1.0-macos.dmg ["Kling Motion Studio"]
#
# Uses only hdiutil (part of macOS). Signing and notarisation are separate
# steps a maintainer with a Developer ID runs (see SIGNING.md); a signed .app
# must be signed *before* this script, and the .dmg itself afterwards.
set -euo pipefail

app=${1:?usage: make_dmg.sh APP OUT.dmg [VOLUME NAME]}
out=${2:?usage: make_dmg.sh APP OUT.dmg [VOLUME NAME]}
volume=${3:-$(basename "$app" .app)}

[[ -d "$app" ]] || { echo "make_dmg.sh: no such app: $app" >&2; exit 1; }
command -v hdiutil >/dev/null || { echo "make_dmg.sh: hdiutil not found (macOS only)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# ditto keeps symlinks, extended attributes and signatures intact (cp -R may not).
ditto "$app" "$stage/$(basename "$app")"
ln -s /Applications "$stage/Applications"

rm -f "$out"
# UDZO (zlib) opens on every supported macOS; ULFO/ULMO are smaller but newer-only.
# hdiutil occasionally fails with "Resource busy" on CI machines: try a few times.
for attempt in 1 2 3; do
    if hdiutil create -volname "$volume" -srcfolder "$stage" -fs HFS+ -format UDZO \
        -imagekey zlib-level=9 -ov "$out" >/dev/null; then
        break
    fi
    [[ $attempt -lt 3 ]] || { echo "make_dmg.sh: hdiutil create failed" >&2; exit 1; }
    echo "make_dmg.sh: hdiutil create failed (attempt $attempt), retrying" >&2
    sleep 5
done
hdiutil verify "$out" >/dev/null
echo "make_dmg.sh: wrote $out ($(du -h "$out" | cut -f1))"
