package oauthtest

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestFixturesSetEveryField keeps the round trips of the contract suite complete: when
// a field is added to a domain record, this fails until the fixture sets it, and then
// the contract suite fails for any store that does not keep it.
func TestFixturesSetEveryField(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name    string
		fixture any
		exempt  []string // fields the fixture must leave zero, set by the tests that need them
	}{
		{"PushedRequest", PushedRequest(t, now), []string{"ConsumedAt"}},
		{"Code", Code(t, now), []string{"ConsumedAt"}},
		{"Grant", Grant(t, now), []string{"RevokedAt"}},
		{"RefreshToken", RefreshToken(t, now, Key(t)), []string{"UsedAt"}},
		{"fullClient", fullClient(t), nil},
		{"fullUser", fullUser(t), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, field := range zeroFields(reflect.ValueOf(tc.fixture).Elem(), "") {
				if !slices.Contains(tc.exempt, field) {
					t.Errorf("fixture %s leaves %s unset", tc.name, field)
				}
			}
		})
	}
}

// zeroFields lists the exported fields of the struct v, recursively, that hold their
// zero value.
func zeroFields(v reflect.Value, prefix string) []string {
	var zero []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		name := prefix + f.Name
		fv := v.Field(i)
		switch {
		case fv.IsZero():
			zero = append(zero, name)
		case fv.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]():
			zero = append(zero, zeroFields(fv, name+".")...)
		}
	}
	return zero
}
