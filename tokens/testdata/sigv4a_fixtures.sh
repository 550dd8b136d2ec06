#!/bin/sh
# Regenerates sigv4a_fixtures.json (read by TestSigV4aFixtures): requests
# signed with SigV4a, and a few with SigV4, by AWS's own JavaScript signers,
# installed from npm in a temporary directory (never in the repository):
#
#   @smithy/signature-v4a 3.6.2   the AWS SDK for JavaScript v3's SigV4a signer
#   aws-crt 1.33.2                the AWS Common Runtime (aws-c-auth) for Node,
#                                 with its prebuilt native module
#
# Needs node (20 or later) and npm.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sigv4a-fixtures.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent \
	@smithy/signature-v4a@3.6.2 @smithy/protocol-http@5.6.2 \
	@smithy/querystring-builder@4.5.2 @aws-crypto/sha256-js@5.2.0 aws-crt@1.33.2
cp "$here/sigv4a_fixtures.js" .
node sigv4a_fixtures.js >"$here/sigv4a_fixtures.json.tmp"
mv "$here/sigv4a_fixtures.json.tmp" "$here/sigv4a_fixtures.json"
echo "wrote $here/sigv4a_fixtures.json"
