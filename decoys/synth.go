package decoys

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/getkin/kin-openapi/openapi3"
)

// Synthesis bounds: a hostile or pathological document (huge minItems,
// deep recursion) must not make one response unbounded.
const (
	maxNodes       = 20000 // values per response
	maxDepth       = 12    // nesting depth; beyond it only required fields
	optionalDepth  = 6     // optional properties are emitted up to this depth
	maxArrayItems  = 100   // items in one array (pages are bounded separately)
	maxStringBytes = 4096
)

// schemaInfo caches what synthesis derives from a schema: allOf merged and
// property order resolved. Keyed by the original *openapi3.Schema.
type schemaCache struct {
	flat  sync.Map // *openapi3.Schema -> *openapi3.Schema (allOf merged)
	order sync.Map // *openapi3.Schema -> []string
	exOK  sync.Map // any key -> bool (example validity)
}

// synth generates one response body. It is not safe for concurrent use;
// one is made per request.
type synth struct {
	doc   *docState
	src   *rand.PCG
	f     *gofakeit.Faker
	base  string    // scheme://host for URLs
	epoch time.Time // dates fall before it
	nodes int
	stack map[*openapi3.Schema]int

	// Per-response context.
	reflect   map[string]string // path parameters to reflect into the root object
	lastParam string            // the name of the last path parameter (the resource id)
	ctx       string            // what the object being generated is ("Role", "manager", …)
	person    map[string]bool   // memo of isPerson per context
	minimal   bool              // only required properties (to single out a oneOf branch)
	overrides map[string]any    // stored write state for the root object
	root      bool              // the next object generated is the resource root
	request   bool              // generating a request body: skip readOnly, keep writeOnly
	errCtx    *errContext       // non-nil while generating an error body
	list      *listPlan         // non-nil while generating a collection page
	resource  string            // the collection key, for URLs

	// breadcrumb embeds honeytokens in x-honeyapi-secret properties
	// (nil: synthesise them like any string); objSeed is the seed of the
	// object being generated.
	breadcrumb func(kind, name string, seed []byte, accept func(string) bool) (string, bool)
	objSeed    uint64
}

type errContext struct {
	status  int
	message string
	path    string
}

func newSynth(d *docState, base string, epoch time.Time) *synth {
	src := rand.NewPCG(1, 2)
	return &synth{
		doc:   d,
		src:   src,
		f:     gofakeit.NewFaker(src, false),
		base:  base,
		epoch: epoch,
		stack: map[*openapi3.Schema]int{},
	}
}

// reseed points the faker at a value's own seed, so each value depends
// only on its seed and never on what was generated before it.
func (g *synth) reseed(seed uint64) {
	g.src.Seed(seed, seed^0x9e3779b97f4a7c15)
}

