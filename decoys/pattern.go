package decoys

import (
	"regexp/syntax"
	"strings"
	"unicode"
)

// patternWords fill letter-only parts of a pattern, so ^ROLE_[A-Z_]+$ gives
// ROLE_SUPPORT_ADMIN and ^[a-z]+:[a-z]+$ gives billing:read, not random
// letters that no real system would store.
var patternWords = []string{
	"admin", "audit", "billing", "read", "write", "support", "deploy", "security", "ops", "finance",
	"manage", "users", "keys", "export", "delete", "create", "update", "service", "platform", "payments",
	"reports", "orders", "invoices", "accounts", "metrics", "alerts", "config", "secrets", "tokens", "webhooks",
	"customers", "internal", "staging", "prod", "backup", "ledger", "identity", "session", "cluster", "network",
}

// patternString generates a string matching pattern, word-aware. It
// reports false for patterns it cannot handle; callers check the result
// against the compiled pattern anyway.
func patternString(pattern string, seed uint64) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	p := &patGen{seed: seed}
	if !p.walk(re, 0) || p.b.Len() > maxStringBytes {
		return "", false
	}
	return p.b.String(), true
}

type patGen struct {
	b    strings.Builder
	seed uint64
}

func (p *patGen) next(n int) int {
	p.seed = splitmix(p.seed)
	if n <= 1 {
		return 0
	}
	return int(p.seed % uint64(n))
}

func (p *patGen) walk(re *syntax.Regexp, depth int) bool {
	if depth > 64 {
		return false
	}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			p.b.WriteRune(r)
		}
		return true
	case syntax.OpCharClass:
		r, ok := p.pick(re.Rune)
		if ok {
			p.b.WriteRune(r)
		}
		return ok
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		p.b.WriteByte("abcdefghijklmnopqrstuvwxyz"[p.next(26)])
		return true
	case syntax.OpCapture:
		return p.walk(re.Sub[0], depth+1)
	case syntax.OpConcat:
		for i := 0; i < len(re.Sub); i++ {
			s := re.Sub[i]
			// [A-Z][A-Z_]{1,48} is one word: its first letter, then the rest.
			if i+1 < len(re.Sub) && s.Op == syntax.OpCharClass && wordyClass(s.Rune) {
				if min, max, cls, ok := repeatOfClass(re.Sub[i+1]); ok && wordyClass(cls) {
					if max >= 0 {
						max++
					}
					if w := p.word(cls, min+1, max); w != "" {
						p.b.WriteString(w)
						i++
						continue
					}
				}
			}
			if !p.walk(s, depth+1) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		return p.walk(re.Sub[p.next(len(re.Sub))], depth+1)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		min, max := re.Min, re.Max
		switch re.Op {
		case syntax.OpStar:
			min, max = 0, -1
		case syntax.OpPlus:
			min, max = 1, -1
		case syntax.OpQuest:
			min, max = 0, 1
		}
		sub := re.Sub[0]
		if sub.Op == syntax.OpCharClass {
			return p.class(sub.Rune, min, max)
		}
		n := min
		if max < 0 {
			n += p.next(3)
			if n == 0 && re.Op == syntax.OpStar {
				n = p.next(2)
			}
		} else if max > min {
			n += p.next(max - min + 1)
		}
		if n > 32 {
			n = 32
		}
		for i := 0; i < n; i++ {
			if !p.walk(sub, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// classInfo describes a character class: which kinds of runes it allows.
func classInfo(ranges []rune) (lower, upper, digit bool, seps []rune) {
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if r >= ranges[i] && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	lower, upper, digit = in('a') && in('z'), in('A') && in('Z'), in('0') && in('9')
	for _, r := range "_-." {
		if in(r) {
			seps = append(seps, r)
		}
	}
	return
}

func (p *patGen) pick(ranges []rune) (rune, bool) {
	lower, upper, digit, _ := classInfo(ranges)
	var pool []rune
	if lower {
		pool = append(pool, []rune("abcdefghijklmnopqrstuvwxyz")...)
	}
	if upper {
		pool = append(pool, []rune("ABCDEFGHIJKLMNOPQRSTUVWXYZ")...)
	}
	if digit {
		pool = append(pool, []rune("0123456789")...)
	}
	if len(pool) == 0 {
		// Some other class: take its first printable rune.
		for i := 0; i+1 < len(ranges); i += 2 {
			for r := ranges[i]; r <= ranges[i+1] && r < ranges[i]+256; r++ {
				if unicode.IsPrint(r) && r != ' ' {
					return r, true
				}
			}
		}
		return 0, false
	}
	return pool[p.next(len(pool))], true
}

// wordyClass reports whether a class allows letters of one case and no digits.
func wordyClass(ranges []rune) bool {
	lower, upper, digit, _ := classInfo(ranges)
	return lower != upper && !digit
}

// repeatOfClass returns the bounds and class of x{min,max}, x*, x+ or x?.
func repeatOfClass(re *syntax.Regexp) (min, max int, cls []rune, ok bool) {
	switch re.Op {
	case syntax.OpStar:
		min, max = 0, -1
	case syntax.OpPlus:
		min, max = 1, -1
	case syntax.OpQuest:
		min, max = 0, 1
	case syntax.OpRepeat:
		min, max = re.Min, re.Max
	default:
		return 0, 0, nil, false
	}
	if re.Sub[0].Op != syntax.OpCharClass {
		return 0, 0, nil, false
	}
	return min, max, re.Sub[0].Rune, true
}

// word is a dictionary word (or two joined by a separator the class
// allows) in the class's case, fitted to [min, max] characters.
func (p *patGen) word(ranges []rune, min, max int) string {
	_, upper, _, seps := classInfo(ranges)
	w := patternWords[p.next(len(patternWords))]
	if len(seps) > 0 && p.next(3) == 0 {
		w += string(seps[0]) + patternWords[p.next(len(patternWords))]
	}
	if upper {
		w = strings.ToUpper(w)
	}
	for len(w) < min {
		w += string(w[p.next(len(w))])
	}
	if max >= 0 && len(w) > max {
		w = w[:max]
	}
	return w
}

// class emits a run of characters from a class: words when it allows
// letters of one case and no digits, else random characters from it.
func (p *patGen) class(ranges []rune, min, max int) bool {
	n := min
	if wordyClass(ranges) {
		p.b.WriteString(p.word(ranges, min, max))
		return true
	}
	if max < 0 {
		n = min + p.next(8)
		if n == 0 {
			n = 1 + p.next(6)
		}
	} else if max > min {
		span := max - min
		if span > 24 {
			span = 24
		}
		n += p.next(span + 1)
	}
	if n > maxStringBytes {
		n = maxStringBytes
	}
	for i := 0; i < n; i++ {
		r, ok := p.pick(ranges)
		if !ok {
			return false
		}
		p.b.WriteRune(r)
	}
	return true
}
