package httpapi

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// txState is what the browser carries between the steps of one authorization
// transaction: which stored request it belongs to, its CSRF token, and, after login,
// who signed in. It travels sealed (AES-256-GCM), so the browser can neither read nor
// forge it, and it is bound by name and content to one request key.
type txState struct {
	Key string `json:"k"`
	// ClientID is the client the request is bound to, checked at /authorize when the
	// cookie was first written: the login resolves its client from it without
	// re-reading the pushed request.
	ClientID string `json:"i,omitempty"`
	CSRF     string `json:"c"`
	Username string `json:"u,omitempty"`
	AuthTime int64  `json:"t,omitempty"`
	// AMR and SID are the authentication's methods and its single sign-on session's
	// sid (oauth.SessionSID), for the ID token (OIDC Core §2).
	AMR     []string `json:"m,omitempty"`
	SID     string   `json:"s,omitempty"`
	Expires int64    `json:"e"`
	// Origin is the CSP source of the request's redirect URI (redirectOrigin): a
	// login page's form may end in the authorization response when the consent is
	// remembered (decision 32), and form-action applies to that redirect too.
	Origin string `json:"o,omitempty"`
	// ACR and IDP are a brokered login's (federation.go): the upstream's acr and the
	// provider's id, for the ID token.
	ACR string `json:"a,omitempty"`
	IDP string `json:"p,omitempty"`
	// User is the signed-in user as the login read it (oauth.SignedIn), so approval
	// does not read the user again; nil when the login could not
	// carry it (claims over maxCarriedClaims), and then approval reads the user.
	User *txUser `json:"su,omitempty"`
	// Fresh and MaxAge are the request's prompt=login and max_age, asked of an
	// upstream provider when the user signs in there (oauth.UpstreamAsk).
	Fresh  bool `json:"f,omitempty"`
	MaxAge *int `json:"x,omitempty"`
}

// txUser is oauth.SignedIn in the transaction cookie.
type txUser struct {
	Sub     string         `json:"s,omitempty"`
	Subject string         `json:"j"`
	TVA     int64          `json:"v,omitempty"` // TokensValidAfter, epoch milliseconds; 0 is none
	Claims  map[string]any `json:"cl,omitempty"`
}

// maxCarriedClaims bounds the JSON of the claims the cookie carries, so the sealed
// cookie stays well under the 4096 bytes browsers keep (RFC 6265 §6.1); a user with
// more is read again at approval instead.
const maxCarriedClaims = 1536

// carryUser is u for the cookie, or nil when its claims are too large to carry.
func carryUser(u oauth.SignedIn) *txUser {
	if b, err := json.Marshal(u.Claims); err != nil || len(b) > maxCarriedClaims {
		return nil
	}
	return &txUser{Sub: u.Sub, Subject: u.Subject, TVA: millis(u.TokensValidAfter), Claims: u.Claims}
}

// signedIn is the carried user of st, signed in as username.
func (u *txUser) signedIn(username string) oauth.SignedIn {
	si := oauth.SignedIn{Username: username, Sub: u.Sub, Subject: u.Subject, Claims: u.Claims}
	if u.TVA != 0 {
		si.TokensValidAfter = time.UnixMilli(u.TVA).UTC()
	}
	return si
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// The transaction cookie's name is txCookiePrefix and a prefix of the request key.
// Under an https issuer it carries the __Host- prefix. RFC 6265bis §4.1.3.2: "If a
// cookie's name begins with a case-sensitive match for the string __Host-, then the
// cookie will have been set with a Secure attribute, a Path attribute with a value of
// /, and no Domain attribute." So a sibling subdomain cannot plant or overwrite one:
// a browser refuses a __Host- cookie set any other way, and a cookie without the
// prefix is never read. An http issuer is a local run on loopback, where the prefix is not dependable
// (Secure over http://127.0.0.1): the cookie there is unprefixed, not Secure, on
// Path=/authorize (docs/design.md, Contracts).
const (
	txCookiePrefix = "pargate_tx_"
	hostPrefix     = "__Host-"
)

// txCookieName gives each transaction its own cookie, so two tabs with two requests
// do not overwrite each other.
func (h *Handler) txCookieName(key string) string {
	if len(key) > 16 {
		key = key[:16]
	}
	if h.secure {
		return hostPrefix + txCookiePrefix + key
	}
	return txCookiePrefix + key
}

// txCookiePath is Path=/ for a __Host- cookie (the prefix demands it), else only the
// authorization endpoint.
func (h *Handler) txCookiePath() string {
	if h.secure {
		return "/"
	}
	return PathAuthorize
}

// A CookieKey is one key of the transaction cookies and its id: 1 to 32 characters of
// A-Z a-z 0-9 - _ (never ".", which ends the id in a sealed value).
type CookieKey struct {
	ID  string
	Key [32]byte
}

// cookieKeys returns the keys, newest first.
func (h *Handler) cookieKeys(ctx context.Context) ([]CookieKey, error) {
	if h.opts.CookieKeys != nil {
		ks, err := h.opts.CookieKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("cookie key: %w", err)
		}
		if len(ks) == 0 {
			return nil, errors.New("cookie key: no keys")
		}
		return ks, nil
	}
	key, err := h.opts.CookieKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("cookie key: %w", err)
	}
	return []CookieKey{{ID: "0", Key: key}}, nil
}

