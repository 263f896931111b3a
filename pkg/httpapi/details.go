package httpapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// detailItem is one RFC 9396 authorization_details entry in words, for the consent
// page: what kind of access, and each of its fields.
type detailItem struct {
	Title  string
	Fields []detailField
}

type detailField struct{ Label, Value string }

// describeDetails turns an authorization_details array into readable items. The
// array was validated at push time; anything unexpected is shown as JSON text
// rather than hidden, so the user never approves what they cannot see.
func describeDetails(raw json.RawMessage) []detailItem {
	if len(raw) == 0 {
		return nil
	}
	var details []map[string]any
	if err := json.Unmarshal(raw, &details); err != nil {
		return []detailItem{{Title: "Access details", Fields: []detailField{{Label: "Details", Value: string(raw)}}}}
	}
	items := make([]detailItem, 0, len(details))
	for _, d := range details {
		typ, _ := d["type"].(string)
		item := detailItem{Title: words(typ)}
		keys := make([]string, 0, len(d))
		for k := range d {
			if k != "type" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			item.Fields = append(item.Fields, detailField{Label: words(k), Value: text(d[k])})
		}
		items = append(items, item)
	}
	return items
}

// words turns snake_case or camelCase into capitalised words: "instructedAmount" →
// "Instructed amount".
func words(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '_' || r == '-':
			b.WriteRune(' ')
		case unicode.IsUpper(r) && i > 0:
			b.WriteRune(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		return "Access"
	}
	return strings.ToUpper(out[:1]) + out[1:]
}

// text renders a JSON value in words.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case float64:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = text(e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strings.ToLower(words(k)) + ": " + text(v[k])
		}
		return strings.Join(parts, "; ")
	case nil:
		return "—"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}
