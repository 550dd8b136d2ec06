// Writes sigv4a_fixtures.json to stdout: requests signed with SigV4a (and a
// few with SigV4, as a cross-check) by AWS's own signers, with a honeytoken
// key of a fixed-secret Minter. Run it through sigv4a_fixtures.sh, which
// installs the signers in a temporary directory.
//
// Signers:
//   smithy   @smithy/signature-v4a (the AWS SDK for JavaScript v3's SigV4a
//            signer; Authorization header only, it has no presign)
//   crt      aws-crt (Node bindings of aws-c-auth, the AWS Common Runtime's
//            signer; header and presigned query forms, SigV4 and SigV4a)
"use strict";

const { SignatureV4a } = require("@smithy/signature-v4a");
const { HttpRequest } = require("@smithy/protocol-http");
const { buildQueryString } = require("@smithy/querystring-builder");
const { Sha256 } = require("@aws-crypto/sha256-js");
const { auth, http } = require("aws-crt");

// NewMinter([]byte(MINTER_SECRET)).NewSeeded(AWS, []byte(SEED)); the Go test
// checks that these are still what the Minter derives.
const MINTER_SECRET = "sigv4-fixture-deployment-secret";
const SEED = "sigv4a-fixture";
const KEY_ID = "AKIA6YLSPA6VJSWX33SS";
const SECRET = "HgCbH0WlodrUHy7l8ykb5bUSIfhrlekEl442NlIQ";
const HOST = "honey.example.test";
const DATE = new Date(Date.UTC(2026, 0, 15, 12, 34, 56));

const version = (p) => require(p + "/package.json").version;

// smithy signs an HttpRequest whose path is already escaped the way the SDK
// sends it; the request target on the wire is that path plus the query
// serialised as the SDK does (insertion order, RFC 3986 escaping).
async function smithy(name, { service, method, path, query, headers, body, uriEscapePath, applyChecksum }) {
  const signer = new SignatureV4a({
    service,
    region: "*",
    credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    sha256: Sha256,
    uriEscapePath,
    applyChecksum,
  });
  const req = new HttpRequest({
    method,
    protocol: "https:",
    hostname: HOST,
    path,
    query: query || {},
    headers: { host: HOST, ...(headers || {}) },
    body,
  });
  const signed = await signer.sign(req, { signingDate: DATE, signingRegion: "us-east-1,us-west-2" });
  const qs = buildQueryString(signed.query || {});
  return {
    name,
    signer: "smithy",
    method,
    target: signed.path + (qs ? "?" + qs : ""),
    headers: Object.entries(signed.headers),
    body: body || "",
  };
}

// crt signs a request whose path (with its query) is exactly the request
// target sent; for the query form it appends the X-Amz-* parameters.
async function crt(name, { algorithm, query, service, method, target, headers, body, doubleEncode, normalize, bodyValue, bodyHeader }) {
  const hs = new http.HttpHeaders([["host", HOST], ...(headers || [])]);
  const req = new http.HttpRequest(method, target, hs);
  const config = {
    algorithm,
    signature_type: query ? auth.AwsSignatureType.HttpRequestViaQueryParams : auth.AwsSignatureType.HttpRequestViaHeaders,
    provider: auth.AwsCredentialsProvider.newStatic(KEY_ID, SECRET),
    region: algorithm === auth.AwsSigningAlgorithm.SigV4Asymmetric ? "us-east-1,eu-west-1" : "eu-west-1",
    service,
    date: DATE,
    use_double_uri_encode: doubleEncode,
    should_normalize_uri_path: normalize,
    signed_body_value: bodyValue,
    signed_body_header: bodyHeader ? auth.AwsSignedBodyHeaderType.XAmzContentSha256 : auth.AwsSignedBodyHeaderType.None,
    expiration_in_seconds: query ? 3600 : undefined,
  };
  const signed = await auth.aws_sign_request(req, config);
  const out = [];
  for (const [k, v] of signed.headers) {
    out.push([k, v]);
  }
  return { name, signer: "crt", method, target: signed.path, headers: out, body: body || "" };
}