// intn returns a seeded number in [0, n).
func (g *synth) intn(seed uint64, n int) int {
	if n <= 1 {
		return 0
	}
	return int(splitmix(seed) % uint64(n))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// mix derives a child seed from a parent seed and a name.
func mix(seed uint64, s string) uint64 {
	h := seed ^ 0xcbf29ce484222325
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return splitmix(h)
}

func mixi(seed uint64, i int) uint64 { return splitmix(seed ^ (uint64(i)+1)*0xd6e8feb86659fd93) }

// flat returns s with allOf merged in (cached).
func (d *docState) flat(s *openapi3.Schema) *openapi3.Schema {
	if s == nil || len(s.AllOf) == 0 {
		return s
	}
	if v, ok := d.cache.flat.Load(s); ok {
		return v.(*openapi3.Schema)
	}
	var order []string
	m := d.mergeAllOf(s, 0, &order)
	d.cache.order.Store(m, order)
	d.cache.flat.Store(s, m)
	return m
}

func (d *docState) mergeAllOf(s *openapi3.Schema, depth int, order *[]string) *openapi3.Schema {
	out := *s
	out.AllOf = nil
	out.Properties = openapi3.Schemas{}
	out.Required = nil
	seenReq := map[string]bool{}
	addProps := func(x *openapi3.Schema) {
		for _, k := range d.propOrder(x) {
			if _, ok := out.Properties[k]; !ok {
				*order = append(*order, k)
			}
			out.Properties[k] = x.Properties[k]
		}
		for _, r := range x.Required {
			if !seenReq[r] {
				seenReq[r] = true
				out.Required = append(out.Required, r)
			}
		}
	}
	for _, sub := range s.AllOf {
		if sub == nil || sub.Value == nil {
			continue
		}
		sv := sub.Value
		if len(sv.AllOf) > 0 && depth < 8 {
			var inner []string
			sv = d.mergeAllOf(sv, depth+1, &inner)
			d.cache.order.Store(sv, inner)
		}
		if out.Type == nil || len(*out.Type) == 0 {
			out.Type = sv.Type
		}
		if out.Format == "" {
			out.Format = sv.Format
		}
		if out.Pattern == "" {
			out.Pattern = sv.Pattern
		}
		if len(out.Enum) == 0 {
			out.Enum = sv.Enum
		}
		if out.Const == nil {
			out.Const = sv.Const
		}
		if out.Min == nil {
			out.Min = sv.Min
		}
		if out.Max == nil {
			out.Max = sv.Max
		}
		if !out.ExclusiveMin.IsSet() {
			out.ExclusiveMin = sv.ExclusiveMin
		}
		if !out.ExclusiveMax.IsSet() {
			out.ExclusiveMax = sv.ExclusiveMax
		}
		if out.MultipleOf == nil {
			out.MultipleOf = sv.MultipleOf
		}
		if sv.MinLength > out.MinLength {
			out.MinLength = sv.MinLength
		}
		if out.MaxLength == nil {
			out.MaxLength = sv.MaxLength
		}
		if sv.MinItems > out.MinItems {
			out.MinItems = sv.MinItems
		}
		if out.MaxItems == nil {
			out.MaxItems = sv.MaxItems
		}
		if out.Items == nil {
			out.Items = sv.Items
		}
		if out.AdditionalProperties.Has == nil && out.AdditionalProperties.Schema == nil {
			out.AdditionalProperties = sv.AdditionalProperties
		}
		if out.Discriminator == nil {
			out.Discriminator = sv.Discriminator
		}
		if len(out.OneOf) == 0 {
			out.OneOf = sv.OneOf
		}
		if len(out.AnyOf) == 0 {
			out.AnyOf = sv.AnyOf
		}
		if sv.MinProps > out.MinProps {
			out.MinProps = sv.MinProps
		}
		if out.MaxProps == nil {
			out.MaxProps = sv.MaxProps
		}
		out.ReadOnly = out.ReadOnly || sv.ReadOnly
		out.WriteOnly = out.WriteOnly || sv.WriteOnly
		addProps(sv)
	}
	addProps(s)
	return &out
}

// propOrder returns a schema's property names in document order.
func (d *docState) propOrder(s *openapi3.Schema) []string {
	if len(s.Properties) == 0 {
		return nil
	}
	if v, ok := d.cache.order.Load(s); ok {
		return v.([]string)
	}
	keys := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	keys = d.order.order(keys)
	d.cache.order.Store(s, keys)
	return keys
}

// schemaType picks the JSON type to generate for s.
func schemaType(s *openapi3.Schema, name string) (typ string, nullable bool) {
	nullable = s.Nullable
	if s.Type != nil {
		for _, t := range *s.Type {
			if t == "null" {
				nullable = true
			} else if typ == "" {
				typ = t
			}
		}
	}
	if typ != "" {
		return typ, nullable
	}
	switch {
	case len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil:
		return "object", nullable
	case s.Items != nil:
		return "array", nullable
	case len(s.Enum) > 0:
		switch s.Enum[0].(type) {
		case float64, int, int64:
			return "number", nullable
		case bool:
			return "boolean", nullable
		}
		return "string", nullable
	case s.Format != "" || s.Pattern != "" || s.MinLength > 0 || s.MaxLength != nil:
		return "string", nullable
	case s.Min != nil || s.Max != nil:
		return "number", nullable
	}
	return "", nullable
}

// gen generates a value for the schema. name is the property (or, for array
// items, the singular of the array's) name, which drives realistic values.
func (g *synth) gen(sr *openapi3.SchemaRef, seed uint64, name string, depth int) any {
	g.nodes++
	if sr == nil || sr.Value == nil {
		return g.untyped(seed, name)
	}
	s := g.doc.flat(sr.Value)
	if s.Const != nil {
		return s.Const
	}
	if g.breadcrumb != nil && !g.request && g.errCtx == nil {
		if kind, ok := s.Extensions["x-honeyapi-secret"].(string); ok {
			seed := binary.BigEndian.AppendUint64([]byte(g.doc.Name+"\x00"), g.objSeed)
			if v, ok := g.breadcrumb(kind, name, seed, func(v string) bool {
				return s.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.EnableFormatValidation()) == nil
			}); ok {
				return v
			}
		}
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return g.choice(s, seed, name, depth)
	}
	typ, nullable := schemaType(s, name)
	if nullable && s.Nullable && !g.doc.nullableKeyword() && !typeAllowsNull(s) {
		nullable = false
	}
	if nullable && g.nullable(seed, name, depth) {
		return nil
	}
	if len(s.Enum) > 0 {
		return g.enum(s, seed)
	}
	if g.stack[s] >= 2 || depth > maxDepth+4 {
		// A schema that contains itself: stop at the second level.
		return g.smallest(s, typ)
	}
	g.stack[s]++
	defer func() { g.stack[s]-- }()
	switch typ {
	case "object":
		ctx := name
		if sr.Ref != "" {
			ctx = sr.Ref[strings.LastIndexByte(sr.Ref, '/')+1:]
		}
		saved := g.ctx
		g.ctx = ctx
		v := g.object(s, seed, name, depth)
		g.ctx = saved
		return v
	case "array":
		return g.array(s, seed, name, depth)
	case "string":
		return g.str(s, seed, name)
	case "integer":
		return g.integer(s, seed, name)
	case "number":
		return g.number(s, seed, name)
	case "boolean":
		return g.boolean(seed, name)
	}
	return g.untyped(seed, name)
}

