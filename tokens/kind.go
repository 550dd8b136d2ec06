package tokens

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// Kind names a honeytoken format: which provider's credential a token imitates.
type Kind string

// The honeytoken kinds. Each imitates one provider's credential format exactly; see doc.go.
const (
	AWS            Kind = "aws"
	GitHub         Kind = "github"
	GitLab         Kind = "gitlab"
	Slack          Kind = "slack"
	Stripe         Kind = "stripe"
	NPM            Kind = "npm"
	OpenAI         Kind = "openai"
	Google         Kind = "google"
	JWT            Kind = "jwt"
	APIKey         Kind = "apikey"
	Basic          Kind = "basic"
	DBURL          Kind = "dburl"
	URL            Kind = "url"
	DNS            Kind = "dns"
	Kubeconfig     Kind = "kubeconfig"
	Docker         Kind = "docker"
	GitCredentials Kind = "git-credentials"
)

// allKinds is in a fixed order: a kind's index feeds its MAC tweak, so never reorder it;
// append new kinds at the end.
var allKinds = [...]Kind{AWS, GitHub, GitLab, Slack, Stripe, NPM, OpenAI, Google, JWT,
	APIKey, Basic, DBURL, URL, DNS, Kubeconfig, Docker, GitCredentials}

// Kinds returns every honeytoken kind, in a stable order.
func Kinds() []Kind {
	out := make([]Kind, len(allKinds))
	copy(out, allKinds[:])
	return out
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k.index() >= 0 }

func (k Kind) index() int {
	for i, x := range allKinds {
		if x == k {
			return i
		}
	}
	return -1
}

// ErrUnknownKind is returned for a Kind that is not one of Kinds().
var ErrUnknownKind = errors.New("tokens: unknown kind")

// ID identifies one honeytoken. It is a keyed function of the token's random body, so it is
// recoverable from the token by its deployment (Recognize) and by nobody else.
type ID [8]byte

// String returns the ID as 16 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParseID parses the 16-hex-digit form produced by ID.String.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("tokens: parse id %q: want %d hex digits", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("tokens: parse id %q: %w", s, err)
	}
	return id, nil
}

// Token is one minted honeytoken.
type Token struct {
	// ID identifies the token; Recognize returns it.
	ID ID
	// Kind is the imitated format.
	Kind Kind
	// Value is the primary secret string: the string scanners match and attackers use.
	Value string
	// Fields carries companion values a file writer needs (see doc.go for each kind's keys).
	Fields map[string]string
}
