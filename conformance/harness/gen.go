package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
)

// Fixed values the generator uses, so every run sends the same requests.
const (
	FixedUUID     = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	fixedDateTime = "2024-01-15T09:30:00Z"
	fixedDate     = "2024-01-15"
	fixedSHA      = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
)

// genError is a value the generator cannot produce; the operation needing it
// is skipped with the message as the reason.
type genError struct{ msg string }

func (e *genError) Error() string { return e.msg }

func genErr(format string, a ...any) error { return &genError{fmt.Sprintf(format, a...)} }

type gen struct {
	s       *Spec
	request bool // skip readOnly properties
	// optionalDepth: optional object properties are included up to this depth.
	optionalDepth int
}

// Value synthesises a value valid against schema. name is the parameter or
// property name, used for realistic strings.
func (s *Spec) Value(schema map[string]any, name string) (any, error) {
	g := &gen{s: s, request: true, optionalDepth: -1}
	return g.value(schema, name, 0)
}

// BodyValue synthesises a request body valid against schema, including
// optional properties at the top level.
func (s *Spec) BodyValue(schema map[string]any) (any, error) {
	g := &gen{s: s, request: true, optionalDepth: 1}
	return g.value(schema, "", 0)
}

const maxDepth = 12

func (g *gen) value(schema map[string]any, name string, depth int) (any, error) {
	schema = g.s.deref(schema)
	if schema == nil {
		return realisticString(name), nil
	}
	if depth > maxDepth {
		return nil, genErr("schema nested deeper than %d", maxDepth)
	}
	schema = g.flatten(schema, 0)

	if c, ok := schema["const"]; ok {
		return c, nil
	}
	if en, ok := schema["enum"].([]any); ok && len(en) > 0 {
		for _, e := range en {
			if e != nil {
				return e, nil
			}
		}
		return nil, nil
	}
	// oneOf / anyOf: the first alternative that can be generated
	for _, key := range []string{"oneOf", "anyOf"} {
		alts, ok := schema[key].([]any)
		if !ok || len(alts) == 0 {
			continue
		}
		var lastErr error
		for _, a := range alts {
			am := g.s.deref(a)
			if am == nil || typeOf(am) == "null" {
				continue
			}
			merged := mergeSchemas(withoutKeys(schema, "oneOf", "anyOf", "discriminator"), am)
			v, err := g.value(merged, name, depth+1)
			if err != nil {
				lastErr = err
				continue
			}
			if d, ok := schema["discriminator"].(map[string]any); ok {
				if obj, ok := v.(map[string]any); ok {
					if prop, _ := d["propertyName"].(string); prop != "" {
						ref, _ := a.(map[string]any)["$ref"].(string)
						if key := discriminatorValue(d, ref); key != "" {
							obj[prop] = key
						}
					}
				}
			}
			return v, nil
		}
		if lastErr != nil {
			return nil, lastErr
		}
		return nil, nil
	}

	switch t := typeOf(schema); t {
	case "object":
		return g.object(schema, depth)
	case "array":
		return g.array(schema, name, depth)
	case "integer":
		return g.number(schema, true)
	case "number":
		return g.number(schema, false)
	case "boolean":
		if d, ok := schema["default"].(bool); ok {
			return d, nil
		}
		return true, nil
	case "null":
		return nil, nil
	case "file":
		return "conformance.txt", nil
	default:
		return g.str(schema, name)
	}
}

