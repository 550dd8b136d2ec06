package decoys

import (
	"regexp"
	"testing"
)

func TestPatternStringMatchesAndReads(t *testing.T) {
	tests := []struct {
		pattern string
		wordy   bool
	}{
		{`^ROLE_[A-Z_]+$`, true},
		{`^ROLE_[A-Z][A-Z_]{1,48}$`, true},
		{`^[a-z]+:[a-z_]+$`, true},
		{`^[a-z]+:[a-z]+$`, true},
		{`^cus_[A-Za-z0-9]{14}$`, false},
		{`^[A-Z]{3}-[0-9]{4}$`, false},
		{`^(read|write|admin)$`, false},
		{`^v[0-9]+(\.[0-9]+){2}$`, false},
		{`^[a-f0-9]{40}$`, false},
		{`^\d{3}-\d{2}-\d{4}$`, false},
		{`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, false},
	}
	for _, tt := range tests {
		re := regexp.MustCompile(tt.pattern)
		for seed := uint64(0); seed < 50; seed++ {
			v, ok := patternString(tt.pattern, seed)
			if !ok || !re.MatchString(v) {
				t.Fatalf("%s seed %d: %q (ok=%v) does not match", tt.pattern, seed, v, ok)
			}
		}
		if tt.wordy {
			v, _ := patternString(tt.pattern, 1)
			found := false
			for _, w := range patternWords {
				if regexp.MustCompile(`(?i)` + w).MatchString(v) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %q contains no word", tt.pattern, v)
			}
		}
	}
}
