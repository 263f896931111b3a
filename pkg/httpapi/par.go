package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// pushCounters are the business counters of a push, one slice for all.
var pushCounters = []string{metrics.PushedRequests}

// par serves the pushed authorization request endpoint (RFC 9126 §2).
func (h *Handler) par() http.Handler {
	return h.backChannel(h.urls.PAR, true, func(ctx context.Context, client *oauth.Client, form url.Values, dpop oauth.DPoP) (int, any, error) {
		res, err := h.svc.Push(ctx, client, form, dpop)
		if err != nil {
			// Every error at PAR is JSON (RFC 9126 §2.3): writeError never reads Redirect.
			return 0, nil, err
		}
		// RFC 9126 §2.2: "the server MUST generate a request URI and provide it in the
		// response with a 201 HTTP status code".
		noteOutcome(ctx, outcomePushCreated, pushCounters...)
		return http.StatusCreated, (*pushBody)(res), nil
	})
}

// pushBody is the pushed authorization response (RFC 9126 §2.2) written without
// encoding/json's reflection: the bytes json.Marshal writes for an oauth.PushResult
// (TestPushBody_SameBytesAsEncodingJSON).
type pushBody oauth.PushResult

func (p *pushBody) appendJSON(b []byte) []byte {
	b = append(b, `{"request_uri":`...)
	b = appendMarshaledString(b, p.RequestURI)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, int64(p.ExpiresIn), 10)
	return append(b, '}')
}

// appendMarshaledString appends s as json.Marshal writes it: as it is between quotes
// when it holds only characters json.Marshal leaves alone (a request_uri does:
// "urn:ietf:params:oauth:request_uri:" and base64url), else json.Marshal's own output.
func appendMarshaledString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
