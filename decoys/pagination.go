package decoys

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// listPlan is one page of a collection: which items, how many in all, and
// the pagination the document declares (page/per_page, limit/offset,
// cursor), so that pages, totals, cursors and Link headers agree, and the
// items on a page are the same objects GET /collection/{id} returns.
type listPlan struct {
	x          *exchange
	coll       string
	collSeed   uint64
	arrayProp  string // "" for a bare array
	itemSchema *openapi3.SchemaRef
	itemName   string
	idName     string
	idSchema   *openapi3.SchemaRef

	style                                    string // "page", "offset", "cursor" or ""
	pageParam, sizeParam, offParam, curParam string
	zeroBased                                bool
	page, perPage, offset, size, total       int
	created                                  []string
}

const maxPageSize = 100

var (
	pageNames   = []string{"page", "pagenumber", "pageno", "pageindex", "pagenum"}
	sizeNames   = []string{"perpage", "pagesize", "size", "limit", "pagelimit", "maxresults", "maxitems", "top", "first", "count"}
	offsetNames = []string{"offset", "skip", "start", "startindex"}
	cursorNames = []string{"cursor", "after", "startingafter", "pagetoken", "nexttoken", "continue", "continuationtoken", "marker", "since", "nextpagetoken", "pagecursor"}
)

func in(n string, set []string) bool {
	for _, s := range set {
		if n == s {
			return true
		}
	}
	return false
}

// listPlan returns the plan for a collection GET, or nil when the response
// is not a list.
func (d *Decoy) listPlan(x *exchange, resp *openapi3.Response, coll string) *listPlan {
	_, media := pickMedia(resp, x.r.Header.Get("Accept"))
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil
	}
	p := &listPlan{x: x, coll: coll, collSeed: d.seed(x.doc, coll, "list")}
	s := x.doc.flat(media.Schema.Value)
	typ, _ := schemaType(s, "")
	switch typ {
	case "array":
		p.itemSchema = s.Items
	case "object":
		last := coll[strings.LastIndexByte(coll, '/')+1:]
		var fallback string
		for _, k := range x.doc.propOrder(s) {
			ps := s.Properties[k]
			if ps == nil || ps.Value == nil {
				continue
			}
			pv := x.doc.flat(ps.Value)
			if t, _ := schemaType(pv, k); t != "array" || pv.Items == nil || pv.Items.Value == nil {
				continue
			}
			if it, _ := schemaType(x.doc.flat(pv.Items.Value), ""); it != "object" {
				continue
			}
			n := normName(k)
			if in(n, []string{"data", "items", "results", "records", "entries", "values", "list", "content", "nodes", "elements", "rows"}) || n == normName(last) {
				p.arrayProp = k
				break
			}
			if fallback == "" {
				fallback = k
			}
		}
		if p.arrayProp == "" {
			p.arrayProp = fallback
		}
		if p.arrayProp == "" {
			return nil
		}
		p.itemSchema = x.doc.flat(s.Properties[p.arrayProp].Value).Items
	default:
		return nil
	}
	if p.itemSchema == nil || p.itemSchema.Value == nil {
		return nil
	}
	p.itemName = singular(coll[strings.LastIndexByte(coll, '/')+1:])
	p.idName, p.idSchema = findIDProp(x.doc, p.itemSchema)
	p.paginate(x, s)
	return p
}

func (p *listPlan) paginate(x *exchange, s *openapi3.Schema) {
	q := x.r.URL.Query()
	params := append(openapi3.Parameters{}, x.op.route.item.Parameters...)
	params = append(params, x.op.op.Parameters...)
	defSize := 0
	for _, pr := range params {
		if pr == nil || pr.Value == nil || pr.Value.In != "query" {
			continue
		}
		name := pr.Value.Name
		n := normName(name)
		switch {
		case in(n, pageNames) && p.pageParam == "":
			p.pageParam = name
			if sc := pr.Value.Schema; sc != nil && sc.Value != nil {
				if sc.Value.Min != nil && *sc.Value.Min == 0 {
					p.zeroBased = true
				}
				if dv, ok := sc.Value.Default.(float64); ok && dv == 0 {
					p.zeroBased = true
				}
			}
		case in(n, sizeNames) && p.sizeParam == "":
			p.sizeParam = name
			if sc := pr.Value.Schema; sc != nil && sc.Value != nil {
				if dv, ok := sc.Value.Default.(float64); ok && dv > 0 {
					defSize = int(dv)
				}
			}
		case in(n, offsetNames) && p.offParam == "":
			p.offParam = name
		case in(n, cursorNames) && p.curParam == "":
			p.curParam = name
		}
	}
	switch {
	case p.pageParam != "":
		p.style = "page"
	case p.offParam != "":
		p.style = "offset"
	case p.curParam != "":
		p.style = "cursor"
	}
	p.created = x.d.state.created(x.client, p.coll)
	p.total = 15 + int(splitmix(p.collSeed)%190) + len(p.created)
	p.perPage = defSize
	if v, err := strconv.Atoi(q.Get(p.sizeParam)); p.sizeParam != "" && err == nil && v > 0 {
		p.perPage = v
	}
	if p.perPage <= 0 {
		if p.style == "" && p.sizeParam == "" {
			// An unpaginated list: a handful of items, all of them.
			p.total = 3 + int(splitmix(p.collSeed^1)%10) + len(p.created)
			p.perPage = p.total
		} else if p.style == "page" {
			p.perPage = 30
		} else {
			p.perPage = 20
		}
	}
	if p.perPage > maxPageSize {
		p.perPage = maxPageSize
	}
	switch p.style {
	case "page":
		p.page = 1
		if p.zeroBased {
			p.page = 0
		}
		if v, err := strconv.Atoi(q.Get(p.pageParam)); err == nil && v >= 0 {
			p.page = v
		}
		idx := p.page - 1
		if p.zeroBased {
			idx = p.page
		}
		if idx < 0 {
			idx = 0
		}
		p.offset = idx * p.perPage
	case "offset":
		if v, err := strconv.Atoi(q.Get(p.offParam)); err == nil && v > 0 {
			p.offset = v
		}
	case "cursor":
		p.offset = p.decodeCursor(q.Get(p.curParam))
	}
	if p.offset > 1_000_000 {
		p.offset = 1_000_000
	}
	p.size = p.total - p.offset
	if p.size > p.perPage {
		p.size = p.perPage
	}
	if p.size < 0 {
		p.size = 0
	}
	if arr := p.arraySchema(s); arr != nil {
		if arr.MaxItems != nil && int(*arr.MaxItems) < p.size {
			p.size = int(*arr.MaxItems)
		}
		if int(arr.MinItems) > p.size {
			p.size = int(arr.MinItems)
			if p.size > maxPageSize {
				p.size = maxPageSize
			}
		}
	}
}

