package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// errTooLarge marks a body over maxBodyBytes (RFC 9126 §2.3: HTTP 413).
var errTooLarge = errors.New("request body too large")

// readForm reads an application/x-www-form-urlencoded POST body of at most
// maxBodyBytes (RFC 9126 §2, RFC 6749 §3.2).
func readForm(_ http.ResponseWriter, r *http.Request) (url.Values, error) {
	// The exact media type, as clients send it, needs no parsing.
	if ct := r.Header.Get("Content-Type"); ct != formContentType {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != formContentType {
			return nil, oauth.InvalidRequest("the body must be %s", formContentType)
		}
	}
	if r.ContentLength > maxBodyBytes {
		return nil, errTooLarge
	}
	// Every endpoint's body is behind limitBody's http.MaxBytesReader (which also has
	// the server close the connection after an oversized body); readBody stops past
	// the same bound itself, without a second reader. The body is read into a pooled
	// buffer: parseForm copies what it keeps into one string of its own.
	fb := formBufferPool.Get().(*formBuffers)
	defer fb.put()
	var err error
	fb.body, err = readBody(r.Body, r.ContentLength, fb.body[:0])
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.Is(err, errTooLarge) || errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, oauth.InvalidRequest("the body could not be read")
	}
	var form url.Values
	form, fb.decoded, err = parseFormInto(fb.body, fb.decoded[:0])
	if err != nil {
		return nil, oauth.InvalidRequest("the body is not valid form encoding")
	}
	return form, nil
}

// formBuffers are readForm's scratch buffers: the body as read and its keys and
// values unescaped. Nothing handed out points into them.
type formBuffers struct {
	body, decoded []byte
}

// maxPooledForm is the largest buffer kept for the next request: a body at the
// limit, and a little for the read that finds its end.
const maxPooledForm = maxBodyBytes + 1024

var formBufferPool = sync.Pool{New: func() any { return new(formBuffers) }}

func (fb *formBuffers) put() {
	if cap(fb.body) > maxPooledForm || cap(fb.decoded) > maxPooledForm {
		return
	}
	formBufferPool.Put(fb)
}