const sha256hex = (s) => require("crypto").createHash("sha256").update(s).digest("hex");

async function main() {
  const V4A = auth.AwsSigningAlgorithm.SigV4Asymmetric;
  const V4 = auth.AwsSigningAlgorithm.SigV4;
  const form = "Action=GetCallerIdentity&Version=2011-06-15";
  const requests = [
    await smithy("smithy s3 get unsigned payload", {
      service: "s3", method: "GET", path: "/honey-bucket/reports/2026%20Q1%20%28final%29.csv",
      headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" }, uriEscapePath: false,
    }),
    await smithy("smithy s3 put payload hash", {
      service: "s3", method: "PUT", path: "/honey-bucket/notes.txt",
      headers: { "content-type": "text/plain", "x-amz-meta-owner": "ops  team" }, body: "hello, bucket\n",
      uriEscapePath: false,
    }),
    await smithy("smithy sts post form", {
      service: "sts", method: "POST", path: "/",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body: form,
      uriEscapePath: true, applyChecksum: false,
    }),
    await smithy("smithy escaped path and unsorted repeated query", {
      service: "execute-api", method: "GET", path: "/prod/items/a%20b%2Bc/%C3%A9t%C3%A9",
      query: { z: "last", b: ["2", "1"], a: "x y", "c~": "/slash" },
      uriEscapePath: true, applyChecksum: false,
    }),
    await crt("crt s3 header unsigned payload", {
      algorithm: V4A, service: "s3", method: "GET", target: "/honey-bucket/a%20key.txt?versionId=3&acl",
      doubleEncode: false, normalize: false, bodyValue: auth.AwsSignedBodyValue.UnsignedPayload, bodyHeader: true,
    }),
    await crt("crt s3 presigned", {
      algorithm: V4A, query: true, service: "s3", method: "GET", target: "/honey-bucket/backups/db.sql.gz",
      doubleEncode: false, normalize: false, bodyValue: auth.AwsSignedBodyValue.UnsignedPayload,
    }),
    await crt("crt sts presigned get", {
      algorithm: V4A, query: true, service: "sts", method: "GET", target: "/?Action=GetCallerIdentity&Version=2011-06-15",
      doubleEncode: true, normalize: true, bodyValue: auth.AwsSignedBodyValue.EmptySha256,
    }),
    await crt("crt iam post form", {
      algorithm: V4A, service: "iam", method: "POST", target: "/",
      headers: [["content-type", "application/x-www-form-urlencoded"], ["content-length", String(form.length)]],
      body: form, doubleEncode: true, normalize: true, bodyValue: sha256hex(form), bodyHeader: false,
    }),
    await crt("crt sigv4 header double-encoded path", {
      algorithm: V4, service: "lambda", method: "GET", target: "/2015-03-31/functions/my%3Afn/configuration",
      doubleEncode: true, normalize: true, bodyValue: auth.AwsSignedBodyValue.EmptySha256, bodyHeader: false,
    }),
    await crt("crt sigv4 s3 presigned", {
      algorithm: V4, query: true, service: "s3", method: "GET", target: "/honey-bucket/k%C3%BCche.png",
      doubleEncode: false, normalize: false, bodyValue: auth.AwsSignedBodyValue.UnsignedPayload,
    }),
  ];
  const out = {
    comment: "Generated by sigv4a_fixtures.sh; do not edit. Requests signed by AWS's JavaScript signers with a honeytoken key.",
    packages: {
      "@smithy/signature-v4a": version("@smithy/signature-v4a"),
      "@smithy/signature-v4": version("@smithy/signature-v4"),
      "aws-crt": version("aws-crt"),
    },
    minter_secret: MINTER_SECRET,
    seed: SEED,
    key_id: KEY_ID,
    secret: SECRET,
    requests,
  };
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
