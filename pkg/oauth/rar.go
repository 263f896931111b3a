package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// DetailsType defines one authorization_details type the server accepts (RFC 9396
// §2): its own fields, each with a JSON type ("string", "number", "boolean",
// "object", "array"), and which of them are required. The common data fields of
// §2.2 are always allowed.
type DetailsType struct {
	Fields   map[string]string `json:"fields"`
	Required []string          `json:"required,omitempty"`
}

// commonDetailFields are RFC 9396 §2.2's common data fields and their JSON types.
var commonDetailFields = map[string]string{
	"type": "string", "locations": "array", "actions": "array", "datatypes": "array",
	"identifier": "string", "privileges": "array",
}

func invalidDetails(format string, args ...any) *Error {
	return newError(CodeInvalidAuthorizationDetails, format, args...)
}

// parseAuthorizationDetails validates the authorization_details parameter (RFC 9396
// §2, §5) for client and returns it compacted. RFC 9396 §5: "The AS MUST refuse to
// process any unknown authorization details type or authorization details not
// conforming to the respective type definition."
func (s *Service) parseAuthorizationDetails(client *Client, raw string) (json.RawMessage, *Error) {
	if len(raw) > maxDetailsLen {
		return nil, invalidDetails("authorization_details is longer than %d bytes", maxDetailsLen)
	}
	// RFC 8259 §4: names within an object SHOULD be unique; a repeated one is refused,
	// and what is checked below, stored, shown and signed is one canonical text.
	canonical, err := canonicalJSON([]byte(raw))
	if errors.Is(err, errDuplicateMember) {
		return nil, invalidDetails("authorization_details repeats a member name in an object")
	}
	if err != nil {
		return nil, invalidDetails("authorization_details must be a JSON array of objects")
	}
	// The canonical text holds every string decoded, so an escaped U+202E shows here.
	if HasFormatChar(string(canonical)) {
		return nil, invalidDetails("authorization_details contains invisible or bidirectional format characters")
	}
	var details []map[string]json.RawMessage
	if err := json.Unmarshal(canonical, &details); err != nil {
		return nil, invalidDetails("authorization_details must be a JSON array of objects")
	}
	if len(details) == 0 {
		return nil, invalidDetails("authorization_details must not be empty")
	}
	if len(details) > 32 {
		return nil, invalidDetails("authorization_details has more than 32 entries")
	}
	for i, d := range details {
		var typ string
		if err := json.Unmarshal(d["type"], &typ); err != nil || typ == "" {
			return nil, invalidDetails("authorization_details[%d]: type is required and must be a string", i)
		}
		def, ok := s.cfg.AuthorizationDetailsTypes[typ]
		if !ok {
			return nil, invalidDetails("authorization_details[%d]: unknown type %q", i, typ)
		}
		// RFC 9396 §10.2 authorization_details_types client metadata.
		if len(client.AuthorizationDetailsTypes) > 0 && !slices.Contains(client.AuthorizationDetailsTypes, typ) {
			return nil, invalidDetails("authorization_details[%d]: client %s may not request type %q", i, client.ID, typ)
		}
		for _, name := range sortedKeys(d) {
			want, ok := commonDetailFields[name]
			if !ok {
				want, ok = def.Fields[name]
			}
			if !ok {
				return nil, invalidDetails("authorization_details[%d]: field %q is not defined for type %q", i, name, typ)
			}
			if got := jsonType(d[name]); got != want {
				return nil, invalidDetails("authorization_details[%d]: field %q must be a JSON %s", i, name, want)
			}
		}
		for _, name := range def.Required {
			if _, ok := d[name]; !ok {
				return nil, invalidDetails("authorization_details[%d]: field %q is required for type %q", i, name, typ)
			}
		}
	}
	return canonical, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonType names the JSON type of a raw value.
func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// ParseDetailsTypes reads the AUTHORIZATION_DETAILS_TYPES configuration: a JSON
// object from type name to DetailsType.
func ParseDetailsTypes(raw string) (map[string]DetailsType, error) {
	if raw == "" {
		return nil, nil
	}
	var types map[string]DetailsType
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&types); err != nil {
		return nil, fmt.Errorf("authorization details types: %w", err)
	}
	for name, t := range types {
		for field, typ := range t.Fields {
			if !slices.Contains([]string{"string", "number", "boolean", "object", "array"}, typ) {
				return nil, fmt.Errorf("authorization details type %s: field %s has unknown JSON type %q", name, field, typ)
			}
			if _, common := commonDetailFields[field]; common {
				return nil, fmt.Errorf("authorization details type %s: field %s is a common field (RFC 9396 §2.2)", name, field)
			}
		}
		for _, r := range t.Required {
			if _, ok := t.Fields[r]; !ok {
				if _, common := commonDetailFields[r]; !common {
					return nil, fmt.Errorf("authorization details type %s: required field %s is not defined", name, r)
				}
			}
		}
	}
	return types, nil
}
