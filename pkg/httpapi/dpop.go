package httpapi

import (
	"context"
	"net/http"
)

// setDPoPNonce sends the current DPoP nonce (RFC 9449 §8.1 for the authorization
// server, §9 for resources) when the server provides them. If the nonce key cannot be
// loaded the header is left out; the proof check then reports the outage.
func (h *Handler) setDPoPNonce(ctx context.Context, w http.ResponseWriter) {
	if nonce, err := h.svc.DPoPNonce(ctx); err == nil && nonce != "" {
		w.Header().Set("DPoP-Nonce", nonce)
	}
}
