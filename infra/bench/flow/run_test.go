package flow

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/seed"
)

// servePargate serves pargate on the in-memory store with the benchmarks' seed, its
// responses passed through edit (nil: unchanged), and returns the issuer.
func servePargate(t *testing.T, edit func(r *http.Request, rec *httptest.ResponseRecorder)) string {
	t.Helper()
	store := memory.New()
	f, err := seed.Parse([]byte(SeedJSON(true)))
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Import(t.Context(), store, f); err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if edit != nil {
			r.PostForm, _ = url.ParseQuery(string(body)) // what the handler read
			edit(r, rec)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	if h, err = handler(srv.URL, store); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// TestRun_WholeFlowWithRefresh runs one flow with a refresh against pargate on the
// in-memory store: every step must answer what its spec says (the checks are the
// driver's own: RFC 9126 §2.2 for the push, RFC 6749 §4.1.2 and RFC 9207 §2 for
// the authorization response, RFC 6749 §5.1 and OIDC Core §3.1.3.3 for the token
// response, RFC 6749 §6 and RFC 9700 §4.14.2 for the refresh), in order.
func TestRun_WholeFlowWithRefresh(t *testing.T) {
	base := servePargate(t, nil)
	var took []string
	if err := Run(t.Context(), Fixture(base, Pargate, true, nil), func(s string) { took = append(took, s) }); err != nil {
		t.Fatal(err)
	}
	want := []string{StepPush, StepAuthorize, StepLogin, StepConsent, StepApprove, StepToken, StepRefresh}
	if !slices.Equal(took, want) || !slices.Equal(StepsOf(Fixture(base, Pargate, true, nil)), want) {
		t.Errorf("steps %v, want %v", took, want)
	}
}

// TestRun_StepByStep takes each step of several flows in lockstep, as the load
// generator does: flows are independent of each other (own cookie jars).
func TestRun_StepByStep(t *testing.T) {
	base := servePargate(t, nil)
	flows := make([]*Flow, 3)
	for i := range flows {
		f, err := New(Fixture(base, Pargate, true, nil))
		if err != nil {
			t.Fatal(err)
		}
		flows[i] = f
	}
	for _, want := range StepsOf(Fixture(base, Pargate, true, nil)) {
		for i, f := range flows {
			got, err := f.Next(t.Context())
			if err != nil || got != want {
				t.Fatalf("flow %d: step %q, %v; want %q", i, got, err, want)
			}
		}
	}
	for i, f := range flows {
		if !f.Done() {
			t.Errorf("flow %d not done", i)
		}
		if _, err := f.Next(t.Context()); err == nil {
			t.Errorf("flow %d: a step after the last", i)
		}
	}
}

// TestRun_RefusesWhatTheSpecsForbid breaks one response of a working server at a
// time: the driver must fail at that step.
func TestRun_RefusesWhatTheSpecsForbid(t *testing.T) {
	isToken := func(r *http.Request, grant string) bool {
		return r.URL.Path == "/token" && r.PostForm.Get("grant_type") == grant
	}
	replaceBody := func(rec *httptest.ResponseRecorder, old, new string) {
		b := bytes.Replace(rec.Body.Bytes(), []byte(old), []byte(new), 1)
		rec.Body = bytes.NewBuffer(b)
	}
	for _, tc := range []struct {
		name, step string
		edit       func(r *http.Request, rec *httptest.ResponseRecorder)
	}{
		{"RFC9126_2_2 push without expires_in", StepPush, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == "/par" {
				replaceBody(rec, `"expires_in"`, `"expires_at"`)
			}
		}},
		{"RFC9126_2_2 push answered 200", StepPush, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == "/par" {
				rec.Code = http.StatusOK
			}
		}},
		{"RFC6749_4_1_2 state changed", StepApprove, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if loc := rec.Header().Get("Location"); r.Method == http.MethodPost && strings.Contains(loc, "code=") {
				rec.Header().Set("Location", strings.Replace(loc, "state="+State, "state=other", 1))
			}
		}},
		{"RFC9207_2 iss missing", StepApprove, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if loc, err := url.Parse(rec.Header().Get("Location")); err == nil && loc.Query().Get("code") != "" {
				q := loc.Query()
				q.Del("iss")
				loc.RawQuery = q.Encode()
				rec.Header().Set("Location", loc.String())
			}
		}},
		{"RFC6749_5_1 token response cacheable", StepToken, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if isToken(r, "authorization_code") {
				rec.Header().Del("Cache-Control")
			}
		}},
		{"OIDCCore_3_1_3_3 no id_token", StepToken, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if isToken(r, "authorization_code") {
				replaceBody(rec, `"id_token"`, `"x_token"`)
			}
		}},
		{"RFC6749_5_1 no refresh_token", StepToken, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if isToken(r, "authorization_code") {
				replaceBody(rec, `"refresh_token"`, `"x_token"`)
			}
		}},
		{"RFC6749_6 refresh refused", StepRefresh, func(r *http.Request, rec *httptest.ResponseRecorder) {
			if isToken(r, "refresh_token") {
				rec.Code = http.StatusBadRequest
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := servePargate(t, tc.edit)
			var took []string
			err := Run(context.Background(), Fixture(base, Pargate, true, nil), func(s string) { took = append(took, s) })
			if err == nil || !strings.HasPrefix(err.Error(), tc.step+": ") {
				t.Fatalf("err %v, want a failure at %s (took %v)", err, tc.step, took)
			}
		})
	}
}