func (p *listPlan) arraySchema(s *openapi3.Schema) *openapi3.Schema {
	if p.arrayProp == "" {
		return s
	}
	if ps := s.Properties[p.arrayProp]; ps != nil && ps.Value != nil {
		return p.x.doc.flat(ps.Value)
	}
	return nil
}

// idAt returns the id of the i-th synthetic item of the collection.
func (p *listPlan) idAt(g *synth, i int) (string, any) {
	if p.idSchema == nil {
		return "n" + strconv.Itoa(i), nil
	}
	v := g.gen(p.idSchema, mixi(p.collSeed, i), p.idName, 1)
	switch t := v.(type) {
	case int64:
		return strconv.FormatInt(t, 10), v
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), v
	}
	return fmt.Sprint(v), v
}

// items generates the page's items: this client's own creations first,
// then the collection's synthetic members, minus what it deleted.
func (p *listPlan) items(g *synth, depth int) []any {
	out := make([]any, 0, p.size)
	saved := g.list
	g.list = nil
	defer func() { g.list = saved }()
	pos := 0 // absolute position in the collection
	for _, id := range p.created {
		if len(out) >= p.size {
			return out
		}
		if pos >= p.offset {
			out = append(out, p.item(g, id, nil, depth))
		}
		pos++
	}
	for i := 0; len(out) < p.size && i < p.offset+p.size+maxPageSize; i++ {
		id, idVal := p.idAt(g, i)
		if _, deleted := p.x.d.state.get(p.x.client, p.coll, id); deleted {
			continue
		}
		if pos >= p.offset {
			out = append(out, p.item(g, id, idVal, depth))
		}
		pos++
	}
	return out
}

func (p *listPlan) item(g *synth, id string, idVal any, depth int) any {
	over, _ := p.x.d.state.get(p.x.client, p.coll, id)
	if idVal != nil && p.idName != "" {
		over = mergeFields(over, map[string]any{p.idName: plain(idVal)})
	}
	savedOver, savedRes := g.overrides, g.resource
	g.overrides, g.root, g.resource = over, true, p.coll
	v := g.gen(p.itemSchema, p.x.d.seed(p.x.doc, p.coll, id), p.itemName, depth)
	g.overrides, g.root, g.resource = savedOver, false, savedRes
	return v
}

func (p *listPlan) hasMore() bool { return p.offset+p.size < p.total }

func (p *listPlan) pages() int {
	if p.perPage <= 0 {
		return 1
	}
	return (p.total + p.perPage - 1) / p.perPage
}

func (p *listPlan) cursorMask() uint32 { return uint32(p.collSeed >> 17) }

func (p *listPlan) encodeCursor(offset int) string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(offset)^p.cursorMask())
	binary.BigEndian.PutUint32(b[4:], uint32(p.collSeed))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (p *listPlan) decodeCursor(c string) int {
	if c == "" {
		return 0
	}
	if b, err := base64.RawURLEncoding.DecodeString(c); err == nil && len(b) == 8 && binary.BigEndian.Uint32(b[4:]) == uint32(p.collSeed) {
		return int(binary.BigEndian.Uint32(b[:4]) ^ p.cursorMask())
	}
	// Stripe-style: the cursor is the id of the last item seen.
	if p.idSchema != nil && len(c) <= 128 {
		g := p.x.newSynth()
		for i := 0; i < p.total; i++ {
			if id, _ := p.idAt(g, i); id == c {
				return i + 1 + len(p.created)
			}
		}
	}
	return 0
}

