package config

import (
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// CLIENT_RATE_LIMIT (RFC 9126 §2.3's 429; docs/design.md decision 23): 600/60 by
// default, REQUESTS/SECONDS or off, and anything else a start-up error that says
// what is wanted.
func TestFromEnv_ClientRateLimit_RFC9126_2_3(t *testing.T) {
	for raw, want := range map[string]oauth.RateLimit{
		"":       {Requests: 600, Window: time.Minute},
		"100/10": {Requests: 100, Window: 10 * time.Second},
		" 1/1 ":  {Requests: 1, Window: time.Second},
		"off":    {},
	} {
		c, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "CLIENT_RATE_LIMIT": raw}))
		if err != nil {
			t.Errorf("CLIENT_RATE_LIMIT=%q: %v", raw, err)
			continue
		}
		if c.ClientRateLimit != want {
			t.Errorf("CLIENT_RATE_LIMIT=%q: %+v, want %+v", raw, c.ClientRateLimit, want)
		}
	}
	for _, raw := range []string{"600", "600/", "/60", "0/60", "600/0", "-1/60", "600/60s", "10/86401", "OFF", "none", "600/60/1"} {
		_, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "CLIENT_RATE_LIMIT": raw}))
		if err == nil || !strings.Contains(err.Error(), "CLIENT_RATE_LIMIT") || !strings.Contains(err.Error(), "REQUESTS/SECONDS") {
			t.Errorf("CLIENT_RATE_LIMIT=%q: error %v, want one naming the variable and the format", raw, err)
		}
	}
}
