#!/usr/bin/env bash
# Re-vendor Swagger UI (the /docs page) from the npm registry (no node_modules, no CDN).
#
#   static/vendor/update-swagger-ui.sh [VERSION]
#
# Copies swagger-ui-bundle.js, swagger-ui.css and the licence files of swagger-ui-dist into
# static/vendor/swagger-ui-<version>/. Then update SWAGGER_UI_VERSION in app/routes/docs.py
# and delete the previous folder.
set -euo pipefail

VERSION="${1:-5.35.0}"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "swagger-ui-dist@${VERSION}" >/dev/null)
tar xzf "$tmp/swagger-ui-dist-${VERSION}.tgz" -C "$tmp"
dst="$here/swagger-ui-${VERSION}"
rm -rf "$dst"
mkdir -p "$dst"
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  cp "$tmp/package/$f" "$dst/"
done
# Source maps are not vendored: drop the references to them.
sed -i -e '/^\/\/# sourceMappingURL=/d' -e '/^\/\*# sourceMappingURL=.*\*\/$/d' \
  "$dst/swagger-ui-bundle.js" "$dst/swagger-ui.css"
du -sh "$dst"
