package tokens

import "time"

// Sighting is a report that text containing a honeytoken was seen outside
// a decoy: by the Guard in front of a real API, or by a log pipeline. It is
// the JSON body of the admin API's POST /api/v1/sightings; the server finds
// the tokens in Text itself (with this deployment's key), so a reporter needs
// no key and cannot forge a token hit.
type Sighting struct {
	// Text holds the credential or the line it was seen in. Required; at
	// most MaxSightingText bytes are examined.
	Text string `json:"text"`
	// Source names the reporter, e.g. "guard:billing-api" or "vector:nginx-logs".
	Source string `json:"source,omitempty"`
	// Where says where in the request or log the text was found, e.g.
	// "header Authorization (Bearer)".
	Where string `json:"where,omitempty"`
	// Time is when it was seen; the server's time when zero.
	Time time.Time `json:"time,omitzero"`
	// What is known of the request that carried it.
	ClientIP  string          `json:"client_ip,omitempty"`
	Method    string          `json:"method,omitempty"`
	Host      string          `json:"host,omitempty"`
	Path      string          `json:"path,omitempty"`
	Query     string          `json:"query,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	Headers   []SightedHeader `json:"headers,omitempty"`
	// Signature is Hit.Signature when the reporter verified a SigV4 signature.
	Signature string `json:"signature,omitempty"`
	Note      string `json:"note,omitempty"`
}

// SightedHeader is one request header of a sighting, in the order seen.
type SightedHeader struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

// MaxSightingText bounds the text of a sighting the server examines; the
// JSON body of a sighting is limited to MaxSightingBody bytes.
const (
	MaxSightingText = 64 << 10
	MaxSightingBody = 256 << 10
)