// typeOf returns the schema's type, the first non-null one of a 3.1 type
// list, or one inferred from its keywords.
func typeOf(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, e := range t {
			if str, ok := e.(string); ok && str != "null" {
				return str
			}
		}
		if len(t) > 0 {
			return "null"
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	if _, ok := s["additionalProperties"]; ok {
		return "object"
	}
	if _, ok := s["items"]; ok {
		return "array"
	}
	if _, ok := s["minimum"]; ok {
		return "number"
	}
	if _, ok := s["maximum"]; ok {
		return "number"
	}
	return "string"
}

// flatten merges allOf members into one schema (recursively).
func (g *gen) flatten(s map[string]any, depth int) map[string]any {
	all, ok := s["allOf"].([]any)
	if !ok || depth > maxDepth {
		return s
	}
	out := withoutKeys(s, "allOf")
	for _, m := range all {
		mm := g.s.deref(m)
		if mm == nil {
			continue
		}
		out = mergeSchemas(out, g.flatten(mm, depth+1))
	}
	return out
}

func withoutKeys(s map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// mergeSchemas merges b over a: properties and required are united,
// bounds take the stricter value, other keys from b win.
func mergeSchemas(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		switch k {
		case "properties":
			pa, _ := out["properties"].(map[string]any)
			pb, _ := v.(map[string]any)
			m := make(map[string]any, len(pa)+len(pb))
			for pk, pv := range pa {
				m[pk] = pv
			}
			for pk, pv := range pb {
				m[pk] = pv
			}
			out[k] = m
		case "required":
			seen := map[string]bool{}
			var r []any
			for _, list := range []any{out["required"], v} {
				arr, _ := list.([]any)
				for _, e := range arr {
					if s, ok := e.(string); ok && !seen[s] {
						seen[s] = true
						r = append(r, s)
					}
				}
			}
			out[k] = r
		case "minimum", "minLength", "minItems", "minProperties":
			if av, ok := toFloat(out[k]); ok {
				if bv, ok := toFloat(v); ok && bv < av {
					continue
				}
			}
			out[k] = v
		case "maximum", "maxLength", "maxItems", "maxProperties":
			if av, ok := toFloat(out[k]); ok {
				if bv, ok := toFloat(v); ok && bv > av {
					continue
				}
			}
			out[k] = v
		case "type":
			if _, ok := out["type"]; ok {
				if _, isList := v.([]any); isList {
					continue // keep the more specific single type
				}
			}
			out[k] = v
		default:
			out[k] = v
		}
	}
	return out
}

func discriminatorValue(d map[string]any, ref string) string {
	if ref == "" {
		return ""
	}
	if mapping, ok := d["mapping"].(map[string]any); ok {
		keys := make([]string, 0, len(mapping))
		for k := range mapping {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, _ := mapping[k].(string); v == ref || strings.HasSuffix(ref, "/"+v) {
				return k
			}
		}
	}
	return ref[strings.LastIndex(ref, "/")+1:]
}

func (g *gen) object(s map[string]any, depth int) (any, error) {
	obj := map[string]any{}
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if arr, ok := s["required"].([]any); ok {
		for _, e := range arr {
			if n, ok := e.(string); ok {
				required[n] = true
			}
		}
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ps := g.s.deref(props[n])
		if ps == nil {
			continue
		}
		if g.request {
			if ro, _ := ps["readOnly"].(bool); ro {
				continue
			}
		}
		if !required[n] && depth > g.optionalDepth {
			continue
		}
		v, err := g.value(ps, n, depth+1)
		if err != nil {
			if required[n] {
				return nil, genErr("property %q: %v", n, err)
			}
			continue
		}
		if v == nil && !required[n] {
			continue
		}
		obj[n] = v
	}
	// required properties not listed under properties
	reqNames := make([]string, 0, len(required))
	for n := range required {
		reqNames = append(reqNames, n)
	}
	sort.Strings(reqNames)
	for _, n := range reqNames {
		if _, ok := obj[n]; ok {
			continue
		}
		if _, declared := props[n]; declared {
			continue // readOnly, left out on purpose
		}
		var ap map[string]any
		if m, ok := s["additionalProperties"].(map[string]any); ok {
			ap = m
		}
		v, err := g.value(ap, n, depth+1)
		if err != nil {
			return nil, genErr("property %q: %v", n, err)
		}
		obj[n] = v
	}
	if minP, ok := toFloat(s["minProperties"]); ok {
		ap, _ := s["additionalProperties"].(map[string]any)
		for i := 1; len(obj) < int(minP) && i < 100; i++ {
			v, err := g.value(ap, "key", depth+1)
			if err != nil {
				return nil, err
			}
			obj[fmt.Sprintf("key%d", i)] = v
		}
	}
	return obj, nil
}

func (g *gen) array(s map[string]any, name string, depth int) (any, error) {
	n := 1
	if v, ok := toFloat(s["minItems"]); ok && int(v) > n {
		n = int(v)
	}
	if v, ok := toFloat(s["maxItems"]); ok && int(v) < n {
		n = int(v)
	}
	items := g.s.deref(s["items"])
	out := make([]any, 0, n)
	for i := 0; i < n; i++ {
		v, err := g.value(items, singular(name), depth+1)
		if err != nil {
			return nil, genErr("items: %v", err)
		}
		if unique, _ := s["uniqueItems"].(bool); unique && i > 0 {
			v = varyValue(v, i)
		}
		out = append(out, v)
	}
	return out, nil
}

func varyValue(v any, i int) any {
	switch t := v.(type) {
	case string:
		return fmt.Sprintf("%s%d", t, i)
	case int64:
		return t + int64(i)
	case float64:
		return t + float64(i)
	}
	return v
}

func singular(name string) string {
	if strings.HasSuffix(name, "s") && len(name) > 3 {
		return name[:len(name)-1]
	}
	return name
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint64:
		return float64(t), true
	}
	return 0, false
}

