package oauth

import "unicode"

// HasFormatChar reports whether s holds a Unicode format character (general category
// Cf: bidirectional controls such as U+202E RIGHT-TO-LEFT OVERRIDE and U+2066-2069,
// zero-width characters such as U+200B-200D, U+FEFF). Shown on a consent page they
// reorder or hide what the user reads (bidirectional spoofing, Unicode Technical
// Report #36), so no value a page may show may carry one: client metadata at
// registration (pkg/seed) and authorization request parameters at /par and /authorize
// (checkParams, and the decoded strings of authorization_details).
func HasFormatChar(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}
