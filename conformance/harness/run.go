package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

func newBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// Config says where and how one pass over a document runs.
type Config struct {
	// BaseURL is scheme and host of the server requests go to
	// ("http://127.0.0.1:41234"): the decoy itself, or Prism in front of it.
	BaseURL string
	// BasePath is the prefix operations are served under ("/api/v1" or "").
	BasePath string
	// Validator judges every exchange.
	Validator Validator
	// Parallel is how many read-only operations run at once (default 4).
	// Writes always run one after another.
	Parallel int
	// Client sends the requests (default: a client with a 30s timeout).
	Client *http.Client
	// Label names the pass in the report ("github/libopenapi-validator").
	Label string
}

// Failure is one check that did not hold.
type Failure struct {
	Op      string // "GET /repos/{owner}/{repo}"
	Check   string // response, status, consistency, unauthenticated, transport
	Status  int
	URL     string
	Message string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s [%s] status %d (%s): %s", f.Op, f.Check, f.Status, f.URL, f.Message)
}

// Report collects the outcome of one pass over one document.
type Report struct {
	Label    string
	Ops      int
	Checked  int
	Skipped  map[string]int // reason class -> count
	SkipInfo []string       // "op: reason"
	Notes    map[string]int // things worth counting that are not failures
	Failures []Failure
	Statuses map[int]int // status of the authorised request -> count
	Took     time.Duration

	mu sync.Mutex
}

func (r *Report) skip(op *Operation, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Skipped[skipClass(reason)]++
	r.SkipInfo = append(r.SkipInfo, op.Key()+": "+reason)
}

