package httpapi

import (
	"net/url"
	"strings"
)

// maxFastFormParams is the most parameters parseForm stores itself; a longer body,
// far beyond any request pargate reads, goes to url.ParseQuery as it is.
const maxFastFormParams = 64

// parseForm is url.ParseQuery(body) — the same loop, url.QueryUnescape's decoding, the
// same map — with the values of all parameters in one backing array instead of one
// slice each, every unescaped key and value in one buffer instead of one string each,
// and the map sized once. Each value slice is capped at its
// length, so that appending to one never writes into another. Anything unusual (a
// semicolon, an error, more than maxFastFormParams parameters) is handed to
// url.ParseQuery itself, so the result and the error are exactly its own; FuzzParseForm
// compares the two.
func parseForm(body string) (url.Values, error) {
	n := strings.Count(body, "&") + 1
	if n > maxFastFormParams || strings.Contains(body, ";") {
		return url.ParseQuery(body)
	}
	m := make(url.Values, n)
	backing := make([]string, n)
	used := 0
	// decoded holds every unescaped key and value, one after the other. It is sized
	// once to the body (unescaping never lengthens), so it never moves and a string
	// taken from it stays what it was.
	var decoded strings.Builder
	for query := body; query != ""; {
		var key string
		key, query, _ = strings.Cut(query, "&")
		if key == "" {
			continue
		}
		key, value, _ := strings.Cut(key, "=")
		key, ok := queryUnescape(&decoded, key, len(body))
		if !ok {
			return url.ParseQuery(body)
		}
		if value, ok = queryUnescape(&decoded, value, len(body)); !ok {
			return url.ParseQuery(body)
		}
		if prev, ok := m[key]; ok {
			m[key] = append(prev, value) // a duplicate: a new array (the cap is the length)
			continue
		}
		backing[used] = value
		m[key] = backing[used : used+1 : used+1]
		used++
	}
	return m, nil
}

// queryUnescape is url.QueryUnescape(s) written into b (grown to size on first use):
// s itself when it holds no '%' or '+', false where url.QueryUnescape fails (a '%'
// not followed by two hexadecimal digits).
func queryUnescape(b *strings.Builder, s string, size int) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	if b.Cap() == 0 {
		b.Grow(size)
	}
	start := b.Len()
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case '+':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()[start:], true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
