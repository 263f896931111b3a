package httpapi

import (
	"bytes"
	"net/url"
)

// maxFastFormParams is the most parameters parseFormInto stores itself; a longer
// body, far beyond any request pargate reads, goes to url.ParseQuery as it is.
const maxFastFormParams = 64

// parseFormInto is url.ParseQuery(string(body)) — the same loop, url.QueryUnescape's
// decoding, the same map — with every key and value unescaped into scratch and then
// copied into one string, the values of all parameters in one backing array instead
// of one slice each, and the map sized once: the map's allocations, the array and the
// string, whatever the number of parameters. Each value slice is capped at its length, so that appending to
// one never writes into another. Nothing returned points into body or scratch, which
// the caller may reuse (it gets scratch back, grown). Anything unusual (a semicolon, an
// error, more than maxFastFormParams parameters) is handed to url.ParseQuery itself, so
// the result and the error are exactly its own; FuzzParseForm compares the two.
func parseFormInto(body, scratch []byte) (url.Values, []byte, error) {
	if bytes.Count(body, []byte("&"))+1 > maxFastFormParams || bytes.IndexByte(body, ';') >= 0 {
		m, err := url.ParseQuery(string(body))
		return m, scratch, err
	}
	// ends[2i] and ends[2i+1] are where pair i's key and value end in scratch.
	var ends [2 * maxFastFormParams]int
	pairs := 0
	for query := body; len(query) > 0; {
		var kv []byte
		kv, query, _ = bytes.Cut(query, []byte("&"))
		if len(kv) == 0 {
			continue
		}
		key, value, _ := bytes.Cut(kv, []byte("="))
		var ok bool
		if scratch, ok = appendQueryUnescaped(scratch, key); !ok {
			m, err := url.ParseQuery(string(body))
			return m, scratch, err
		}
		ends[2*pairs] = len(scratch)
		if scratch, ok = appendQueryUnescaped(scratch, value); !ok {
			m, err := url.ParseQuery(string(body))
			return m, scratch, err
		}
		ends[2*pairs+1] = len(scratch)
		pairs++
	}
	all := string(scratch)
	m := make(url.Values, pairs)
	backing := make([]string, pairs)
	used, start := 0, 0
	for i := range pairs {
		key, value := all[start:ends[2*i]], all[ends[2*i]:ends[2*i+1]]
		start = ends[2*i+1]
		if prev, ok := m[key]; ok {
			m[key] = append(prev, value) // a duplicate: a new array (the cap is the length)
			continue
		}
		backing[used] = value
		m[key] = backing[used : used+1 : used+1]
		used++
	}
	return m, scratch, nil
}

// appendQueryUnescaped appends url.QueryUnescape(s) to b, false where
// url.QueryUnescape fails (a '%' not followed by two hexadecimal digits).
func appendQueryUnescaped(b, s []byte) ([]byte, bool) {
	if bytes.IndexByte(s, '%') < 0 && bytes.IndexByte(s, '+') < 0 {
		return append(b, s...), true
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return b, false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return b, true
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