func (g *gen) number(s map[string]any, integer bool) (any, error) {
	if d, ok := toFloat(s["default"]); ok && withinBounds(s, d) {
		if integer {
			return int64(d), nil
		}
		return d, nil
	}
	lo, hasLo := toFloat(s["minimum"])
	hi, hasHi := toFloat(s["maximum"])
	step := 1.0
	if !integer {
		step = 0.5
	}
	// exclusive bounds: boolean (3.0, 2.0) or numeric (3.1)
	if b, ok := s["exclusiveMinimum"].(bool); ok && b && hasLo {
		lo += step
	} else if v, ok := toFloat(s["exclusiveMinimum"]); ok {
		if !hasLo || v+step > lo {
			lo, hasLo = v+step, true
		}
	}
	if b, ok := s["exclusiveMaximum"].(bool); ok && b && hasHi {
		hi -= step
	} else if v, ok := toFloat(s["exclusiveMaximum"]); ok {
		if !hasHi || v-step < hi {
			hi, hasHi = v-step, true
		}
	}
	v := 1.0
	if hasLo && v < lo {
		v = lo
	}
	if hasHi && v > hi {
		v = hi
	}
	if m, ok := toFloat(s["multipleOf"]); ok && m > 0 {
		v = math.Ceil(v/m) * m
		if hasHi && v > hi {
			v = math.Floor(hi/m) * m
		}
	}
	if hasLo && hasHi && lo > hi {
		return nil, genErr("empty numeric range [%v, %v]", lo, hi)
	}
	if integer {
		return int64(math.Ceil(v)), nil
	}
	return v, nil
}

func withinBounds(s map[string]any, v float64) bool {
	if lo, ok := toFloat(s["minimum"]); ok && v < lo {
		return false
	}
	if hi, ok := toFloat(s["maximum"]); ok && v > hi {
		return false
	}
	if lo, ok := toFloat(s["exclusiveMinimum"]); ok && v <= lo {
		return false
	}
	if hi, ok := toFloat(s["exclusiveMaximum"]); ok && v >= hi {
		return false
	}
	return true
}

