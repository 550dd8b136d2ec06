package decoys

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// keyOrder remembers the order in which the document wrote the keys of its
// objects. kin-openapi decodes properties and examples into Go maps, which
// forget that order, and answering with sorted or random key order is a tell.
//
// Objects are indexed by their key set: the set, sorted, identifies the
// object; the value is the keys in document order. The first occurrence of a
// key set wins. This needs no JSON pointers, so it works the same for 2.0
// documents converted to 3.0, for external files and for examples.
type keyOrder struct {
	mu    sync.RWMutex
	bySet map[string][]string
}

func newKeyOrder() *keyOrder { return &keyOrder{bySet: map[string][]string{}} }

func setKey(keys []string) string {
	s := append([]string(nil), keys...)
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

func (o *keyOrder) add(keys []string) {
	if len(keys) < 2 {
		return
	}
	k := setKey(keys)
	if _, ok := o.bySet[k]; !ok {
		o.bySet[k] = keys
	}
}

// index records the key order of every object in a JSON or YAML file.
// Parse errors are ignored: the loader reports them.
func (o *keyOrder) index(data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if looksJSON(data) {
		o.indexJSON(data)
		return
	}
	var n yaml.Node
	if yaml.Unmarshal(data, &n) == nil {
		o.indexYAML(&n, 0)
	}
}

func (o *keyOrder) indexJSON(data []byte) {
	type frame struct {
		object  bool
		wantKey bool
		keys    []string
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	stack := make([]frame, 0, 64)
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top >= 0 && stack[top].object {
					stack[top].wantKey = true
				}
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				if top >= 0 && stack[top].object {
					stack[top].wantKey = true
				}
				stack = append(stack, frame{})
			case '}', ']':
				if top >= 0 {
					if stack[top].object {
						o.add(stack[top].keys)
					}
					stack = stack[:top]
				}
			}
		case string:
			if top >= 0 && stack[top].object {
				if stack[top].wantKey {
					stack[top].keys = append(stack[top].keys, t)
					stack[top].wantKey = false
				} else {
					stack[top].wantKey = true
				}
			}
		default:
			if top >= 0 && stack[top].object {
				stack[top].wantKey = true
			}
		}
	}
}

func (o *keyOrder) indexYAML(n *yaml.Node, depth int) {
	if n == nil || depth > 512 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			o.indexYAML(c, depth+1)
		}
	case yaml.MappingNode:
		keys := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
			o.indexYAML(n.Content[i+1], depth+1)
		}
		o.add(keys)
	}
}

// order returns keys in document order when the document has an object with
// exactly this key set, and otherwise a stable order that is not
// alphabetical: identifiers first, then the rest by a hash of the name.
func (o *keyOrder) order(keys []string) []string {
	if len(keys) < 2 {
		return keys
	}
	o.mu.RLock()
	found, ok := o.bySet[setKey(keys)]
	o.mu.RUnlock()
	if ok {
		return found
	}
	return fallbackOrder(keys)
}

func fallbackOrder(keys []string) []string {
	out := append([]string(nil), keys...)
	rank := func(k string) (int, uint32) {
		switch strings.ToLower(k) {
		case "id", "uuid", "key":
			return 0, 0
		case "name", "type", "object", "kind":
			return 1, 0
		}
		if strings.HasSuffix(strings.ToLower(k), "_at") || strings.HasSuffix(k, "At") {
			return 3, 0
		}
		h := fnv.New32a()
		h.Write([]byte(k))
		return 2, h.Sum32()
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, hi := rank(out[i])
		rj, hj := rank(out[j])
		if ri != rj {
			return ri < rj
		}
		if hi != hj {
			return hi < hj
		}
		return out[i] < out[j]
	})
	return out
}