// onStack reports whether generating sr would recurse into a schema that
// is already being generated (directly, through items, or through every
// branch of a oneOf/anyOf).
func (g *synth) onStack(sr *openapi3.SchemaRef) bool {
	if sr == nil || sr.Value == nil {
		return false
	}
	s := g.doc.flat(sr.Value)
	if g.stack[s] > 0 {
		return true
	}
	if s.Items != nil && s.Items.Value != nil && g.stack[g.doc.flat(s.Items.Value)] > 0 {
		return true
	}
	branches := s.OneOf
	if len(branches) == 0 {
		branches = s.AnyOf
	}
	if len(branches) == 0 {
		return false
	}
	for _, b := range branches {
		if b == nil || b.Value == nil {
			continue
		}
		if t := b.Value.Type; t != nil && len(*t) == 1 && (*t)[0] == "null" {
			continue
		}
		if g.stack[g.doc.flat(b.Value)] == 0 {
			return false
		}
	}
	return true
}

// smallest is the least value of a type, used when recursion must stop.
func (g *synth) smallest(s *openapi3.Schema, typ string) any {
	_, nullable := schemaType(s, "")
	if nullable && (!s.Nullable || g.doc.nullableKeyword() || typeAllowsNull(s)) {
		return nil
	}
	g.nodes++
	if g.nodes > maxNodes*2 {
		return &object{}
	}
	switch typ {
	case "array":
		return []any{}
	case "object":
		if len(s.Required) > 0 && g.nodes < maxNodes {
			// Stop the recursion but keep the object valid: required
			// fields only, each as small as possible.
			o := &object{}
			for _, k := range s.Required {
				if ps := s.Properties[k]; ps != nil && ps.Value != nil {
					f := g.doc.flat(ps.Value)
					t, _ := schemaType(f, k)
					if len(f.Enum) > 0 {
						o.set(k, g.enum(f, 0))
					} else if f.Const != nil {
						o.set(k, f.Const)
					} else if t == "object" || t == "array" || g.stack[f] > 0 {
						o.set(k, g.smallest(f, t))
					} else {
						o.set(k, g.gen(ps, mix(0, k), k, maxDepth))
					}
				}
			}
			return o
		}
		return &object{}
	case "integer", "number":
		if s.Min != nil {
			return *s.Min
		}
		return int64(0)
	case "boolean":
		return false
	}
	return ""
}

func (g *synth) untyped(seed uint64, name string) any {
	if v, ok := g.byName(seed, name, nil); ok {
		return v
	}
	g.reseed(seed)
	return g.f.Word()
}

// nullable decides whether a nullable value is null: timestamps of events
// that have not happened usually are, other fields rarely.
func (g *synth) nullable(seed uint64, name string, depth int) bool {
	if g.root && depth == 0 {
		return false
	}
	n := strings.ToLower(name)
	for _, p := range []string{"deleted", "archived", "revoked", "suspended", "closed", "merged", "canceled", "cancelled", "ended", "expired", "disabled", "locked", "blocked"} {
		if strings.HasPrefix(n, p) {
			return g.intn(mix(seed, "null"), 10) < 8
		}
	}
	return g.intn(mix(seed, "null"), 10) == 0
}