// nextCursor is what a client sends to get the next page.
func (p *listPlan) nextCursor(g *synth) string {
	if normName(p.curParam) == "startingafter" || normName(p.curParam) == "after" && p.idSchema != nil {
		if p.size > 0 {
			id, _ := p.idAt(g, p.offset+p.size-1-len(p.created))
			return id
		}
	}
	return p.encodeCursor(p.offset + p.size)
}

// pageURL is the URL of another page of this list.
func (p *listPlan) pageURL(offset int) string {
	q := url.Values{}
	switch p.style {
	case "page":
		page := offset/p.perPage + 1
		if p.zeroBased {
			page--
		}
		q.Set(p.pageParam, strconv.Itoa(page))
	case "offset":
		q.Set(p.offParam, strconv.Itoa(offset))
	case "cursor":
		q.Set(p.curParam, p.encodeCursor(offset))
	}
	if p.sizeParam != "" {
		q.Set(p.sizeParam, strconv.Itoa(p.perPage))
	}
	return p.x.base + p.x.d.opts.Prefix + p.x.path + "?" + q.Encode()
}

// link builds an RFC 8288 Link header like GitHub's.
func (p *listPlan) link(x *exchange) string {
	if p.style == "" {
		return ""
	}
	var parts []string
	if p.hasMore() {
		parts = append(parts, fmt.Sprintf(`<%s>; rel="next"`, p.pageURL(p.offset+p.perPage)))
		if p.style != "cursor" {
			parts = append(parts, fmt.Sprintf(`<%s>; rel="last"`, p.pageURL((p.pages()-1)*p.perPage)))
		}
	}
	if p.offset > 0 {
		prev := p.offset - p.perPage
		if prev < 0 {
			prev = 0
		}
		if p.style != "cursor" {
			parts = append(parts, fmt.Sprintf(`<%s>; rel="first"`, p.pageURL(0)))
		}
		parts = append(parts, fmt.Sprintf(`<%s>; rel="prev"`, p.pageURL(prev)))
	}
	return strings.Join(parts, ", ")
}

// envelope fills the list's array and its pagination fields in an envelope
// object. It reports whether it handled property k.
func (p *listPlan) envelope(g *synth, o *object, k string, ps *openapi3.Schema, seed uint64, depth int) bool {
	if k == p.arrayProp {
		o.set(k, p.items(g, depth+1))
		return true
	}
	typ, nullable := schemaType(ps, k)
	n := normName(k)
	num := func(v int) bool {
		if typ != "integer" && typ != "number" {
			return false
		}
		o.set(k, int64(v))
		return true
	}
	str := func(v string, more bool) bool {
		if typ != "string" {
			return false
		}
		if !more {
			if nullable {
				o.set(k, nil)
				return true
			}
			v = ""
		}
		o.set(k, v)
		return true
	}
	switch {
	case in(n, []string{"total", "totalcount", "totalitems", "totalresults", "totalelements", "totalsize", "totalrecords", "count"}):
		return num(p.total)
	case in(n, []string{"page", "currentpage", "pagenumber", "number"}) && p.style == "page":
		return num(p.page)
	case in(n, []string{"perpage", "pagesize", "limit", "size"}):
		return num(p.perPage)
	case in(n, []string{"numberofelements", "returned", "itemcount"}):
		return num(p.size)
	case in(n, []string{"offset", "skip", "start"}):
		return num(p.offset)
	case in(n, []string{"totalpages", "pagecount", "lastpage", "pages"}):
		return num(p.pages())
	case in(n, []string{"hasmore", "hasnext", "hasnextpage", "more"}) && typ == "boolean":
		o.set(k, p.hasMore())
		return true
	case in(n, []string{"first"}) && typ == "boolean":
		o.set(k, p.offset == 0)
		return true
	case in(n, []string{"last"}) && typ == "boolean":
		o.set(k, !p.hasMore())
		return true
	case in(n, []string{"empty"}) && typ == "boolean":
		o.set(k, p.size == 0)
		return true
	case in(n, []string{"next", "nextpage", "nextlink", "nexturl"}):
		if typ == "string" && (ps.Format == "uri" || ps.Format == "url" || strings.HasSuffix(n, "url") || strings.HasSuffix(n, "link") || n == "next") {
			return str(p.pageURL(p.offset+p.perPage), p.hasMore())
		}
		return str(p.nextCursor(g), p.hasMore())
	case in(n, []string{"nextcursor", "nextpagetoken", "endcursor", "cursor", "nexttoken", "continuationtoken"}):
		return str(p.nextCursor(g), p.hasMore())
	case in(n, []string{"previous", "prev", "previouspage", "prevurl", "previousurl"}):
		prev := p.offset - p.perPage
		if prev < 0 {
			prev = 0
		}
		return str(p.pageURL(prev), p.offset > 0)
	case n == "url" && typ == "string" && ps.Format == "":
		o.set(k, p.x.d.opts.Prefix+p.x.path)
		return true
	}
	return false
}
