package decoys

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// yamlToJSON converts a YAML document to JSON, keeping key order.
func yamlToJSON(data []byte) []byte {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil
	}
	return appendJSON(nil, nodeValue(&n, 0))
}

func nodeValue(n *yaml.Node, depth int) any {
	if depth > 512 {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return nodeValue(n.Content[0], depth+1)
		}
		return nil
	case yaml.AliasNode:
		return nodeValue(n.Alias, depth+1)
	case yaml.MappingNode:
		o := &object{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			o.set(n.Content[i].Value, nodeValue(n.Content[i+1], depth+1))
		}
		return o
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, nodeValue(c, depth+1))
		}
		return out
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			b, _ := strconv.ParseBool(n.Value)
			return b
		case "!!int":
			if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return i
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		}
		return n.Value
	}
	return nil
}

// jsonToYAML converts a JSON document to block-style YAML, keeping key order.
func jsonToYAML(data []byte) []byte {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil
	}
	clearStyle(&n, 0)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil
	}
	return buf.Bytes()
}

func clearStyle(n *yaml.Node, depth int) {
	if depth > 512 {
		return
	}
	if n.Kind != yaml.ScalarNode {
		n.Style = 0
	} else if n.Style&yaml.DoubleQuotedStyle != 0 && n.Tag == "!!str" {
		n.Style = 0
	}
	for _, c := range n.Content {
		clearStyle(c, depth+1)
	}
}

func rootName(media *openapi3.MediaType) string {
	if media.Schema != nil {
		if s := media.Schema.Value; s != nil && s.XML != nil && s.XML.Name != "" {
			return s.XML.Name
		}
		if ref := media.Schema.Ref; ref != "" {
			for i := len(ref) - 1; i >= 0; i-- {
				if ref[i] == '/' {
					return ref[i+1:]
				}
			}
		}
	}
	return "response"
}

// renderXML writes a synthesised value as simple XML.
func renderXML(v any, root string) []byte {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	writeXML(&buf, root, v, 0)
	return buf.Bytes()
}

func writeXML(buf *bytes.Buffer, name string, v any, depth int) {
	if depth > 64 {
		return
	}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			writeXML(buf, name, e, depth+1)
		}
		return
	}
	fmt.Fprintf(buf, "<%s>", xmlName(name))
	switch t := v.(type) {
	case *object:
		for i, k := range t.keys {
			writeXML(buf, k, t.vals[i], depth+1)
		}
	case nil:
	case string:
		_ = xml.EscapeText(buf, []byte(t))
	default:
		_ = xml.EscapeText(buf, appendJSON(nil, t))
	}
	fmt.Fprintf(buf, "</%s>", xmlName(name))
}

func xmlName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || (i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'))) {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "item"
	}
	return string(b)
}