func (g *gen) str(s map[string]any, name string) (any, error) {
	format, _ := s["format"].(string)
	pattern, _ := s["pattern"].(string)
	minLen, hasMin := toFloat(s["minLength"])
	maxLen, hasMax := toFloat(s["maxLength"])
	fits := func(v string) bool {
		n := len([]rune(v))
		return (!hasMin || n >= int(minLen)) && (!hasMax || n <= int(maxLen))
	}

	var candidates []string
	if d, ok := s["default"].(string); ok {
		candidates = append(candidates, d)
	}
	if f := formatValue(format); f != "" {
		candidates = append(candidates, f)
	}
	candidates = append(candidates, realisticString(name))
	for _, ex := range examplesOf(s) {
		if str, ok := ex.(string); ok {
			candidates = append(candidates, str)
		}
	}

	if pattern == "" {
		for _, c := range candidates {
			if fits(c) {
				return c, nil
			}
		}
		// adjust length of the realistic candidate
		c := realisticString(name)
		if format != "" {
			if f := formatValue(format); f != "" {
				c = f
			}
		}
		for hasMin && len([]rune(c)) < int(minLen) {
			c += "x"
		}
		if hasMax && len([]rune(c)) > int(maxLen) {
			c = string([]rune(c)[:int(maxLen)])
		}
		return c, nil
	}

	re, err := regexp.Compile(pattern)
	if err != nil {
		// an ECMA-262 construct Go's regexp lacks: trust an example only
		for _, ex := range examplesOf(s) {
			if str, ok := ex.(string); ok && fits(str) {
				return str, nil
			}
		}
		return nil, genErr("pattern %q is not supported by the harness and the schema has no example", pattern)
	}
	for _, c := range candidates {
		if re.MatchString(c) && fits(c) {
			return c, nil
		}
	}
	if v, ok := fromPattern(pattern, int(minLen)); ok && re.MatchString(v) && fits(v) {
		return v, nil
	}
	for _, c := range genericCandidates {
		if re.MatchString(c) && fits(c) {
			return c, nil
		}
	}
	return nil, genErr("no value found for pattern %q", pattern)
}

func examplesOf(s map[string]any) []any {
	var out []any
	if ex, ok := s["example"]; ok {
		out = append(out, ex)
	}
	if ex, ok := s["x-example"]; ok {
		out = append(out, ex)
	}
	if exs, ok := s["examples"].([]any); ok {
		out = append(out, exs...)
	}
	return out
}

var genericCandidates = []string{
	"octocat", "main", "1", "123", "abc", "ABC", "a1", "example", "example-1", "v1.0.0",
	fixedDate, FixedUUID, "en", "US", "USD", "a", "A", "x1", "12345", "0", fixedSHA, "AB12",
}

func formatValue(format string) string {
	switch strings.ToLower(format) {
	case "date-time":
		return fixedDateTime
	case "date":
		return fixedDate
	case "time":
		return "09:30:00Z"
	case "email", "idn-email":
		return "octocat@example.com"
	case "uuid":
		return FixedUUID
	case "uri", "url", "iri", "uri-reference", "iri-reference":
		return "https://example.com/conformance"
	case "hostname", "idn-hostname":
		return "example.com"
	case "ipv4":
		return "192.0.2.10"
	case "ipv6":
		return "2001:db8::10"
	case "byte":
		return "Y29uZm9ybWFuY2U="
	case "binary":
		return "conformance"
	case "password":
		return "correct-horse-battery"
	case "duration":
		return "PT1H"
	case "json-pointer":
		return "/conformance"
	case "regex":
		return "^conformance$"
	case "uri-template":
		return "https://example.com/{id}"
	}
	return ""
}

