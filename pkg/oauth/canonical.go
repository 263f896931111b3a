package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxDetailsLen caps authorization_details like every other value (docs/design.md
// "Input, oracles and fetches"): far above any real request, far below the body limit.
const maxDetailsLen = 16 << 10

// errDuplicateMember marks an object with a repeated member name.
var errDuplicateMember = errors.New("duplicate member name")

// canonicalJSON returns the one serialisation of raw that is stored, shown and signed.
// RFC 8259 §4: "The names within an object SHOULD be unique", and "When the names
// within an object are not unique, the behavior of software that receives such an
// object is unpredictable" — one parser keeps the first value, another the last — so
// a repeated name at any depth is refused (errDuplicateMember). Otherwise the value is
// written compactly in its own member order, with every string re-encoded from what
// was decoded (escapes normalised, invalid UTF-8 and lone surrogates as U+FFFD, the
// text this server checked and shows) and numbers as written.
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonicalValue(dec, &out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return out.Bytes(), nil
}

func canonicalValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			seen := map[string]bool{}
			out.WriteByte('{')
			for first := true; dec.More(); first = false {
				nameTok, err := dec.Token()
				if err != nil {
					return err
				}
				name, ok := nameTok.(string)
				if !ok {
					return errors.New("object member name is not a string")
				}
				if seen[name] {
					return fmt.Errorf("%w %q", errDuplicateMember, truncate(name))
				}
				seen[name] = true
				if !first {
					out.WriteByte(',')
				}
				writeJSONString(out, name)
				out.WriteByte(':')
				if err := canonicalValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte('}')
		case '[':
			out.WriteByte('[')
			for first := true; dec.More(); first = false {
				if !first {
					out.WriteByte(',')
				}
				if err := canonicalValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte(']')
		default:
			return errors.New("unexpected delimiter")
		}
	case string:
		writeJSONString(out, t)
	case json.Number:
		out.WriteString(t.String())
	case bool:
		if t {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	}
	return nil
}

// writeJSONString writes s as a JSON string without HTML escaping.
func writeJSONString(out *bytes.Buffer, s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	out.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
