package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Consent is a user's remembered approval of a client (issue 12 item 2;
// docs/design.md decision 32): the scopes and resource indicators the user approved
// on the consent page, so that a later authorization of the same client for no more
// than those skips the page (and prompt=none can return a code, OIDC Core §3.1.2.1).
// One record per (user, client), under ConsentKey; the latest approval replaces it.
type Consent struct {
	// Key is ConsentKey(Subject, ClientID).
	Key      string
	Subject  string
	ClientID string
	// Scopes and Resources are those of the approval (a request within them skips
	// the page); sorted.
	Scopes    []string
	Resources []string
	// GrantedAt is when the user approved; a user cut off at or after it
	// (User.TokensValidAfter: disabled, password changed) must consent again.
	GrantedAt time.Time
	// ExpiresAt ends the consent (GrantedAt plus GRANT_LIFETIME). The store may
	// delete the record once it has passed.
	ExpiresAt time.Time
}

// Consents stores remembered consents. Expiry is the caller's business (decision 3).
type Consents interface {
	// RememberConsent creates or replaces the consent under c.Key.
	RememberConsent(ctx context.Context, c *Consent) error
	// GetConsent returns the consent under key, expired or not, with a strongly
	// consistent read, or ErrNotFound.
	GetConsent(ctx context.Context, key string) (*Consent, error)
	// ForgetConsent deletes the consent under key; none is not an error.
	ForgetConsent(ctx context.Context, key string) error
}

// ConsentAlways is the client metadata consent value that shows the consent page at
// every authorization.
const ConsentAlways = "always"

// CheckConsentMetadata checks the client's consent metadata: empty or "always".
func CheckConsentMetadata(c *Client) error {
	if c.Consent != "" && c.Consent != ConsentAlways {
		return fmt.Errorf("consent %q is not supported (always, or leave it out to remember consent)", c.Consent)
	}
	return nil
}

// ConsentKey is the store key of the consent of the user with subject sub for
// clientID: a SHA-256 under a label of its own (decision 1), so the table names
// neither.
func ConsentKey(sub, clientID string) string {
	return HashKey("pargate consent\x00" + sub + "\x00" + clientID)
}

// ConsentRemembered reports whether the request of tx, by user, is covered by a
// consent the user gave the client before, so the consent page is skipped. It is
// never covered when:
//   - the request has prompt=consent (OIDC Core §3.1.2.1: "The Authorization Server
//     SHOULD prompt the End-User for consent before returning information to the
//     Client");
//   - the client is registered with consent: always;
//   - the request carries authorization_details (RFC 9396: a transaction's details
//     are approved per transaction, and always shown);
//   - it asks for a scope or resource the remembered consent lacks. offline_access
//     is covered only by a consent that included it: OIDC Core §11 "the
//     Authorization Server MUST ensure that the prompt parameter contains consent
//     unless other conditions for processing the request permitting offline access
//     to the requested resources are known" — an explicit earlier approval of
//     offline_access by this user for this client is such a condition (as
//     node-oidc-provider decides);
//   - the consent has expired, or the user was cut off since (TokensValidAfter at
//     or after GrantedAt: disabled and enabled again, password changed).
//
// A store error is returned (an outage page, decision 16), never "not covered".
func (s *Service) ConsentRemembered(ctx context.Context, tx *Transaction, user SignedIn) (bool, error) {
	req := &tx.Request.Request
	if tx.Client.Consent == ConsentAlways || len(req.AuthorizationDetails) > 0 ||
		req.HasPrompt("consent") {
		return false, nil
	}
	c, err := s.store.GetConsent(ctx, ConsentKey(user.Subject, tx.Client.ID))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, AsError(fmt.Errorf("load consent: %w", err))
	}
	return c.Covers(req, user, s.now()), nil
}

// Covers reports whether the consent, read for user, covers req at now (the scope
// and resource superset, expiry and cut-off rules of ConsentRemembered).
func (c *Consent) Covers(req *AuthorizationRequest, user SignedIn, now time.Time) bool {
	if !now.Before(c.ExpiresAt) || c.Subject != user.Subject {
		return false
	}
	if !user.TokensValidAfter.IsZero() && !c.GrantedAt.After(user.TokensValidAfter) {
		return false
	}
	for _, scope := range req.Scopes {
		if !slices.Contains(c.Scopes, scope) {
			return false
		}
	}
	for _, r := range req.Resources {
		if !slices.Contains(c.Resources, r) {
			return false
		}
	}
	return true
}

// RememberConsent records that the user with subject sub approved the request of tx
// on the consent page, after the approval issued its code (a separate write: the
// code is issued whether or not the consent is remembered, and a failure here only
// means the page is shown next time). A request with authorization_details is
// never remembered (RFC 9396: per transaction), nor one of a consent: always client.
func (s *Service) RememberConsent(ctx context.Context, tx *Transaction, sub string) error {
	req := &tx.Request.Request
	now := s.now()
	if tx.Client.Consent == ConsentAlways || len(req.AuthorizationDetails) > 0 {
		return nil
	}
	scopes := slices.Clone(req.Scopes)
	slices.Sort(scopes)
	resources := slices.Clone(req.Resources)
	slices.Sort(resources)
	err := s.store.RememberConsent(ctx, &Consent{
		Key:       ConsentKey(sub, tx.Client.ID),
		Subject:   sub,
		ClientID:  tx.Client.ID,
		Scopes:    slices.Compact(scopes),
		Resources: slices.Compact(resources),
		GrantedAt: now,
		ExpiresAt: now.Add(s.consentLifetime()),
	})
	if err != nil {
		return AsError(fmt.Errorf("remember consent: %w", err))
	}
	return nil
}

// consentLifetime is how long a consent is remembered: GRANT_LIFETIME, the longest a
// grant of the approval could last (decision 32).
func (s *Service) consentLifetime() time.Duration {
	if s.cfg.GrantLifetime > 0 {
		return s.cfg.GrantLifetime
	}
	return 30 * 24 * time.Hour
}

// ForgetConsent deletes the remembered consent of the user with subject sub for
// clientID (`pargate grants revoke`, `pargate user revoke-grants`).
func ForgetConsent(ctx context.Context, store Consents, sub, clientID string) error {
	return store.ForgetConsent(ctx, ConsentKey(sub, clientID))
}