// readBody appends r, read to its end, to b, growing b once when the length is
// announced, as io.ReadAll would; past maxBodyBytes it stops with errTooLarge. A nil
// body is empty.
func readBody(r io.Reader, length int64, b []byte) ([]byte, error) {
	if r == nil {
		return b, nil
	}
	if length > 0 && length <= maxBodyBytes {
		// One more byte, so that the read that finds the end has room.
		b = slices.Grow(b, int(length)+1)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append grow it
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > maxBodyBytes {
			return b, errTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// credentials extracts what the request presents for client authentication.
func credentials(r *http.Request, form url.Values) (oauth.ClientCredentials, error) {
	c := oauth.ClientCredentials{
		BodyClientID:  form.Get("client_id"),
		BodySecret:    form.Get("client_secret"),
		AssertionType: form.Get("client_assertion_type"),
		Assertion:     form.Get("client_assertion"),
	}
	for _, name := range []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"} {
		if len(form[name]) > 1 {
			return c, oauth.InvalidRequest("parameter %s is included more than once", name)
		}
	}
	// RFC 9110 §5.3: a field that is not a list (Authorization holds one credential)
	// must not be sent twice; which one would count is ambiguous, so neither does.
	if len(r.Header.Values("Authorization")) > 1 {
		return c, oauth.InvalidRequest("send one Authorization header")
	}
	scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return c, nil
	}
	c.BasicUsed = true
	raw, err := decodeBasic(strings.TrimSpace(value))
	if err != nil {
		return c, badBasic()
	}
	id, secret, ok := strings.Cut(raw, ":")
	if !ok {
		return c, badBasic()
	}
	// RFC 6749 §2.3.1: the client identifier and password are encoded using the
	// application/x-www-form-urlencoded algorithm before being used in Basic.
	if c.BasicID, err = url.QueryUnescape(id); err != nil {
		return c, badBasic()
	}
	if c.BasicSecret, err = url.QueryUnescape(secret); err != nil {
		return c, badBasic()
	}
	return c, nil
}

// badBasic is the error of malformed Basic credentials, built only when they are
// (no error allocated for credentials that are fine).
func badBasic() error {
	return oauth.InvalidClient(oauth.ClientAuthFailed).WithCause(errors.New("malformed Basic credentials"))
}

// basicStack is the longest Basic value decoded without a heap buffer.
const basicStack = 512

// decodeBasic is base64.StdEncoding.DecodeString(s) into a string, with one
// allocation (the string) for values up to basicStack bytes: the encoded and decoded
// bytes stay on the stack.
func decodeBasic(s string) (string, error) {
	if len(s) > basicStack {
		raw, err := base64.StdEncoding.DecodeString(s)
		return string(raw), err
	}
	var src, dst [basicStack]byte
	n := copy(src[:], s)
	m, err := base64.StdEncoding.Decode(dst[:], src[:n])
	if err != nil {
		return "", err
	}
	return string(dst[:m]), nil
}

// backChannel runs a client-authenticated POST endpoint (/par, /token): method,
// body and client authentication are checked the same way for both.
// endpoint is the endpoint's public URL (Endpoints), which DPoP proofs must name.
// browser marks an endpoint a public client's page calls with CORS (clientCORS):
// its origin is checked once the client is known (corsAllow).
func (h *Handler) backChannel(endpoint string, browser bool, serve func(ctx context.Context, client *oauth.Client, form url.Values, dpop oauth.DPoP) (int, any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.methodNotAllowed(w, r, http.MethodPost)
			return
		}
		ctx := r.Context()
		if dl, ok := ctx.Deadline(); h.deadlines && (!ok || time.Until(dl) > requestTimeout) {
			// observe's one deadline per request (Options.RequestDeadline), if set,
			// is sooner: no second timer. Over an in-process store (oauth.InProcess)
			// none: nothing the back channel does with it can hang (a client's
			// jwks_uri is fetched under clientkeys' own timeout).
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, requestTimeout)
			defer cancel()
		}
		form, err := readForm(w, r)
		if errors.Is(err, errTooLarge) {
			noteError(ctx, oauth.InvalidRequest("body too large"))
			writeJSON(w, statusTooLarge, errorBody{Error: oauth.CodeInvalidRequest, Description: "the request body exceeds 64 KiB"})
			return
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		cred, err := credentials(r, form)
		if err != nil {
			h.writeAuthError(w, r, cred, err)
			return
		}
		if cred.Certificate, err = h.clientCertificate(r); err != nil {
			h.writeError(w, r, err)
			return
		}
		client, err := h.svc.AuthenticateClient(ctx, cred)
		if err != nil {
			h.writeAuthError(w, r, cred, err)
			return
		}
		noteClient(ctx, client.ID)
		if browser {
			// Before the rate limit and the grant: a refused origin spends nothing
			// (docs/design.md decision 30).
			if err := corsAllow(w, r, client, true); err != nil {
				h.writeError(w, r, err)
				return
			}
		}
		if h.rateLimited(ctx, w, r, client) {
			return
		}
		h.setDPoPNonce(ctx, w)
		dpop := oauth.DPoP{Proofs: r.Header.Values("DPoP"), Method: r.Method, URL: h.aliasFor(r, endpoint), Certificate: cred.Certificate}
		status, body, err := serve(ctx, client, form, dpop)
		if err != nil {
			// An invalid_client from the endpoint itself (a public client at the
			// client_credentials grant, RFC 6749 §4.4) is a 401 like any other, with
			// its WWW-Authenticate (RFC 7235 §3.1).
			h.writeAuthError(w, r, cred, err)
			return
		}
		if raw, ok := body.(rawBody); ok {
			raw.write(w, status)
			return
		}
		writeJSON(w, status, body)
	})
}
