package httpapi

import (
	"net/http"

	"github.com/pargate/pargate/pkg/oauth"
)

// limitBody bounds the body of every request to next at maxBodyBytes (64 KiB). A body
// declared larger is refused at once with 413 (RFC 9110 §15.5.14, RFC 9126 §2.3); one
// that turns out larger while it is read fails its read with *http.MaxBytesError,
// which readForm turns into errTooLarge, so the endpoint answers 413 too. Without it
// http.Request.ParseForm reads up to 10 MB, and a handler that never reads the body
// would let it be sent anyway.
func (h *Handler) limitBody(path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			h.tooLarge(w, r, path)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge answers 413: a page at /authorize and /logout, where a browser reads it, and the
// JSON error body (RFC 6749 §5.2 shape) everywhere else.
func (h *Handler) tooLarge(w http.ResponseWriter, r *http.Request, path string) {
	e := oauth.InvalidRequest("the request body exceeds 64 KiB")
	if (path == PathAuthorize || path == PathLogout) && h.pageError != nil {
		h.pageError(w, r, statusTooLarge, e)
		return
	}
	noteError(r.Context(), e)
	writeJSON(w, statusTooLarge, errorBody{Error: e.Code, Description: e.Description})
}
