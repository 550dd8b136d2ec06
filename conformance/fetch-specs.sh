#!/usr/bin/env bash
# fetch-specs.sh — fetch the real public API documents the conformance test
# serves as decoys, from npm packages, into conformance/.specs/ (git-ignored).
#
# Every package is pinned to one version and every extracted file is checked
# against a sha256 recorded here, so the test always sees the same bytes.
# Files already present with the right hash are not fetched again.
#
# Needs: npm (Node), tar, gzip, sha256sum. Downloads ~29 MB (GitHub's
# description is most of it). See README.md for what each document is and
# its licence.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/.specs"
mkdir -p "$dest"

# package@version | file inside the package | name in .specs/ | sha256 of that file
# (a file ending in .gz inside the package is gunzipped; the sha256 is of the result)
specs=(
  "@octokit/openapi@23.0.2|package/generated/api.github.com.json|github-api.json|829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a"
  "@readme/oas-examples@8.2.2|package/3.1/json/readme.json|readme-api.json|abce2cf97fa1f0b158a96d633295c332e4090b6bcd9a48e965361193a47de460"
  "@scalar/galaxy@0.6.12|package/dist/3.1.json|scalar-galaxy.json|166c72a96b56d7a01504a15c38b8adb71eff226f5f62347f24bddde074894fd9"
  "kubernetes-client@9.0.0|package/lib/specs/swagger-1.13.json.gz|kubernetes-1.13.json|dded3f256bd6bf04f2f59b5914b219b7761a6143398a5982b97f1330565dff78"
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for entry in "${specs[@]}"; do
  IFS='|' read -r pkg inner name want <<<"$entry"
  out="$dest/$name"
  if [[ -f "$out" && "$(sha "$out")" == "$want" ]]; then
    echo "fetch-specs: $name up to date ($pkg)"
    continue
  fi
  echo "fetch-specs: $name <- $pkg:$inner"
  work="$tmp/$name.d"
  mkdir -p "$work"
  tgz=""
  for attempt in 1 2 3; do
    if tgz="$(cd "$work" && npm pack --silent --ignore-scripts "$pkg" 2>"$work/npm.err" | tail -n1)" && [[ -n "$tgz" && -f "$work/$tgz" ]]; then
      break
    fi
    echo "fetch-specs: npm pack $pkg failed (attempt $attempt):" >&2
    cat "$work/npm.err" >&2 || true
    tgz=""
    sleep $((attempt * 3))
  done
  if [[ -z "$tgz" ]]; then
    echo "fetch-specs: could not fetch $pkg" >&2
    exit 1
  fi
  tar -xzf "$work/$tgz" -C "$work" "$inner"
  if [[ "$inner" == *.gz ]]; then
    gzip -dc "$work/$inner" >"$work/extracted"
  else
    mv "$work/$inner" "$work/extracted"
  fi
  got="$(sha "$work/extracted")"
  if [[ "$got" != "$want" ]]; then
    echo "fetch-specs: sha256 mismatch for $name from $pkg: got $got, want $want" >&2
    exit 1
  fi
  mv "$work/extracted" "$out"
  rm -rf "$work"
done

echo "fetch-specs: all documents in $dest"
