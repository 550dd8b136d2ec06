// Package tokens owns honeytokens: fake credentials in the exact formats of real provider
// secrets, minted by a Minter and recognised by it offline, without a database.
//
// What it holds: kinds and minting (New, NewSeeded), stateless recognition (Recognize),
// detection in every credential place of a request (Detect) and in free text (Find,
// Scan), SigV4/SigV4a signature verification with the derived AWS secret (VerifySigV4),
// seeding realistic files (Seed, SeedFiles), the Guard middleware for a real API and the
// Reporter that sends what it sees to a honeyapi server as Sightings. It does not store
// anything (placements and hits live in package store) and does not send alerts.
//
// # Keys
//
// NewMinter derives, with HKDF-SHA256 from the deployment secret, a MAC key, an AWS
// secret-derivation key and a P-256 JWT signing key. Every sensor given the same secret
// recognises every token of the deployment; nothing else can.
//
// # The MAC
//
// Each token has a carrier: the string that holds its randomness (the whole token, or the
// password of a URL, the last path segment, the first DNS label, the jti of a JWT). The
// carrier is random characters of the format's alphabet followed by MAC characters. With
// H = HMAC-SHA256(macKey, random part):
//
//	MAC characters = the 64-bit word H[0:8] XOR (kind index+1)·0x9E3779B97F4A7C15,
//	                 written least significant digit first in the format's alphabet
//	ID             = H[8:16]
//
// So the ID is a keyed function of the token's random bits: Recognize recovers it with the
// same single HMAC that checks the MAC, and it reveals nothing to anyone without the key.
// The kind tweak lets one HMAC serve kinds that share a shape (apikey and git-credentials;
// basic and dburl passwords). Provider checksums (GitHub, npm) are computed last, over the
// final body, so scanners that validate them accept the token.
//
// Recognize rejects strings not shaped like a token after a few byte comparisons (no
// allocation, ~20-30 ns); a string of a token shape costs one HMAC (~200-450 ns with
// SHA-NI) and never allocates either (pooled crypto/hmac states with scratch buffers).
//
// # Formats and where the MAC lives
//
//	aws         AKIA + 16 of [A-Z2-7]. The 80 decoded bits are 1 | account(40) | 39 bits
//	            (the public decoding of key ids). The account is 1e12 + nonce>>6, a
//	            13-digit number: real AWS accounts have 12 digits, so no token names a
//	            third party's account (5th character '6', as for real accounts ≥ 962072674304).
//	            The other 73 bits are a 40-bit nonce and a 33-bit MAC of it. The secret
//	            access key is base64(HMAC(awsKey, key id)[:30]), 40 characters (AWSSecretFor).
//	github      ghp_/gho_/ghs_ + 23 random + 7 MAC + 6 checksum (base62 0-9A-Za-z; CRC32-IEEE
//	            of the 30-character body, left-padded, GitHub's published scheme); or
//	            github_pat_ + "11" + 7 [A-Z2-7] + "0" + 12 + "_" + 52 + 7 MAC (base62).
//	gitlab      glpat- + 13 + 7 MAC, [0-9A-Za-z_-].
//	slack       xoxb-<12 digits>-<13 digits>-<17 + 7 MAC base62>;
//	            xoxp-<11>-<12>-<12 digits>-<22 + 10 MAC lowercase hex>.
//	stripe      sk_live_ / rk_live_ + "51" + [H-Q] + 89 + 7 MAC (99 base62).
//	npm         npm_ + 23 + 7 MAC + 6 checksum, as GitHub classic.
//	openai      sk-proj- + 74 + T3BlbkFJ + 67 + 7 MAC, [A-Za-z0-9_-].
//	google      AIzaSy + 26 + 7 MAC, [0-9A-Za-z_-].
//	jwt         ES256, kid = base64url(SHA-256(public key)[:12]), iss https://DecoyHost;
//	            the jti is a UUIDv4 whose last 5 bytes are a 40-bit MAC of its first 11.
//	            Recognize checks the jti, not the signature (see "Limits").
//	apikey      40 lowercase hex: 30 + 10 MAC.
//	basic       password: 24 base62, 17 + 7 MAC; Fields username, password.
//	dburl       postgres://user:PASSWORD@DecoyHost:5432/db, PASSWORD as basic;
//	            Fields username, password, host, port, database.
//	url         https://DecoyHost/<path>/<22 base62: 15 + 7 MAC>; Fields path.
//	dns         <26 of [a-z2-7]: 18 + 8 MAC>.<DNSZone>; case-insensitive (0x20 encoding);
//	            Fields label, zone.
//	kubeconfig  bootstrap token [a-z0-9]{6}.[a-z0-9]{16}, the last 8 the MAC;
//	            Fields server (https://DecoyHost:6443), cluster, user.
//	docker      dckr_pat_ + 20 + 7 MAC, [A-Za-z0-9_-]; Fields server (DecoyHost), username.
//	git-credentials  40 lowercase hex (a Gitea-style token), as apikey;
//	            Fields url (https://DecoyHost), username.
//
// Recognize also accepts the strings that contain a carrier: a postgres/postgresql URL
// (its password), an http(s) URL (its password, or its last path segment), a DNS name
// (its first label) and "user:password".
//
// # False positives
//
// A random string of a token's exact format (checksum included) is accepted only if its
// MAC characters match: probability b^-m for m MAC characters of a b-letter alphabet,
// times the number of kinds sharing the shape (at most 2):
//
//	base62 ×7    2^-41.7     base64url ×7  2^-42      hex ×10     2^-40
//	base32 ×8    2^-40       base36 ×8     2^-41.4    jwt jti     2^-40
//	aws          2^-33 for key ids in our account range, which a random AKIA key id is
//	             with probability 2^-7 (top bit and 2^34 of 2^40 accounts): 2^-40 overall
//
// so every format is at most 2^-32 with margin even for the two-kind shapes, and the
// expected number of false positives in TestFalsePositives (a million random strings per
// format) is below 10^-3. The test measured 0 in every format.
//
// # Limits
//
//   - A JWT is recognised by its jti alone: altering its signature or other claims does
//     not stop recognition (which is what a defender wants); verifying the ES256
//     signature costs ~100 µs and is left to callers (JWTPublicKey).
//   - Only the key id of an AWS pair is recognised; the secret alone is not. A SigV4 or
//     SigV4a signature by the pair is verified (Hit.Signature), proving the caller holds
//     the secret; request time and expiry are not checked, nor the chunk signatures of
//     streaming uploads.
//   - Changing the zone or host around a DNS, URL or dburl carrier does not stop
//     recognition.
package tokens
