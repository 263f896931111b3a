package admin

import (
	"flag"
	"io"
	"slices"
	"testing"
)

// A key id is a base64url RFC 7638 thumbprint, which starts with "-" one time in
// 64: `keys revoke -Xy…` must take it as the KID, not fail on an unknown flag. A real
// flag, a flag's value and everything after "--" keep their meaning.
func TestParseInterleaved_AKeyIDStartingWithADashIsPositional(t *testing.T) {
	const kid = "-Ab0_cdEFghIJklMNopQRstUVwxYZ0123456789abcd" // 43 characters
	if len(kid) != 43 {
		t.Fatalf("test kid has %d characters", len(kid))
	}
	for _, tc := range []struct {
		args      []string
		pos       []string
		secret    string
		wantError bool
	}{
		{args: []string{kid, "--keys-secret", "s"}, pos: []string{kid}, secret: "s"},
		{args: []string{"--keys-secret", "s", kid}, pos: []string{kid}, secret: "s"},
		{args: []string{"--keys-secret=s", kid, "--json"}, pos: []string{kid}, secret: "s"},
		{args: []string{"--json", kid}, pos: []string{kid}},
		{args: []string{"--", kid}, pos: []string{kid}},
		// The value of a flag that takes one, whatever it looks like.
		{args: []string{"--keys-secret", kid, "other"}, pos: []string{"other"}, secret: kid},
		// Not a key id: 42 characters, or not base64url, is an unknown flag as before.
		{args: []string{kid[:42]}, wantError: true},
		{args: []string{"-Ab0_cdEFghIJklMNopQRstUVwxYZ0123456789ab!d"}, wantError: true},
		{args: []string{"--no-such-flag"}, wantError: true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		secret := fs.String("keys-secret", "", "")
		fs.Bool("json", false, "")
		pos, err := parseInterleaved(fs, tc.args)
		if tc.wantError {
			if err == nil {
				t.Errorf("%q: no error, positional %q", tc.args, pos)
			}
			continue
		}
		if err != nil || !slices.Equal(pos, tc.pos) || *secret != tc.secret {
			t.Errorf("%q: positional %q, --keys-secret %q, %v; want %q, %q", tc.args, pos, *secret, err, tc.pos, tc.secret)
		}
	}
}