func newCSRF() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("csrf token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func aeadOf(key [32]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("cookie cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealedAD is the additional data of a sealed value: the cookie name, so a value
// cannot be moved to another cookie, and the key id it names.
func sealedAD(name, kid string) []byte {
	return []byte(name + "\x00" + kid)
}

// readTx returns the transaction state for key from the request's cookie, or nil
// when there is none, it does not open, belongs to another request or has expired.
func (h *Handler) readTx(r *http.Request, key string, now time.Time) (*txState, error) {
	name := h.txCookieName(key)
	plain, err := h.openCookie(r, name)
	if plain == nil || err != nil {
		return nil, err
	}
	var st txState
	if json.Unmarshal(plain, &st) != nil || st.Key != key || now.Unix() >= st.Expires {
		return nil, nil
	}
	return &st, nil
}

// openCookie returns the plain text sealed in the request's cookie name, or nil when
// there is none or it does not open. The value is "<kid>.<base64url(nonce ||
// sealed)>"; any key of the set opens it by its id, so a rotation keeps the cookies
// of transactions under way valid.
func (h *Handler) openCookie(r *http.Request, name string) ([]byte, error) {
	c, err := r.Cookie(name)
	if err != nil {
		return nil, nil
	}
	ks, err := h.cookieKeys(r.Context())
	if err != nil {
		return nil, err
	}
	kid, value, ok := strings.Cut(c.Value, ".")
	if !ok {
		return nil, nil
	}
	var ck *CookieKey
	for i := range ks {
		if ks[i].ID == kid {
			ck = &ks[i]
			break
		}
	}
	if ck == nil {
		return nil, nil
	}
	aead, err := aeadOf(ck.Key)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, nil
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], sealedAD(name, kid))
	if err != nil {
		return nil, nil
	}
	return plain, nil
}

// writeTx seals st into its cookie with the newest key, valid until st.Expires.
func (h *Handler) writeTx(w http.ResponseWriter, r *http.Request, st *txState, now time.Time) error {
	plain, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("seal transaction: %w", err)
	}
	name := h.txCookieName(st.Key)
	value, err := h.sealCookie(r, name, plain)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     h.txCookiePath(),
		MaxAge:   int(st.Expires - now.Unix()),
		Secure:   h.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// sealCookie seals plain for the cookie name with the newest key.
func (h *Handler) sealCookie(r *http.Request, name string, plain []byte) (string, error) {
	ks, err := h.cookieKeys(r.Context())
	if err != nil {
		return "", err
	}
	aead, err := aeadOf(ks[0].Key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal cookie: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, plain, sealedAD(name, ks[0].ID))
	return ks[0].ID + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// clearTx deletes the transaction cookie.
func (h *Handler) clearTx(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{
		Name: h.txCookieName(key), Value: "", Path: h.txCookiePath(), MaxAge: -1,
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

var errCSRF = errors.New("csrf token mismatch")

func checkCSRF(st *txState, got string) error {
	if got == "" || subtle.ConstantTimeCompare([]byte(st.CSRF), []byte(got)) != 1 {
		return errCSRF
	}
	return nil
}
