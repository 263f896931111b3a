package oauth

import (
	"net/url"
	"slices"
	"testing"
	"unicode/utf8"
)

// checkParamsRuneByRune is checkParams as it was before its ASCII path: every value
// through the UTF-8, control, format character and length checks in turn.
func checkParamsRuneByRune(params url.Values) *Error {
	for name, values := range params {
		if len(values) > 1 && name != "resource" {
			return InvalidRequest("parameter %s is included more than once", truncate(name))
		}
		if !utf8.ValidString(name) || hasControl(name, false) {
			return InvalidRequest("a parameter name is not valid UTF-8 text")
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return InvalidRequest("parameter %s is not valid UTF-8", truncate(name))
			}
			if hasControl(v, slices.Contains(largeParams, name)) {
				return InvalidRequest("parameter %s contains control characters", truncate(name))
			}
			if HasFormatChar(v) {
				return InvalidRequest("parameter %s contains invisible or bidirectional format characters", truncate(name))
			}
			if len(v) > maxValueLen && !slices.Contains(largeParams, name) {
				return InvalidRequest("parameter %s is longer than %d bytes", truncate(name), maxValueLen)
			}
		}
	}
	return nil
}

// FuzzCheckParams_RFC6749_3_1_SameAsRuneByRune: the ASCII path of checkParams
// (RFC 6749 §3.1 and Appendix B hygiene) accepts and refuses exactly what the rune by
// rune checks do, with the same description, for any value of a plain and of a
// JSON-valued parameter.
func FuzzCheckParams_RFC6749_3_1_SameAsRuneByRune(f *testing.F) {
	for _, v := range []string{"openid profile", "a\tb", "{\n \"a\": 1\r}", "\x7f", "\x1f", "é", "\u202e", "\xff", "\u00ad", "\u0085", ""} {
		f.Add(v, 1)
	}
	f.Add("x", maxValueLen+1)
	f.Fuzz(func(t *testing.T, v string, repeat int) {
		if repeat > 1 && repeat <= maxValueLen+1 && len(v) > 0 && len(v)*repeat <= 2*maxValueLen {
			b := make([]byte, 0, len(v)*repeat)
			for range repeat {
				b = append(b, v...)
			}
			v = string(b)
		}
		for _, name := range []string{"scope", "claims"} {
			params := url.Values{name: {v}}
			got, want := checkParams(params), checkParamsRuneByRune(params)
			if (got == nil) != (want == nil) || (got != nil && got.Description != want.Description) {
				t.Fatalf("%s=%q: got %v, want %v", name, v, got, want)
			}
		}
	})
}
