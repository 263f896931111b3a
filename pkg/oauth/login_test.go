package oauth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

func (d *domain) signIn(user, pass, ip, request string) (*oauth.User, error) {
	return d.svc.SignIn(d.ctx, oauth.LoginAttempt{Username: user, Password: pass, ClientIP: ip, RequestKey: request})
}

// TestSignIn: the brute-force protection of the login form, with the policy's
// defaults (a zero oauth.Config.Login).
func TestSignIn(t *testing.T) {
	wrong := password + "!"
	retryAfter := func(err error) time.Duration {
		var locked *oauth.LoginLockedError
		if !errors.As(err, &locked) {
			return 0
		}
		return locked.RetryAfter
	}
	tests := []struct {
		name string
		run  func(t *testing.T, d *domain)
	}{
		{"NIST SP 800-63B §5.2.2: 5 failures lock the username for 1 s, then it signs in", func(t *testing.T, d *domain) {
			for i := range 5 {
				if _, err := d.signIn(username, wrong, "192.0.2.1", "r"+string(rune('a'+i))); !errors.Is(err, oauth.ErrBadCredentials) {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			if _, err := d.signIn(username, password, "192.0.2.2", "rz"); retryAfter(err) != time.Second {
				t.Fatalf("right password, locked: %v, want a 1 s lockout", err)
			}
			d.advance(time.Second)
			if _, err := d.signIn(username, password, "192.0.2.2", "rz"); err != nil {
				t.Fatalf("after the lockout: %v", err)
			}
		}},
		{"NIST SP 800-63B §5.2.2: failures older than the window are forgotten", func(t *testing.T, d *domain) {
			for i := range 4 {
				_, _ = d.signIn(username, wrong, "", "r"+string(rune('a'+i)))
			}
			d.advance(15 * time.Minute)
			if _, err := d.signIn(username, wrong, "", "re"); !errors.Is(err, oauth.ErrBadCredentials) {
				t.Fatalf("a failure after the window: %v, want it counted as the first", err)
			}
			if _, err := d.signIn(username, password, "", "rf"); err != nil {
				t.Fatalf("sign-in: %v", err)
			}
		}},
		{"NIST SP 800-63B §5.2.2: the lockout doubles and stops at 15 minutes", func(t *testing.T, d *domain) {
			for i := range 5 {
				_, _ = d.signIn(username, wrong, "", "r"+string(rune('a'+i)))
			}
			want := time.Second
			for i := range 14 {
				// Refused while locked (not counted); after it, one more failure counts.
				if _, err := d.signIn(username, wrong, "", "x"+string(rune('a'+i))); retryAfter(err) != want {
					t.Fatalf("after %d failures: %v, want a %v lockout", 5+i, err, want)
				}
				d.advance(want)
				if _, err := d.signIn(username, wrong, "", "y"+string(rune('a'+i))); !errors.Is(err, oauth.ErrBadCredentials) {
					t.Fatalf("after the lockout: %v, want the password checked", err)
				}
				want = min(2*want, 15*time.Minute)
			}
		}},
		{"an unknown username is locked like a known one", func(t *testing.T, d *domain) {
			for i := range 5 {
				_, _ = d.signIn("nobody", wrong, "", "r"+string(rune('a'+i)))
			}
			if _, err := d.signIn("nobody", wrong, "", "rz"); retryAfter(err) != time.Second {
				t.Fatalf("unknown username: %v, want a 1 s lockout", err)
			}
		}},
		{"one request allows 3 failures", func(t *testing.T, d *domain) {
			for range 3 {
				_, _ = d.signIn("u"+time.Now().String(), wrong, "", "one-request")
			}
			if _, err := d.signIn(username, password, "", "one-request"); !errors.Is(err, oauth.ErrTooManyAttempts) {
				t.Fatalf("4th attempt in one request: %v, want ErrTooManyAttempts", err)
			}
		}},
		{"20 failures from one IP lock it for every username", func(t *testing.T, d *domain) {
			for i := range 20 {
				_, _ = d.signIn("user"+string(rune('a'+i)), wrong, "198.51.100.7", "r"+string(rune('a'+i)))
			}
			if _, err := d.signIn(username, password, "198.51.100.7", "rz"); retryAfter(err) != time.Second {
				t.Fatalf("locked IP: %v, want a 1 s lockout", err)
			}
			if _, err := d.signIn(username, password, "198.51.100.8", "rz"); err != nil {
				t.Fatalf("another IP: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newDomain(t))
		})
	}
}
