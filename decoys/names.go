package decoys

import (
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// normName folds a property name for matching: "firstName", "first_name"
// and "First-Name" all become "firstname".
func normName(s string) string {
	if v, ok := normCache.Load(s); ok {
		return v.(string)
	}
	n := foldName(s)
	// Document names repeat on every request; attacker-chosen keys must not
	// grow the cache without bound.
	if normCount.Load() < maxNormCache {
		normCount.Add(1)
		normCache.Store(s, n)
	}
	return n
}

var (
	normCache sync.Map
	normCount atomic.Int64
)

const maxNormCache = 1 << 16

func foldName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' || r == ' ' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func hasAny(n string, subs ...string) bool {
	for _, s := range subs {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func hasSuffixAny(n string, subs ...string) bool {
	for _, s := range subs {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

var (
	reCache sync.Map // pattern -> *regexp.Regexp or nil
)

func compilePattern(p string) *regexp.Regexp {
	if v, ok := reCache.Load(p); ok {
		re, _ := v.(*regexp.Regexp)
		return re
	}
	re, err := regexp.Compile(p)
	if err != nil {
		reCache.Store(p, (*regexp.Regexp)(nil))
		return nil
	}
	reCache.Store(p, re)
	return re
}

// str generates a string: format first, then pattern (checked), then the
// property name, then the document's example (its shape, not its value).
func (g *synth) str(s *openapi3.Schema, seed uint64, name string) any {
	v := g.strRaw(s, seed, name)
	return fitLength(v, s, g, seed)
}

func (g *synth) strRaw(s *openapi3.Schema, seed uint64, name string) string {
	g.reseed(seed)
	if g.errCtx != nil {
		if v, ok := g.errString(s, name); ok && s.VisitJSON(v, openapi3.EnableFormatValidation()) == nil {
			return v
		}
	}
	switch strings.ToLower(s.Format) {
	case "date-time":
		return g.timeFor(seed, name).Format(time.RFC3339)
	case "date":
		return g.timeFor(seed, name).Format("2006-01-02")
	case "time":
		return g.timeFor(seed, name).Format("15:04:05")
	case "email", "idn-email":
		return g.email(seed, name)
	case "uuid":
		return uuidFrom(seed)
	case "uri", "url", "iri", "uri-reference", "iri-reference":
		if v, ok := g.byName(seed, name, s); ok {
			if str, ok := v.(string); ok && strings.Contains(str, "://") {
				return str
			}
		}
		return g.selfURL(seed, name)
	case "hostname", "idn-hostname":
		return g.hostname(seed)
	case "ipv4":
		return g.ipv4(seed, name)
	case "ipv6":
		g.reseed(seed)
		return g.f.IPv6Address()
	case "byte":
		b := make([]byte, 12+g.intn(seed, 20))
		for i := range b {
			b[i] = byte(splitmix(seed + uint64(i)))
		}
		return base64.StdEncoding.EncodeToString(b)
	case "binary":
		return hexString(seed, 32)
	case "password":
		return g.secretLike(seed, name)
	case "int64", "int32", "integer":
		return strconv.FormatInt(int64(1000+g.intn(seed, 9_000_000)), 10)
	case "duration":
		return fmt.Sprintf("PT%dM", 5+g.intn(seed, 115))
	case "regex":
		return "^[a-z0-9-]+$"
	case "json-pointer":
		return "/" + strings.ToLower(g.f.Noun())
	}
	if s.Pattern != "" {
		if re := compilePattern(s.Pattern); re != nil {
			// A value by name or example often fits the pattern and reads better.
			if v, ok := g.byName(seed, name, s); ok {
				if str, ok := v.(string); ok && re.MatchString(str) {
					return str
				}
			}
			if ex, ok := s.Example.(string); ok && re.MatchString(ex) {
				if m := mutateShape(ex, seed); re.MatchString(m) {
					return m
				}
			}
			for i := 0; i < 4; i++ {
				if v, ok := patternString(s.Pattern, mixi(seed, i)); ok && re.MatchString(v) {
					return v
				}
			}
			for i := 0; i < 4; i++ {
				g.reseed(mixi(seed, i))
				if v := g.f.Regex(s.Pattern); re.MatchString(v) {
					return v
				}
			}
			if ex, ok := s.Example.(string); ok && re.MatchString(ex) {
				return ex
			}
		}
	}
	if v, ok := g.byName(seed, name, s); ok {
		if str, ok := v.(string); ok {
			return str
		}
	}
	if ex, ok := s.Example.(string); ok && ex != "" {
		if strings.Contains(ex, "://") {
			return g.rehost(ex)
		}
		if !strings.ContainsAny(ex, " \n") && len(ex) <= 80 {
			return mutateShape(ex, seed)
		}
		return ex
	}
	if len(s.Examples) > 0 {
		if ex, ok := s.Examples[g.intn(seed, len(s.Examples))].(string); ok {
			return ex
		}
	}
	g.reseed(seed)
	return g.word(seed, name)
}

// word is the last resort for a string: a plausible token for its name.
func (g *synth) word(seed uint64, name string) string {
	n := normName(name)
	switch {
	case hasSuffixAny(n, "name", "title", "label"):
		return g.entityName(seed)
	case hasSuffixAny(n, "id", "key", "ref", "code"):
		return strings.ToLower(alnum(seed, 12))
	}
	g.reseed(seed)
	return strings.ToLower(g.f.Noun())
}

func fitLength(v string, s *openapi3.Schema, g *synth, seed uint64) string {
	max := maxStringBytes
	if s.MaxLength != nil && int(*s.MaxLength) < max {
		max = int(*s.MaxLength)
	}
	if n := len([]rune(v)); n > max {
		v = string([]rune(v)[:max])
	}
	min := int(s.MinLength)
	if min > maxStringBytes {
		min = maxStringBytes
	}
	for len([]rune(v)) < min {
		v += strings.ToLower(alnum(mixi(seed, len(v)), min-len([]rune(v))))
	}
	return v
}

// mutateShape keeps an example's shape (letters, digits, punctuation,
// prefixes like "cus_") and replaces its content, so ids and tokens look
// like the document's own without repeating them.
func mutateShape(ex string, seed uint64) string {
	// Keep a known prefix such as "cus_", "sk_live_", "ghp_".
	keep := 0
	if i := strings.LastIndexAny(ex, "_-"); i > 0 && i < len(ex)-4 && i <= 12 {
		keep = i + 1
	}
	b := []byte(ex)
	x := seed
	for i := keep; i < len(b); i++ {
		x = splitmix(x)
		switch c := b[i]; {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + byte(x%26)
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + byte(x%26)
		case c >= '0' && c <= '9':
			b[i] = '0' + byte(x%10)
		}
	}
	return string(b)
}

const alnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func alnum(seed uint64, n int) string {
	b := make([]byte, n)
	x := seed
	for i := range b {
		x = splitmix(x)
		b[i] = alnumChars[x%uint64(len(alnumChars))]
	}
	return string(b)
}

func hexString(seed uint64, n int) string {
	b := make([]byte, n)
	x := seed
	for i := range b {
		x = splitmix(x)
		b[i] = hexDigits[x&0xf]
	}
	return string(b)
}

func uuidFrom(seed uint64) string {
	a, b := splitmix(seed), splitmix(seed^0xabcdef)
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// timeFor picks a date consistent with the field's meaning, in the years
// before the epoch: creation long ago, updates later, expiry after.
func (g *synth) timeFor(seed uint64, name string) time.Time {
	n := normName(name)
	span := 3 * 365 * 24 * time.Hour
	base := g.epoch.Add(-span)
	off := time.Duration(splitmix(seed) % uint64(span))
	switch {
	case hasAny(n, "birth", "dob"):
		years := 20 + g.intn(seed, 45)
		return time.Date(g.epoch.Year()-years, time.Month(1+g.intn(mix(seed, "m"), 12)), 1+g.intn(mix(seed, "d"), 28), 0, 0, 0, 0, time.UTC)
	case hasAny(n, "expir", "expiry", "validuntil", "notafter", "renew", "due", "next", "scheduled"):
		return g.epoch.Add(time.Duration(splitmix(seed) % uint64(365*24*time.Hour))).Truncate(time.Second)
	case hasAny(n, "updated", "modified", "lastlogin", "lastseen", "lastused", "lastactive", "pushed", "lastrun", "finished", "completed"):
		recent := 60 * 24 * time.Hour
		return g.epoch.Add(-time.Duration(splitmix(seed) % uint64(recent))).Truncate(time.Second)
	}
	return base.Add(off).Truncate(time.Second)
}

// fixTimeline makes an object's timestamps agree: nothing is updated
// before it was created.
func fixTimeline(o *object) {
	var created string
	for i, k := range o.keys {
		if n := normName(k); n == "createdat" || n == "created" || n == "createdon" || n == "insertedat" {
			if s, ok := o.vals[i].(string); ok {
				created = s
			}
		}
	}
	if created == "" {
		return
	}
	for i, k := range o.keys {
		n := normName(k)
		if !hasAny(n, "updated", "modified", "lastlogin", "lastused", "lastseen") {
			continue
		}
		if s, ok := o.vals[i].(string); ok && len(s) == len(created) && s < created {
			o.vals[i] = created
		}
	}
}

// Person-ish and organisation-ish context words.
var personWords = []string{"user", "customer", "member", "account", "employee", "person", "contact", "owner", "author", "assignee", "reviewer", "profile", "actor", "creator", "committer", "sender", "recipient", "patient", "student", "manager", "approver", "requester", "shipping", "billing", "cardholder", "holder"}

var (
	roleNames  = []string{"Administrator", "Auditor", "Support Agent", "Billing Manager", "Read Only", "Security Analyst", "Developer", "Org Owner", "User Manager", "Compliance Officer"}
	teamNames  = []string{"Platform Engineering", "SRE", "Finance Ops", "Customer Success", "Data Platform", "Security", "Payments Core", "Identity", "Mobile", "IT Helpdesk"}
	deptNames  = []string{"Engineering", "Finance", "Sales", "Customer Support", "Security", "Legal", "Marketing", "Operations", "People", "Product"}
	actorNames = []string{"system", "admin", "svc-provisioner", "terraform", "okta-scim", "jenkins"}
)

func (g *synth) email(seed uint64, name string) string {
	g.reseed(mix(seed, "email"))
	first := strings.ToLower(g.f.FirstName())
	last := strings.ToLower(g.f.LastName())
	domains := []string{"gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "fastmail.com"}
	switch g.intn(seed, 4) {
	case 0:
		return first + "." + last + "@" + domains[g.intn(mix(seed, "d"), len(domains))]
	case 1:
		return first[:1] + last + "@" + domains[g.intn(mix(seed, "d"), len(domains))]
	case 2:
		return first + strconv.Itoa(10+g.intn(seed, 89)) + "@" + domains[g.intn(mix(seed, "d"), len(domains))]
	}
	return first + "." + last + "@" + g.companyDomain(mix(seed, "co"))
}

func (g *synth) companyDomain(seed uint64) string {
	g.reseed(seed)
	c := strings.ToLower(g.f.Company())
	c = strings.NewReplacer(",", "", ".", "", "&", "and", "'", "").Replace(c)
	parts := strings.Fields(c)
	var keep []string
	for _, p := range parts {
		if p == "inc" || p == "llc" || p == "and" || p == "ltd" || p == "group" || p == "corp" {
			continue
		}
		keep = append(keep, p)
	}
	for i, p := range keep {
		keep[i] = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return -1
		}, p)
	}
	keep = slices.DeleteFunc(keep, func(p string) bool { return p == "" })
	if len(keep) == 0 {
		keep = []string{"northwind"}
	}
	if len(keep) > 2 {
		keep = keep[:2]
	}
	return strings.Join(keep, "") + []string{".com", ".io", ".co", ".net"}[g.intn(seed, 4)]
}

func (g *synth) hostname(seed uint64) string {
	roles := []string{"api", "web", "worker", "db", "cache", "queue", "ingest", "auth", "search", "batch"}
	envs := []string{"prod", "prod", "staging", "internal"}
	return fmt.Sprintf("%s-%02d.%s.%s", roles[g.intn(seed, len(roles))], 1+g.intn(mix(seed, "n"), 24), []string{"us-east-1", "eu-west-1", "us-west-2"}[g.intn(mix(seed, "r"), 3)], envs[g.intn(mix(seed, "e"), len(envs))]+".internal")
}

func (g *synth) ipv4(seed uint64, name string) string {
	n := normName(name)
	if hasAny(n, "private", "internal", "node", "pod", "host", "local", "cluster") {
		return fmt.Sprintf("10.%d.%d.%d", g.intn(seed, 64), g.intn(mix(seed, "b"), 256), 2+g.intn(mix(seed, "c"), 250))
	}
	// Public-looking addresses from documentation-free, non-reserved ranges.
	for i := 0; ; i++ {
		x := splitmix(mixi(seed, i))
		ip := net.IPv4(byte(11+x%180), byte(x>>8), byte(x>>16), byte(1+(x>>24)%254))
		if !ip.IsPrivate() && !ip.IsLoopback() {
			return ip.String()
		}
	}
}

// selfURL is a URL on the decoy's own host: never a real third party's.
func (g *synth) selfURL(seed uint64, name string) string {
	n := normName(name)
	res := g.resource
	if res == "" {
		res = "/"
	}
	switch {
	case hasAny(n, "avatar", "image", "photo", "picture", "logo", "icon"):
		return fmt.Sprintf("%s/static/avatars/%s.png", g.base, hexString(seed, 16))
	case hasAny(n, "download", "archive", "artifact", "file", "attachment", "export"):
		return fmt.Sprintf("%s/downloads/%s", g.base, hexString(seed, 24))
	case hasAny(n, "webhook", "callback", "redirect", "return"):
		return fmt.Sprintf("https://%s/hooks/%s", g.companyDomain(mix(seed, "hook")), strings.ToLower(alnum(seed, 10)))
	case hasAny(n, "website", "homepage", "blog"):
		return "https://www." + g.companyDomain(seed)
	case hasAny(n, "doc"):
		return g.base + "/docs"
	}
	return strings.TrimRight(g.base+strings.TrimRight(res, "/"), "/") + "/" + strconv.Itoa(1000+g.intn(seed, 90000))
}

// rehost moves a URL copied from an example onto the decoy's own host.
func (g *synth) rehost(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	rest := u[i+3:]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 {
		return g.base
	}
	return g.base + rest[j:]
}

func (g *synth) secretLike(seed uint64, name string) string {
	return alnum(seed, 24)
}

var firstWords = []string{"billing", "ledger", "gateway", "identity", "catalog", "inventory", "checkout", "notify", "reporting", "search", "ingest", "audit", "payments", "orders", "shipping", "pricing", "accounts", "metrics", "scheduler", "storage"}
var secondWords = []string{"service", "api", "worker", "core", "sync", "proxy", "db", "cache", "jobs", "portal", "pipeline", "exporter", "backend", "admin"}

// entityName names a non-person thing: "billing-worker", "ledger-api".
func (g *synth) entityName(seed uint64) string {
	return firstWords[g.intn(seed, len(firstWords))] + "-" + secondWords[g.intn(mix(seed, "2"), len(secondWords))]
}

// byName picks a realistic value from the property's name.
func (g *synth) byName(seed uint64, name string, s *openapi3.Schema) (any, bool) {
	n := normName(name)
	if n == "" {
		return nil, false
	}
	g.reseed(seed)
	person := g.isPerson()
	ctx := strings.ToLower(g.ctx)
	switch {
	case n == "department" || n == "dept" || (n == "name" && strings.Contains(ctx, "department")):
		return deptNames[g.intn(seed, len(deptNames))], true
	case (n == "name" || n == "displayname") && strings.Contains(ctx, "role"):
		return roleNames[g.intn(seed, len(roleNames))], true
	case (n == "name" || n == "displayname") && hasAny(ctx, "group", "team"):
		return teamNames[g.intn(seed, len(teamNames))], true
	case (n == "name" || n == "displayname") && hasAny(ctx, "org", "company", "tenant", "merchant", "vendor"):
		return g.f.Company(), true
	case hasSuffixAny(n, "createdby", "updatedby", "modifiedby", "deletedby", "approvedby", "requestedby", "performedby", "revokedby"):
		if g.intn(mix(seed, "sys"), 4) == 0 {
			return actorNames[g.intn(seed, len(actorNames))], true
		}
		return strings.ToLower(g.f.FirstName()[:1] + g.f.LastName()), true
	case hasSuffixAny(n, "email", "emailaddress", "mail"):
		return g.email(seed, name), true
	case n == "firstname" || n == "givenname" || n == "forename":
		return g.f.FirstName(), true
	case n == "lastname" || n == "surname" || n == "familyname":
		return g.f.LastName(), true
	case n == "middlename":
		return g.f.MiddleName(), true
	case hasAny(n, "username", "login", "handle", "nickname", "screenname"):
		return strings.ToLower(g.f.Username()), true
	case n == "fullname" || n == "displayname" || n == "contactname" || n == "cardholdername" || n == "accountholdername" || (n == "name" && person) || hasSuffixAny(n, "authorname", "ownername", "customername", "username"):
		return g.f.FirstName() + " " + g.f.LastName(), true
	case hasAny(n, "phone", "mobile", "telephone", "fax") || n == "tel":
		return fmt.Sprintf("+1%03d%03d%04d", 201+g.intn(seed, 700), 200+g.intn(mix(seed, "x"), 700), g.intn(mix(seed, "y"), 10000)), true
	case n == "company" || n == "companyname" || n == "organization" || n == "organisation" || n == "orgname" || n == "employer" || n == "businessname" || n == "legalname":
		return g.f.Company(), true
	case n == "jobtitle" || (n == "title" && person) || n == "position" || n == "role" && s != nil && len(s.Enum) == 0 && person:
		return g.f.JobTitle(), true
	case hasSuffixAny(n, "city", "town", "locality"):
		return g.f.City(), true
	case (n == "state" || n == "region") && hasAny(ctx, "address", "location", "shipping", "billing", "geo") || n == "state" && person || n == "province" || n == "county":
		return g.f.State(), true
	case hasAny(n, "countrycode") || (n == "country" && s != nil && (s.MaxLength != nil && *s.MaxLength <= 3 || s.Pattern != "" || s.MinLength == 2)):
		return g.f.CountryAbr(), true
	case n == "country":
		return g.f.Country(), true
	case hasAny(n, "zip", "postal", "postcode"):
		return g.f.Zip(), true
	case n == "street" || hasAny(n, "line1", "address1", "streetaddress"):
		return g.f.Street(), true
	case hasAny(n, "line2", "address2"):
		return fmt.Sprintf("Suite %d", 100+g.intn(seed, 900)), true
	case n == "address" && (s == nil || s.Properties == nil):
		return fmt.Sprintf("%s, %s, %s %s", g.f.Street(), g.f.City(), g.f.StateAbr(), g.f.Zip()), true
	case n == "currency" || hasSuffixAny(n, "currency", "currencycode"):
		return []string{"usd", "usd", "eur", "gbp", "cad"}[g.intn(seed, 5)], true
	case hasAny(n, "locale", "language", "lang"):
		return []string{"en-US", "en-GB", "de-DE", "fr-FR", "es-ES"}[g.intn(seed, 5)], true
	case hasAny(n, "timezone") || n == "tz":
		return []string{"America/New_York", "Europe/London", "America/Los_Angeles", "Europe/Berlin", "Asia/Singapore"}[g.intn(seed, 5)], true
	case hasAny(n, "useragent"):
		return []string{
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
			"okhttp/4.12.0",
		}[g.intn(seed, 3)], true
	case hasSuffixAny(n, "ip", "ipaddress", "remoteaddr", "clientip", "sourceip"):
		return g.ipv4(seed, name), true
	case hasAny(n, "hostname") || n == "host" || hasSuffixAny(n, "fqdn"):
		return g.hostname(seed), true
	case n == "domain" || hasSuffixAny(n, "domain"):
		return g.companyDomain(seed), true
	case hasSuffixAny(n, "url", "uri", "href", "link", "endpoint") || n == "self" || n == "website" || n == "homepage":
		return g.selfURL(seed, name), true
	case hasAny(n, "uuid", "guid"):
		return uuidFrom(seed), true
	case hasAny(n, "sha", "commit", "revision", "checksum", "fingerprint") || n == "digest":
		if strings.Contains(n, "256") || n == "digest" {
			return "sha256:" + hexString(seed, 64), true
		}
		return hexString(seed, 40), true
	case n == "version" || hasSuffixAny(n, "version") && !hasAny(n, "api"):
		return fmt.Sprintf("%d.%d.%d", 1+g.intn(seed, 4), g.intn(mix(seed, "b"), 20), g.intn(mix(seed, "c"), 30)), true
	case n == "color" || n == "colour":
		return fmt.Sprintf("#%06x", splitmix(seed)&0xffffff), true
	case n == "slug":
		return g.entityName(seed), true
	case n == "branch" || n == "ref" || hasSuffixAny(n, "branch", "headref", "baseref", "gitref", "targetref"):
		return []string{"main", "main", "develop", "release/2.4", "feature/billing-retries"}[g.intn(seed, 5)], true
	case n == "description" || n == "summary" || n == "bio" || n == "about" || n == "notes" || n == "note" || n == "comment" || n == "body" || n == "message" || n == "reason":
		return g.sentence(seed, n), true
	case n == "name" || n == "title" || n == "label" || n == "displayname":
		return g.entityName(seed), true
	case n == "status" || n == "state":
		return []string{"active", "active", "active", "pending", "inactive"}[g.intn(seed, 5)], true
	case n == "type" || n == "kind" || n == "category":
		return []string{"standard", "internal", "service", "default"}[g.intn(seed, 4)], true
	case n == "region" || n == "zone":
		return []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1"}[g.intn(seed, 4)], true
	case hasAny(n, "password", "passwd", "secret", "token", "apikey", "privatekey", "credential"):
		return g.secretLike(seed, name), true
	}
	return nil, false
}

var sentenceParts = [][]string{
	{"Rotated", "Migrated", "Provisioned", "Updated", "Imported", "Reviewed", "Scheduled", "Archived", "Synced", "Approved"},
	{"credentials", "billing settings", "access policy", "webhook endpoint", "service account", "retention rules", "quota limits", "SSO configuration", "deploy keys", "alert routing"},
	{"for the", "after the", "ahead of the", "as part of the", "per the"},
	{"Q3 audit", "EU data migration", "platform upgrade", "incident review", "vendor onboarding", "SOC 2 renewal", "cost review", "cluster rebuild", "on-call handover", "pricing change"},
}

// sentence is short operational prose, the kind found in real records.
func (g *synth) sentence(seed uint64, kind string) string {
	var b strings.Builder
	for i, part := range sentenceParts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(part[g.intn(mixi(seed, i), len(part))])
	}
	b.WriteByte('.')
	return b.String()
}

// errString fills the fields of an error body: status text, message,
// machine code, the request path, the time of the error.
func (g *synth) errString(s *openapi3.Schema, name string) (string, bool) {
	e := g.errCtx
	n := normName(name)
	switch {
	case s.Format == "date-time" || n == "timestamp" || n == "time":
		if s.Format == "date-time" || s.Format == "" {
			return time.Now().UTC().Format(time.RFC3339), true
		}
	case n == "error" || n == "title" || n == "statustext":
		return http.StatusText(e.status), true
	case hasAny(n, "message", "detail", "description", "reason", "msg"):
		return e.message, true
	case n == "code" || n == "errorcode" || n == "type" || n == "errortype" || n == "status":
		return strings.ToLower(strings.ReplaceAll(http.StatusText(e.status), " ", "_")), true
	case n == "path" || n == "instance":
		return e.path, true
	case hasAny(n, "documentation", "docurl", "moreinfo", "helpurl"):
		return g.base + "/docs", true
	case hasAny(n, "requestid", "traceid", "correlationid"):
		return requestID(), true
	}
	return "", false
}

func (g *synth) integer(s *openapi3.Schema, seed uint64, name string) any {
	if g.errCtx != nil {
		if n := normName(name); n == "status" || n == "code" || n == "statuscode" || n == "httpstatus" || n == "httpcode" || n == "errorcode" {
			v := float64(g.errCtx.status)
			if (s.Min == nil || v >= *s.Min) && (s.Max == nil || v <= *s.Max) {
				return int64(g.errCtx.status)
			}
		}
	}
	lo, hi := g.intBounds(s, name)
	v := lo
	if hi > lo {
		v = lo + int64(splitmix(seed)%uint64(hi-lo+1))
	}
	if s.MultipleOf != nil && *s.MultipleOf >= 1 {
		m := int64(*s.MultipleOf)
		v = (v / m) * m
		if v < lo {
			v += m
		}
	}
	return v
}

func (g *synth) intBounds(s *openapi3.Schema, name string) (int64, int64) {
	n := normName(name)
	lo, hi := int64(1), int64(1000)
	switch {
	case n == "id" || hasSuffixAny(n, "id"):
		lo, hi = 1000, 9_999_999
	case hasAny(n, "count", "total", "size", "quantity", "qty", "num"):
		lo, hi = 0, 250
	case hasAny(n, "amount", "price", "balance", "cost", "fee", "total"):
		lo, hi = 500, 250000
	case hasAny(n, "port"):
		lo, hi = 1024, 65535
	case n == "age":
		lo, hi = 18, 80
	case n == "year":
		lo, hi = int64(g.epoch.Year()-10), int64(g.epoch.Year())
	case hasAny(n, "created", "updated", "timestamp", "time", "date", "expires", "at") && hasSuffixAny(n, "at", "created", "updated", "timestamp", "time", "date", "expires"):
		t := g.timeFor(mix(0, name), name)
		lo, hi = t.Unix()-86400*30, t.Unix()
	case hasAny(n, "percent", "pct", "ratio"):
		lo, hi = 0, 100
	case hasAny(n, "priority", "level", "rank"):
		lo, hi = 1, 5
	}
	if s.Min != nil {
		m := int64(math.Ceil(*s.Min))
		if s.ExclusiveMin.IsTrue() && float64(m) == *s.Min {
			m++
		}
		if m > lo || m > hi {
			lo = m
		}
		if hi < lo {
			hi = lo + 1000
		}
	}
	if s.ExclusiveMin.Value != nil {
		m := int64(math.Floor(*s.ExclusiveMin.Value)) + 1
		if m > lo {
			lo = m
		}
	}
	if s.Max != nil {
		m := int64(math.Floor(*s.Max))
		if s.ExclusiveMax.IsTrue() && float64(m) == *s.Max {
			m--
		}
		if m < hi {
			hi = m
		}
	}
	if s.ExclusiveMax.Value != nil {
		m := int64(math.Ceil(*s.ExclusiveMax.Value)) - 1
		if m < hi {
			hi = m
		}
	}
	if hi < lo {
		if s.Max != nil {
			lo = hi - 1000
			if s.Min != nil && float64(lo) < *s.Min {
				lo = int64(math.Ceil(*s.Min))
			}
		} else {
			hi = lo + 1000
		}
	}
	if s.Format == "int32" {
		if hi > math.MaxInt32 {
			hi = math.MaxInt32
		}
		if lo < math.MinInt32 {
			lo = math.MinInt32
		}
	}
	return lo, hi
}

func (g *synth) number(s *openapi3.Schema, seed uint64, name string) any {
	n := normName(name)
	lo, hi := 0.0, 1000.0
	decimals := 2
	switch {
	case hasAny(n, "lat"):
		lo, hi, decimals = -60, 70, 6
	case hasAny(n, "lng", "lon"):
		lo, hi, decimals = -170, 170, 6
	case hasAny(n, "amount", "price", "balance", "cost", "fee", "total"):
		lo, hi = 5, 2500
	case hasAny(n, "percent", "pct"):
		lo, hi = 0, 100
	case hasAny(n, "ratio", "rate", "score", "probability", "confidence"):
		lo, hi, decimals = 0, 1, 3
	}
	if s.Min != nil && *s.Min > lo {
		lo = *s.Min
	}
	if s.ExclusiveMin.Value != nil && *s.ExclusiveMin.Value >= lo {
		lo = *s.ExclusiveMin.Value
	}
	if s.Max != nil && *s.Max < hi {
		hi = *s.Max
	}
	if s.ExclusiveMax.Value != nil && *s.ExclusiveMax.Value <= hi {
		hi = *s.ExclusiveMax.Value
	}
	if hi < lo {
		hi = lo + 1000
	}
	frac := float64(splitmix(seed)%1_000_000) / 1_000_000
	v := lo + frac*(hi-lo)
	p := math.Pow(10, float64(decimals))
	v = math.Round(v*p) / p
	excl := s.ExclusiveMin.IsTrue() || s.ExclusiveMin.Value != nil
	if v <= lo && excl {
		v = lo + (hi-lo)/2
	}
	if v > hi || (v >= hi && (s.ExclusiveMax.IsTrue() || s.ExclusiveMax.Value != nil)) {
		v = lo + (hi-lo)/2
	}
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		m := *s.MultipleOf
		v = math.Ceil(lo/m) * m
		if v > hi {
			v = lo
		}
	}
	return v
}
