#!/usr/bin/env bash
# Install (once) and cache what the real-VS-Code test needs, then print the cache folder:
# code-server 4.100.3 (VS Code 1.100.3, the newest release for Node 20) and playwright-core from
# npm, Chromium and ripgrep from Debian.
#
#   scripts/install_code_server.sh      # prints e.g. ~/.cache/ponder/code-server/4.100.3
#
# Why not a plain `npm install code-server`: VS Code's @vscode/ripgrep downloads its binary from
# GitHub in a postinstall script, which cannot work offline. So everything installs with
# --ignore-scripts, Debian's rg is put where @vscode/ripgrep looks for it, and code-server's own
# postinstall steps (lib/vscode's dependencies, the node_modules.asar link, the bin scripts, the
# built-in extensions' dependencies) are done here. Native modules compile with node-gyp against
# the system's Node headers (npm_config_nodedir=/usr: no header download); kerberos needs
# libkrb5-dev. About 3 minutes the first time on 2 cores.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
version="${CODE_SERVER_VERSION:-4.100.3}"
playwright="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"
cache="${PONDER_CODE_SERVER_CACHE:-$HOME/.cache/ponder/code-server}/$version"
stamp="$cache/.ponder-installed"

need_debian() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v rg >/dev/null || missing+=(ripgrep)
  [ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || missing+=(libkrb5-dev)
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    if [ "$(id -u)" != 0 ]; then
      echo "need root for apt-get install ${missing[*]} (or install them yourself)" >&2
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
  fi
}

need_debian
if [ ! -e "$stamp" ]; then
  echo "installing code-server $version and playwright-core $playwright into $cache (about 3 minutes)..." >&2
  rm -rf "$cache"
  mkdir -p "$cache"
  # npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which would otherwise ask;
  # build_from_source: argon2 would first try to download a prebuilt binary from GitHub.
  export npm_config_nodedir=/usr npm_config_audit=false npm_config_fund=false npm_config_yes=true \
    npm_config_build_from_source=true
  (cd "$cache" && npm init -y >/dev/null &&
    npm install --ignore-scripts --no-save "code-server@$version" "playwright-core@$playwright" >&2)
  vscode="$cache/node_modules/code-server/lib/vscode"
  (cd "$vscode" && npm install --ignore-scripts --omit=dev >&2)
  mkdir -p "$vscode/node_modules/@vscode/ripgrep/bin"
  cp "$(command -v rg)" "$vscode/node_modules/@vscode/ripgrep/bin/rg"
  # Now the install scripts: native modules (node-gyp), ripgrep's (it finds rg and stops).
  (cd "$vscode" && npm rebuild >&2)
  (cd "$cache" && npm rebuild argon2 >&2)  # code-server's own native dependency
  ln -sfn node_modules "$vscode/node_modules.asar"
  ln -sfn code-linux.sh "$vscode/bin/remote-cli/code-server"
  ln -sfn browser-linux.sh "$vscode/bin/helpers/browser.sh"
  (cd "$vscode/extensions" && npm install --omit=dev >&2)
  touch "$stamp"
fi
echo "$cache"