// errorField names the optional fields an error body keeps.
func errorField(k string) bool {
	switch normName(k) {
	case "message", "msg", "error", "errors", "code", "status", "statuscode", "type", "title", "detail", "details",
		"path", "instance", "timestamp", "time", "documentationurl", "docurl", "requestid", "traceid", "reason", "kind", "apiversion", "metadata", "param":
		return true
	}
	return false
}

func (g *synth) enum(s *openapi3.Schema, seed uint64) any {
	var vals []any
	for _, v := range s.Enum {
		if v != nil {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	if g.errCtx != nil {
		// In an error body pick the value that says what went wrong:
		// "NotFound" for a 404, else a failure-like value.
		want := normName(http.StatusText(g.errCtx.status))
		for _, v := range vals {
			if str, ok := v.(string); ok && normName(str) == want {
				return v
			}
		}
		for _, v := range vals {
			if str, ok := v.(string); ok && hasAny(normName(str), "fail", "error", "invalid") {
				return v
			}
		}
		for _, v := range vals {
			if f, ok := v.(float64); ok && int(f) == g.errCtx.status {
				return v
			}
		}
	}
	return vals[g.intn(seed, len(vals))]
}

func (g *synth) boolean(seed uint64, name string) any {
	n := strings.ToLower(name)
	// Flags that are true for most real records.
	for _, p := range []string{"active", "enabled", "verified", "confirmed", "valid", "public", "livemode"} {
		if strings.Contains(n, p) {
			return g.intn(seed, 10) < 8
		}
	}
	for _, p := range []string{"deleted", "disabled", "locked", "suspended", "archived", "admin", "banned", "blocked", "test"} {
		if strings.Contains(n, p) {
			return g.intn(seed, 10) < 1
		}
	}
	return g.intn(seed, 2) == 1
}

// choice generates a oneOf/anyOf value: a branch chosen by seed whose value
// validates against exactly one branch (for oneOf), with the discriminator set.
func (g *synth) choice(s *openapi3.Schema, seed uint64, name string, depth int) any {
	branches := s.OneOf
	isOneOf := true
	if len(branches) == 0 {
		branches, isOneOf = s.AnyOf, false
	}
	var candidates []*openapi3.SchemaRef
	var nullBranch bool
	for _, b := range branches {
		if b == nil || b.Value == nil {
			continue
		}
		if t := b.Value.Type; t != nil && len(*t) == 1 && (*t)[0] == "null" {
			nullBranch = true
			continue
		}
		candidates = append(candidates, b)
	}
	if len(candidates) == 0 {
		if nullBranch {
			return nil
		}
		return g.untyped(seed, name)
	}
	if nullBranch && g.nullable(seed, name, depth) {
		return nil
	}
	// Stop recursion through a branch that contains itself: take the null
	// branch or another branch instead.
	var fresh []*openapi3.SchemaRef
	for _, c := range candidates {
		if !g.onStack(c) {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) == 0 && nullBranch {
		return nil
	}
	if len(fresh) > 0 {
		candidates = fresh
	}
	// Properties declared beside oneOf apply to every branch.
	base := *s
	base.OneOf, base.AnyOf, base.Discriminator = nil, nil, nil
	hasBase := len(base.Properties) > 0
	start := g.intn(mix(seed, "branch"), len(candidates))
	var last any
	// For oneOf the value must match exactly one branch. Branches often
	// overlap (every create-event also looks like a delete-event), so each
	// branch is tried in full and then with only its required fields.
	attempts := 1
	if isOneOf && len(candidates) > 1 {
		attempts = 2
	}
	for i := range candidates {
		b := candidates[(start+i)%len(candidates)]
		target := b
		if hasBase {
			merged := &openapi3.Schema{AllOf: openapi3.SchemaRefs{{Value: &base}, b}}
			target = &openapi3.SchemaRef{Value: g.doc.flatNew(merged)}
		}
		for a := 0; a < attempts; a++ {
			saved := g.minimal
			g.minimal = g.minimal || a == 1
			v := g.gen(target, seed, name, depth)
			g.minimal = saved
			if s.Discriminator != nil {
				if o, ok := v.(*object); ok {
					o.set(s.Discriminator.PropertyName, discriminatorValue(s.Discriminator, b, o, s.Discriminator.PropertyName))
				}
			}
			if last == nil {
				last = v
			}
			if attempts == 1 {
				return v
			}
			pv := plain(v)
			matches := 0
			for _, c := range branches {
				if c != nil && c.Value != nil && c.Value.VisitJSON(pv, openapi3.VisitAsResponse()) == nil {
					matches++
				}
			}
			if matches == 1 {
				return v
			}
		}
	}
	return last
}

// nullableKeyword reports whether the document's "nullable: true" lets a
// value be null: only in OpenAPI 3.0. In 3.1 the keyword means nothing
// (null must be in "type"), and 2.0's x-nullable is a vendor extension
// validators ignore.
func (d *docState) nullableKeyword() bool {
	return strings.HasPrefix(d.Version, "3.0")
}

// typeAllowsNull reports whether the schema's type list includes "null".
func typeAllowsNull(s *openapi3.Schema) bool {
	if s.Type == nil {
		return false
	}
	for _, t := range *s.Type {
		if t == "null" {
			return true
		}
	}
	return false
}

// flatNew merges a schema made at run time (not cached by pointer).
func (d *docState) flatNew(s *openapi3.Schema) *openapi3.Schema {
	var order []string
	m := d.mergeAllOf(s, 0, &order)
	d.cache.order.Store(m, order)
	return m
}

func discriminatorValue(disc *openapi3.Discriminator, branch *openapi3.SchemaRef, o *object, prop string) any {
	for k, m := range disc.Mapping {
		if m.Ref != "" && m.Ref == branch.Ref {
			return k
		}
	}
	if v, ok := o.get(prop); ok {
		if str, ok := v.(string); ok && branch.Value != nil {
			if p := branch.Value.Properties[prop]; p != nil && p.Value != nil && len(p.Value.Enum) > 0 {
				return str
			}
		}
	}
	if branch.Ref != "" {
		return branch.Ref[strings.LastIndexByte(branch.Ref, '/')+1:]
	}
	if v, ok := o.get(prop); ok {
		return v
	}
	return ""
}

func (g *synth) object(s *openapi3.Schema, seed uint64, name string, depth int) any {
	savedSeed := g.objSeed
	g.objSeed = seed
	defer func() { g.objSeed = savedSeed }()
	o := &object{}
	isRoot := g.root
	g.root = false
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	over := g.nodes > maxNodes
	for _, k := range g.doc.propOrder(s) {
		ps := s.Properties[k]
		if ps == nil || ps.Value == nil {
			continue
		}
		pv := g.doc.flat(ps.Value)
		if g.request && pv.ReadOnly || !g.request && pv.WriteOnly && !required[k] {
			continue // responses never carry write-only fields, requests no read-only ones
		}
		if !required[k] && (depth >= optionalDepth || over || g.minimal || g.onStack(ps)) {
			continue
		}
		if !required[k] && g.errCtx != nil && !errorField(k) {
			continue // real error bodies are terse
		}
		if g.list != nil && isRoot && g.list.envelope(g, o, k, pv, seed, depth) {
			continue
		}
		if isRoot {
			if v, ok := g.rootValue(k, pv); ok {
				o.set(k, v)
				continue
			}
		}
		o.set(k, g.gen(ps, mix(seed, k), k, depth+1))
	}
	// Required names the schema does not declare (real documents have
	// them) still need a value.
	for _, k := range s.Required {
		if _, ok := s.Properties[k]; ok {
			continue
		}
		if _, done := o.get(k); done {
			continue
		}
		if s.AdditionalProperties.Schema != nil {
			o.set(k, g.gen(s.AdditionalProperties.Schema, mix(seed, k), k, depth+1))
		} else if strings.HasSuffix(k, "s") {
			o.set(k, []any{g.word(mix(seed, k), singular(k))})
		} else {
			o.set(k, g.untyped(mix(seed, k), k))
		}
	}
	if len(s.Properties) == 0 && (s.AdditionalProperties.Schema != nil || (s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has)) {
		g.mapEntries(o, s, seed, name, depth)
	} else if uint64(len(o.keys)) < s.MinProps {
		g.mapEntries(o, s, seed, name, depth)
	}
	if isRoot {
		// Anything the client wrote that the schema has but we skipped.
		for _, k := range sortedKeys(g.overrides) {
			if _, ok := o.get(k); !ok {
				if ps := s.Properties[k]; ps != nil && ps.Value != nil && ps.Value.VisitJSON(g.overrides[k], openapi3.VisitAsResponse()) == nil {
					o.set(k, fromPlain(g.overrides[k], g.doc.order))
				}
			}
		}
	}
	fixTimeline(o)
	if g.isPerson() {
		g.fixPerson(o, s)
	}
	return o
}

// isPerson reports whether the object being generated describes a person.
func (g *synth) isPerson() bool {
	c := g.ctx
	if c == "" {
		c = g.resource
	}
	if g.errCtx != nil {
		return false
	}
	if v, ok := g.person[c]; ok {
		return v
	}
	if g.person == nil {
		g.person = map[string]bool{}
	}
	v := hasAny(strings.ToLower(c), personWords...)
	g.person[c] = v
	return v
}

// fixPerson makes a person's fields agree: the display name, email and
// username follow from the first and last name. A field the client wrote,
// or one whose new value would not validate, is left alone.
func (g *synth) fixPerson(o *object, s *openapi3.Schema) {
	var first, last string
	for i, k := range o.keys {
		switch normName(k) {
		case "firstname", "givenname":
			first, _ = o.vals[i].(string)
		case "lastname", "surname", "familyname":
			last, _ = o.vals[i].(string)
		}
	}
	if first == "" || last == "" {
		return
	}
	f, l := asciiLower(first), asciiLower(last)
	for i, k := range o.keys {
		if _, wrote := g.overrides[k]; wrote {
			continue
		}
		var v string
		switch n := normName(k); {
		case n == "displayname" || n == "fullname" || n == "name":
			v = first + " " + last
		case strings.HasSuffix(n, "email"):
			cur, _ := o.vals[i].(string)
			at := strings.LastIndexByte(cur, '@')
			if at < 0 || f == "" || l == "" {
				continue
			}
			v = f + "." + l + cur[at:]
		case n == "username" || n == "login" || n == "handle":
			if f == "" || l == "" {
				continue
			}
			v = f[:1] + l
		default:
			continue
		}
		if ps := s.Properties[k]; ps != nil && ps.Value != nil && ps.Value.VisitJSON(v) == nil {
			o.vals[i] = v
		}
	}
}

func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// rootValue gives the resource root's fields their reflected values: path
// parameters (GET /users/42 has id 42) and fields the client wrote earlier.
func (g *synth) rootValue(k string, ps *openapi3.Schema) (any, bool) {
	if v, ok := g.overrides[k]; ok && ps.VisitJSON(v, openapi3.VisitAsResponse()) == nil {
		return fromPlain(v, g.doc.order), true
	}
	nk := normName(k)
	for param, raw := range g.reflect {
		np := normName(param)
		// {id} -> id, {user_id} -> user_id; and the last parameter, when it
		// is an identifier ({userId}, {key_id}), is the object's own id.
		if np == nk || nk == "id" && param == g.lastParam && strings.HasSuffix(np, "id") {
			if v, ok := coerce(raw, ps); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// coerce converts a path value to the property's type, if it validates.
func coerce(raw string, ps *openapi3.Schema) (any, bool) {
	typ, _ := schemaType(ps, "")
	var v any
	switch typ {
	case "integer":
		f, ok := parseNumber(raw)
		if !ok || f != math.Trunc(f) {
			return nil, false
		}
		v = f
	case "number":
		f, ok := parseNumber(raw)
		if !ok {
			return nil, false
		}
		v = f
	case "string", "":
		v = raw
	default:
		return nil, false
	}
	if ps.VisitJSON(v, openapi3.VisitAsResponse()) != nil {
		return nil, false
	}
	if f, ok := v.(float64); ok && typ == "integer" {
		return int64(f), true
	}
	return v, true
}

func (g *synth) mapEntries(o *object, s *openapi3.Schema, seed uint64, name string, depth int) {
	n := 1 + g.intn(mix(seed, "n"), 3)
	if int(s.MinProps) > n {
		n = int(s.MinProps)
	}
	if s.MaxProps != nil && int(*s.MaxProps) < n {
		n = int(*s.MaxProps)
	}
	if n > 20 {
		n = 20
	}
	keys := mapKeys(name)
	var vs *openapi3.SchemaRef
	if s.AdditionalProperties.Schema != nil {
		vs = s.AdditionalProperties.Schema
	}
	start := g.intn(mix(seed, "k"), len(keys))
	for i := 0; len(o.keys) < n+len(s.Properties) && i < n*2; i++ {
		k := keys[(start+i)%len(keys)]
		if _, ok := o.get(k); ok {
			continue
		}
		if vs == nil {
			o.set(k, g.labelValue(mix(seed, k), k))
		} else {
			o.set(k, g.gen(vs, mix(seed, k), k, depth+1))
		}
	}
}

func mapKeys(name string) []string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "label"), strings.Contains(n, "tag"), strings.Contains(n, "annotation"):
		return []string{"team", "env", "app", "tier", "owner", "cost-center", "component", "region"}
	case strings.Contains(n, "header"):
		return []string{"Content-Type", "X-Request-Id", "Accept", "User-Agent"}
	case strings.Contains(n, "env"), strings.Contains(n, "variable"), strings.Contains(n, "config"), strings.Contains(n, "setting"):
		return []string{"LOG_LEVEL", "DATABASE_URL", "REDIS_URL", "FEATURE_FLAGS", "SENTRY_DSN", "PORT", "NODE_ENV"}
	case strings.Contains(n, "metadata"):
		return []string{"order_id", "customer_ref", "source", "campaign", "plan"}
	}
	return []string{"primary", "secondary", "default", "internal", "external", "legacy"}
}

func (g *synth) labelValue(seed uint64, k string) any {
	switch k {
	case "team":
		return []string{"platform", "payments", "identity", "data", "growth", "sre"}[g.intn(seed, 6)]
	case "env":
		return []string{"production", "staging", "dev"}[g.intn(seed, 3)]
	case "tier":
		return []string{"frontend", "backend", "worker", "cache"}[g.intn(seed, 4)]
	case "source":
		return []string{"web", "ios", "android", "api", "import"}[g.intn(seed, 5)]
	case "campaign":
		return []string{"spring-sale", "partner-referral", "newsletter", "black-friday", "winback"}[g.intn(seed, 5)]
	case "plan":
		return []string{"starter", "growth", "pro", "enterprise"}[g.intn(seed, 4)]
	case "order_id", "customer_ref":
		return strings.ToUpper(k[:2]) + "-" + strconv.Itoa(100000+g.intn(seed, 900000))
	case "region":
		return []string{"us-east-1", "eu-west-1", "us-west-2"}[g.intn(seed, 3)]
	}
	g.reseed(seed)
	return strings.ToLower(g.f.Noun())
}

func (g *synth) array(s *openapi3.Schema, seed uint64, name string, depth int) any {
	if g.list != nil && g.root && g.list.arrayProp == "" {
		g.root = false
		return g.list.items(g, depth)
	}
	g.root = false
	lo := int(s.MinItems)
	hi := lo + 3
	if lo == 0 {
		lo, hi = 1, 3
		if depth >= optionalDepth {
			lo, hi = 0, 1
		}
	}
	if s.MaxItems != nil && int(*s.MaxItems) < hi {
		hi = int(*s.MaxItems)
	}
	if lo > hi {
		lo = hi
	}
	if hi > maxArrayItems {
		hi = maxArrayItems
	}
	if lo > maxArrayItems {
		lo = maxArrayItems
	}
	n := lo + g.intn(mix(seed, "len"), hi-lo+1)
	if g.nodes > maxNodes {
		n = lo
	}
	item := singular(name)
	out := make([]any, 0, n)
	var seen map[string]bool
	if s.UniqueItems {
		seen = map[string]bool{}
	}
	for i, tries := 0, 0; len(out) < n && tries < n*4; tries++ {
		v := g.gen(s.Items, mixi(seed, tries), item, depth+1)
		if seen != nil {
			k := string(appendJSON(nil, v))
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, v)
		i++
	}
	return out
}

func singular(name string) string {
	switch {
	case strings.HasSuffix(name, "ies"):
		return name[:len(name)-3] + "y"
	case strings.HasSuffix(name, "sses"), strings.HasSuffix(name, "xes"):
		return name[:len(name)-2]
	case strings.HasSuffix(name, "s") && !strings.HasSuffix(name, "ss"):
		return name[:len(name)-1]
	}
	return name
}

func parseNumber(s string) (float64, bool) {
	if s == "" || len(s) > 40 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
