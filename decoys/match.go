package decoys

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// segment is one "/"-separated piece of a path template.
type segment struct {
	lit   string         // literal text, when names is empty
	names []string       // parameter names, in order
	re    *regexp.Regexp // for mixed segments like "{name}.{ext}" or "v{version}"
}

func (s segment) kind() int {
	switch {
	case len(s.names) == 0:
		return 0 // literal
	case s.re != nil:
		return 1 // mixed
	default:
		return 2 // whole-segment parameter
	}
}

// parseTemplate splits an OpenAPI path template into segments.
func parseTemplate(p string) ([]segment, error) {
	if p == "/" {
		return nil, nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	segs := make([]segment, 0, len(parts))
	for _, part := range parts {
		if !strings.Contains(part, "{") {
			if strings.Contains(part, "}") {
				return nil, fmt.Errorf("unbalanced } in path segment %q", part)
			}
			segs = append(segs, segment{lit: part})
			continue
		}
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") && strings.Count(part, "{") == 1 && strings.Count(part, "}") == 1 {
			name := part[1 : len(part)-1]
			if name == "" {
				return nil, errors.New("empty parameter name in path")
			}
			segs = append(segs, segment{names: []string{name}})
			continue
		}
		var re strings.Builder
		re.WriteString("^")
		var names []string
		rest := part
		for rest != "" {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				if strings.Contains(rest, "}") {
					return nil, fmt.Errorf("unbalanced } in path segment %q", part)
				}
				re.WriteString(regexp.QuoteMeta(rest))
				break
			}
			if strings.Contains(rest[:i], "}") {
				return nil, fmt.Errorf("unbalanced } in path segment %q", part)
			}
			re.WriteString(regexp.QuoteMeta(rest[:i]))
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("unbalanced { in path segment %q", part)
			}
			name := rest[i+1 : i+j]
			if name == "" || strings.Contains(name, "{") {
				return nil, fmt.Errorf("bad parameter in path segment %q", part)
			}
			names = append(names, name)
			re.WriteString("(.+?)")
			rest = rest[i+j+1:]
		}
		re.WriteString("$")
		compiled, err := regexp.Compile(re.String())
		if err != nil {
			return nil, fmt.Errorf("path segment %q: %w", part, err)
		}
		segs = append(segs, segment{names: names, re: compiled})
	}
	return segs, nil
}

// trie is a path router: at every level literal segments are tried before
// mixed ones and mixed before whole-segment parameters, so the most specific
// template wins, and different parameter names at one position coexist
// (each route keeps its own names).
type trie struct {
	lit   map[string]*trie
	mixed []*mixedEdge
	param *trie
	route *route
}

type mixedEdge struct {
	seg  segment
	next *trie
}

func (t *trie) insert(segs []segment, r *route) {
	n := t
	for _, s := range segs {
		switch s.kind() {
		case 0:
			if n.lit == nil {
				n.lit = map[string]*trie{}
			}
			c, ok := n.lit[s.lit]
			if !ok {
				c = &trie{}
				n.lit[s.lit] = c
			}
			n = c
		case 1:
			var c *trie
			for _, e := range n.mixed {
				if e.seg.re.String() == s.re.String() {
					c = e.next
				}
			}
			if c == nil {
				c = &trie{}
				n.mixed = append(n.mixed, &mixedEdge{seg: s, next: c})
				// Longer literal parts are more specific.
				sort.SliceStable(n.mixed, func(i, j int) bool {
					return len(n.mixed[i].seg.re.String()) > len(n.mixed[j].seg.re.String())
				})
			}
			n = c
		default:
			if n.param == nil {
				n.param = &trie{}
			}
			n = n.param
		}
	}
	if n.route == nil {
		n.route = r
	}
}

// match finds the most specific route for the decoded path segments.
func (t *trie) match(parts []string) *route {
	if len(parts) == 0 {
		return t.route
	}
	head, rest := parts[0], parts[1:]
	if c, ok := t.lit[head]; ok {
		if r := c.match(rest); r != nil {
			return r
		}
	}
	if head == "" {
		return nil // parameters never match an empty segment
	}
	for _, e := range t.mixed {
		if e.seg.re.MatchString(head) {
			if r := e.next.match(rest); r != nil {
				return r
			}
		}
	}
	if t.param != nil {
		return t.param.match(rest)
	}
	return nil
}

// splitPath splits an escaped request path into decoded segments. It
// returns ok=false for paths no API would route (bad escapes, NUL).
func splitPath(escaped string) ([]string, bool) {
	if escaped == "" || escaped == "/" {
		return nil, true
	}
	if escaped[0] != '/' {
		return nil, false
	}
	raw := strings.Split(escaped[1:], "/")
	out := make([]string, len(raw))
	for i, s := range raw {
		if strings.IndexByte(s, '%') >= 0 {
			u, err := url.PathUnescape(s)
			if err != nil {
				return nil, false
			}
			s = u
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// params extracts the path parameters of r from the decoded segments.
func (r *route) params(parts []string) map[string]string {
	out := make(map[string]string, 2)
	for i, s := range r.segs {
		if i >= len(parts) {
			break
		}
		switch s.kind() {
		case 2:
			out[s.names[0]] = parts[i]
		case 1:
			m := s.re.FindStringSubmatch(parts[i])
			for j, name := range s.names {
				if j+1 < len(m) {
					out[name] = m[j+1]
				}
			}
		}
	}
	return out
}
