package oauth

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// PushResult is the body of a successful pushed authorization response (RFC 9126 §2.2).
type PushResult struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// maxFAPIPushedRequestLifetime is what a pushed request's lifetime must stay below
// under fapi2 (FAPI 2.0 Security Profile §5.3.2.2 note 2).
const maxFAPIPushedRequestLifetime = 600 * time.Second

// Push validates and stores a pushed authorization request for an authenticated client
// (RFC 9126 §2.1).
func (s *Service) Push(ctx context.Context, client *Client, params url.Values, dpop DPoP) (*PushResult, error) {
	if err := checkParams(params); err != nil {
		return nil, err
	}
	// RFC 9126 §2.1: "The request_uri authorization request parameter is one
	// exception, and it MUST NOT be provided."
	if _, ok := params["request_uri"]; ok {
		return nil, InvalidRequest("request_uri must not be sent to the pushed authorization request endpoint")
	}
	var objectExp time.Time
	if raw := params.Get("request"); raw != "" {
		var err error
		if params, objectExp, err = s.requestObjectParams(ctx, client, raw); err != nil {
			return nil, err
		}
	} else if s.cfg.RequireSignedRequestObject || client.RequireSignedRequestObject {
		// RFC 9126 §2.3: such a server "MUST refuse any other request with HTTP status
		// code 400 and error code invalid_request".
		return nil, InvalidRequest("this client must push a signed request object (the request parameter)")
	}
	// RFC 9126 §2.1 step 3: "Validate the pushed request as it would an authorization
	// request sent to the authorization endpoint." All errors are JSON here, so the
	// redirect flag is dropped by the edge.
	req, err := s.validateRequest(client, params, viaPAR)
	if err != nil {
		return nil, err
	}
	// RFC 9449 §10.1: a DPoP proof sent with the push binds the code like dpop_jkt;
	// "If both mechanisms are used at the same time, the authorization server MUST
	// reject the request if the JWK Thumbprint in dpop_jkt does not match".
	jkt, err := s.verifyDPoP(ctx, client.ID, dpop)
	if err != nil {
		return nil, err
	}
	if jkt != "" {
		if req.DPoPJKT != "" && req.DPoPJKT != jkt {
			return nil, InvalidRequest("dpop_jkt does not match the key of the DPoP proof")
		}
		req.DPoPJKT = jkt
	}
	lifetime := s.cfg.PushedRequestLifetime
	if client.PushedRequestLifetime > 0 {
		lifetime = time.Duration(client.PushedRequestLifetime) * time.Second
	}
	// FAPI 2.0 Security Profile §5.3.2.2 note 2: expires_in "of less than 600
	// seconds". PAR_EXPIRES_IN is below 600 under fapi2 (config); a client's own
	// pushed_request_lifetime (registered up to 600, for either profile) is capped.
	if s.cfg.FAPI2 && lifetime >= maxFAPIPushedRequestLifetime {
		lifetime = maxFAPIPushedRequestLifetime - time.Second
	}
	if !objectExp.IsZero() {
		// RFC 9126 §3: the request_uri stands for the request object, and RFC 7519
		// §4.1.4: on or after its exp the JWT "MUST NOT be accepted for processing".
		// So the reference is first redeemable no later than exp (RFC 9126 §2.2
		// expires_in, whole seconds so that RedeemBy never passes exp).
		if left := objectExp.Sub(s.now()).Truncate(time.Second); left < lifetime {
			lifetime = left
		}
		// RFC 9126 §2.2: expires_in is "a positive integer"; an object accepted only
		// by the clock skew has no lifetime left to give its reference.
		if lifetime < time.Second {
			return nil, invalidRequestObject("the request object expires too soon to be referred to")
		}
	}
	uri, err := s.storeRequest(ctx, client, req, viaPAR, lifetime)
	if err != nil {
		return nil, err
	}
	return &PushResult{RequestURI: uri, ExpiresIn: int(lifetime / time.Second)}, nil
}

// storeRequest saves req as a pending authorization request and returns its request_uri.
func (s *Service) storeRequest(ctx context.Context, client *Client, req *AuthorizationRequest, via requestChannel, lifetime time.Duration) (string, error) {
	// RFC 9126 §2.2: the request_uri "MUST contain some part generated using a
	// cryptographically strong pseudorandom algorithm".
	uri, ref, err := randomRequestURI()
	if err != nil {
		return "", ServerError(err)
	}
	now := s.now()
	deadline := now.Add(max(s.cfg.TransactionLifetime, lifetime))
	rec := &PushedRequest{
		Key:       HashKey(ref),
		ClientID:  client.ID, // RFC 9126 §2.2: "MUST be bound to the client".
		Pushed:    via == viaPAR,
		Request:   *req,
		CreatedAt: now,
		RedeemBy:  now.Add(lifetime),
		Deadline:  deadline,
	}
	if err := s.store.CreatePushedRequest(ctx, rec); err != nil {
		return "", AsError(fmt.Errorf("store pushed request: %w", err))
	}
	return uri, nil
}
