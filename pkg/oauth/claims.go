package oauth

import (
	"encoding/json"
	"fmt"
)

// NormalizeClaims is claims as a Store keeps and returns them: passed through
// encoding/json, so that what is stored is exactly the JSON the claims will be in
// tokens (a struct's JSON names, a json.Number's value, a time's RFC 3339 form) and
// reads return what encoding/json decodes (numbers as float64, objects as
// map[string]any), in every store alike. Empty claims become nil.
func NormalizeClaims(claims map[string]any) (map[string]any, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("claims are not JSON: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("claims are not JSON: %w", err)
	}
	return out, nil
}