func (r *Report) fail(f Failure) {
	if len(f.Message) > 2000 {
		f.Message = f.Message[:2000] + " [...]"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Failures = append(r.Failures, f)
}

func (r *Report) note(n string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes[n]++
}

// ValidatorLimitation is the skip class of operations whose response the
// validator could not judge (not a shortcoming of the harness's requests).
const ValidatorLimitation = "validator limitation"

// skipClass reduces a skip reason to a countable class.
func skipClass(reason string) string {
	switch {
	case strings.HasPrefix(reason, "validator limitation"):
		return ValidatorLimitation
	case strings.HasPrefix(reason, "request rejected by"):
		return "harness request invalid"
	case strings.Contains(reason, "pattern"):
		return "unsatisfiable pattern"
	case strings.Contains(reason, "security requirement"):
		return "unsupported security scheme"
	case strings.Contains(reason, "media type") || strings.Contains(reason, "not synthesised"):
		return "unsupported media type / shape"
	case strings.Contains(reason, "not declared"):
		return "undeclared path parameter"
	}
	if i := strings.Index(reason, ":"); i > 0 && i < 40 {
		return reason[:i]
	}
	return reason
}

// Summary is one line: operations checked, skipped (by reason), failures.
func (r *Report) Summary() string {
	var skips []string
	total := 0
	for k, v := range r.Skipped {
		skips = append(skips, fmt.Sprintf("%d %s", v, k))
		total += v
	}
	sort.Strings(skips)
	var notes []string
	for k, v := range r.Notes {
		notes = append(notes, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(notes)
	s := fmt.Sprintf("%s: %d operations, %d checked, %d skipped", r.Label, r.Ops, r.Checked, total)
	if len(skips) > 0 {
		s += " (" + strings.Join(skips, ", ") + ")"
	}
	s += fmt.Sprintf(", %d failures", len(r.Failures))
	if len(notes) > 0 {
		s += "; notes: " + strings.Join(notes, ", ")
	}
	s += fmt.Sprintf("; %s", r.Took.Round(time.Millisecond))
	return s
}

// FailuresByCheck counts failures per check kind.
func (r *Report) FailuresByCheck() map[string]int {
	m := map[string]int{}
	for _, f := range r.Failures {
		m[f.Check]++
	}
	return m
}

// Run checks every operation in ops against the server at cfg.BaseURL.
// Read-only operations (GET, HEAD) run in parallel; writes run afterwards,
// one at a time, POST before PUT/PATCH and DELETE last (deepest path first),
// so that no write removes what another request is reading.
func Run(ctx context.Context, s *Spec, ops []*Operation, cfg Config) *Report {
	start := time.Now()
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Transport: &http.Transport{
				MaxIdleConns:        cfg.Parallel * 2,
				MaxIdleConnsPerHost: cfg.Parallel * 2,
				IdleConnTimeout:     30 * time.Second,
			},
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	rep := &Report{
		Label:    cfg.Label,
		Ops:      len(ops),
		Skipped:  map[string]int{},
		Notes:    map[string]int{},
		Statuses: map[int]int{},
	}
	var reads, writes []*Operation
	for _, op := range ops {
		if op.Method == "GET" || op.Method == "HEAD" {
			reads = append(reads, op)
		} else {
			writes = append(writes, op)
		}
	}
	sortWrites(writes)

	work := make(chan *Operation)
	var wg sync.WaitGroup
	for i := 0; i < cfg.Parallel; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range work {
				checkOperation(ctx, s, op, cfg, rep)
			}
		}()
	}
	for _, op := range reads {
		if ctx.Err() != nil {
			break
		}
		work <- op
	}
	close(work)
	wg.Wait()
	for _, op := range writes {
		if ctx.Err() != nil {
			break
		}
		checkOperation(ctx, s, op, cfg, rep)
	}
	sort.SliceStable(rep.Failures, func(i, j int) bool { return rep.Failures[i].Op < rep.Failures[j].Op })
	sort.Strings(rep.SkipInfo)
	rep.Took = time.Since(start)
	return rep
}

func sortWrites(ws []*Operation) {
	rank := map[string]int{"POST": 0, "PUT": 1, "PATCH": 2, "DELETE": 3}
	sort.SliceStable(ws, func(i, j int) bool {
		a, b := ws[i], ws[j]
		if rank[a.Method] != rank[b.Method] {
			return rank[a.Method] < rank[b.Method]
		}
		if a.Method == "DELETE" {
			da, db := strings.Count(a.Path, "/"), strings.Count(b.Path, "/")
			if da != db {
				return da > db
			}
		}
		return a.Path < b.Path
	})
}

type exchange struct {
	req    *http.Request
	resp   *http.Response
	body   []byte
	url    string
	status int
}

func send(ctx context.Context, cfg Config, r *Request) (*exchange, error) {
	req, err := r.HTTP(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	req = req.WithContext(ctx)
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	// a fresh request with its body, for the validator
	vreq, _ := r.HTTP(cfg.BaseURL)
	return &exchange{req: vreq, resp: resp, body: body, url: r.URL(), status: resp.StatusCode}, nil
}

func checkOperation(ctx context.Context, s *Spec, op *Operation, cfg Config, rep *Report) {
	r, skip := s.Build(op, cfg.BasePath, true)
	if skip != "" {
		rep.skip(op, skip)
		return
	}
	x, err := send(ctx, cfg, r)
	if err != nil {
		rep.fail(Failure{Op: op.Key(), Check: "transport", URL: r.URL(), Message: err.Error()})
		return
	}
	verdict := cfg.Validator.Check(x.req, x.resp, x.body)
	if len(verdict.Request) > 0 {
		// the harness built a request the validator rejects: the decoy may
		// rightly refuse it, so its answer proves nothing either way
		rep.skip(op, "request rejected by "+cfg.Validator.Name()+": "+strings.Join(verdict.Request, "; "))
		return
	}
	if len(verdict.Unvalidated) > 0 && len(verdict.Response) == 0 {
		rep.skip(op, "validator limitation: "+strings.Join(verdict.Unvalidated, "; "))
		return
	}
	respProblems := verdict.Response
	rep.mu.Lock()
	rep.Checked++
	rep.Statuses[x.status]++
	rep.mu.Unlock()

	if x.status < 200 || x.status > 299 {
		if op.Has2xx() {
			rep.fail(Failure{Op: op.Key(), Check: "status", Status: x.status, URL: x.url,
				Message: fmt.Sprintf("a well-formed authorised request got %d, the operation declares %v; body: %s",
					x.status, op.Responses, snippet(x.body))})
		} else {
			rep.note("operation declares no 2xx")
		}
	}
	for _, p := range respProblems {
		rep.fail(Failure{Op: op.Key(), Check: "response", Status: x.status, URL: x.url, Message: p})
	}

	// the same GET twice gives the same bytes
	if op.Method == "GET" {
		y, err := send(ctx, cfg, r)
		switch {
		case err != nil:
			rep.fail(Failure{Op: op.Key(), Check: "transport", URL: r.URL(), Message: "second GET: " + err.Error()})
		case y.status != x.status:
			rep.fail(Failure{Op: op.Key(), Check: "consistency", Status: y.status, URL: y.url,
				Message: fmt.Sprintf("second GET got status %d, first got %d", y.status, x.status)})
		case !bytes.Equal(x.body, y.body):
			rep.fail(Failure{Op: op.Key(), Check: "consistency", Status: y.status, URL: y.url,
				Message: "second GET returned a different body: " + firstDiff(x.body, y.body)})
		}
	}

	// no credential on a secured operation: 401, and that 401 validates
	if op.Secured() {
		u, skip := s.Build(op, cfg.BasePath, false)
		if skip != "" {
			return
		}
		z, err := send(ctx, cfg, u)
		if err != nil {
			rep.fail(Failure{Op: op.Key(), Check: "transport", URL: u.URL(), Message: "unauthenticated: " + err.Error()})
			return
		}
		if z.status != http.StatusUnauthorized {
			rep.fail(Failure{Op: op.Key(), Check: "unauthenticated", Status: z.status, URL: z.url,
				Message: fmt.Sprintf("a request without credentials to a secured operation got %d, want 401; body: %s",
					z.status, snippet(z.body))})
			return
		}
		if !op.Declares(http.StatusUnauthorized) {
			rep.note("401 not declared by the operation (not validated)")
			return
		}
		for _, p := range cfg.Validator.Check(z.req, z.resp, z.body).Response {
			rep.fail(Failure{Op: op.Key(), Check: "unauthenticated-response", Status: z.status, URL: z.url, Message: p})
		}
	}
}

func snippet(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func firstDiff(a, b []byte) string {
	n := len(a)
	if len(b) < n {
		n = len(b)
	}
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	lo := i - 40
	if lo < 0 {
		lo = 0
	}
	hiA, hiB := i+40, i+40
	if hiA > len(a) {
		hiA = len(a)
	}
	if hiB > len(b) {
		hiB = len(b)
	}
	return fmt.Sprintf("lengths %d and %d, first difference at byte %d: %q vs %q", len(a), len(b), i, a[lo:hiA], b[lo:hiB])
}