// realisticString picks a plausible value from the parameter or property name.
func realisticString(name string) string {
	n := strings.ToLower(name)
	switch {
	case n == "":
		return "octocat"
	case strings.Contains(n, "email"):
		return "octocat@example.com"
	case strings.Contains(n, "uuid") || strings.Contains(n, "guid"):
		return FixedUUID
	case n == "owner" || n == "username" || n == "user" || n == "login" || n == "org" ||
		n == "organization" || n == "author" || n == "assignee" || n == "account" || n == "enterprise":
		return "octocat"
	case n == "repo" || n == "repository":
		return "hello-world"
	case n == "ref" || n == "branch" || n == "base" || n == "head":
		return "main"
	case n == "sha" || strings.HasSuffix(n, "_sha") || n == "commit_sha" || n == "commit":
		return fixedSHA
	case n == "tag":
		return "v1.0.0"
	case n == "namespace":
		return "default"
	case n == "path" || n == "file" || n == "filename":
		return "README.md"
	case strings.Contains(n, "date") || strings.HasSuffix(n, "_at") || strings.HasSuffix(n, "since"):
		return fixedDateTime
	case strings.Contains(n, "url") || strings.Contains(n, "uri"):
		return "https://example.com/conformance"
	case n == "version":
		return "1.0.0"
	case n == "locale" || n == "lang" || n == "language":
		return "en"
	case n == "country":
		return "US"
	case n == "currency":
		return "USD"
	case n == "q" || n == "query" || n == "search" || n == "term":
		return "test"
	case strings.HasSuffix(n, "id") || strings.HasSuffix(n, "_id") || n == "id":
		return "1"
	case strings.Contains(n, "slug"):
		return "example-slug"
	case strings.Contains(n, "name"):
		return "example"
	case strings.Contains(n, "key"):
		return "example-key"
	case strings.Contains(n, "token"):
		return "conformance"
	case strings.Contains(n, "description") || strings.Contains(n, "body") || strings.Contains(n, "message") || strings.Contains(n, "comment"):
		return "Conformance check"
	}
	return "octocat"
}

// fromPattern builds a string matching a regular expression by taking the
// shortest path through it (first alternative, minimum repetitions, a
// letter or digit from each class).
func fromPattern(pattern string, minLen int) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	ok := walkRegexp(re.Simplify(), &b, minLen)
	return b.String(), ok
}

func walkRegexp(re *syntax.Regexp, b *strings.Builder, minLen int) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(pickRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune('a')
	case syntax.OpCapture:
		return walkRegexp(re.Sub[0], b, minLen)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !walkRegexp(s, b, minLen) {
				return false
			}
		}
	case syntax.OpAlternate:
		return walkRegexp(re.Sub[0], b, minLen)
	case syntax.OpStar, syntax.OpQuest:
		// zero repetitions, unless a minimum length asks for more
		if re.Op == syntax.OpStar && b.Len() < minLen {
			for b.Len() < minLen {
				before := b.Len()
				if !walkRegexp(re.Sub[0], b, minLen) || b.Len() == before {
					break
				}
			}
		}
	case syntax.OpPlus:
		if !walkRegexp(re.Sub[0], b, minLen) {
			return false
		}
		for b.Len() < minLen {
			before := b.Len()
			if !walkRegexp(re.Sub[0], b, minLen) || b.Len() == before {
				break
			}
		}
	case syntax.OpRepeat:
		n := re.Min
		for i := 0; i < n; i++ {
			if !walkRegexp(re.Sub[0], b, minLen) {
				return false
			}
		}
		for i := n; (re.Max == -1 || i < re.Max) && b.Len() < minLen; i++ {
			before := b.Len()
			if !walkRegexp(re.Sub[0], b, minLen) || b.Len() == before {
				break
			}
		}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	case syntax.OpNoMatch:
		return false
	default:
		return false
	}
	return true
}

// pickRune chooses a friendly rune from a character class given as ranges.
func pickRune(ranges []rune) rune {
	for _, pref := range []rune{'a', 'x', 'A', '1', '0', '-', '_', '.'} {
		for i := 0; i+1 < len(ranges); i += 2 {
			if pref >= ranges[i] && pref <= ranges[i+1] {
				return pref
			}
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for r := lo; r <= hi && r < lo+512; r++ {
			if r > ' ' && r < 0x7f {
				return r
			}
		}
	}
	if len(ranges) > 0 {
		return ranges[0]
	}
	return 'a'
}
