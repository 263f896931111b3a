package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// dpopNonceWindow is how long one nonce is current; the previous window's nonce is
// still accepted, so a nonce lives between one and two windows.
const dpopNonceWindow = time.Minute

// dpopNonces makes and checks DPoP server nonces (RFC 9449 §8) without storage: a
// nonce is the HMAC of the time window under a key every instance shares, so a nonce
// handed out by one Lambda instance is accepted by all the others.
type dpopNonces struct {
	key KeyFunc
}

// WithDPoPNonces makes the server demand DPoP nonces, keyed by key (shared by every
// instance, e.g. derived from a Secrets Manager secret).
func WithDPoPNonces(key KeyFunc) Option {
	return func(s *Service) { s.nonces = &dpopNonces{key: key} }
}

func (n *dpopNonces) at(ctx context.Context, window int64) (string, error) {
	key, err := n.key(ctx)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte("pargate-dpop-nonce"))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(window))
	mac.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18]), nil
}

func (n *dpopNonces) valid(ctx context.Context, nonce string, now time.Time) (bool, error) {
	if nonce == "" {
		return false, nil
	}
	w := now.Unix() / int64(dpopNonceWindow/time.Second)
	for _, win := range []int64{w, w - 1} {
		want, err := n.at(ctx, win)
		if err != nil {
			return false, err
		}
		if hmac.Equal([]byte(want), []byte(nonce)) {
			return true, nil
		}
	}
	return false, nil
}

// DPoPNonce returns the current DPoP nonce, or "" when the server provides none.
func (s *Service) DPoPNonce(ctx context.Context) (string, error) {
	if s.nonces == nil {
		return "", nil
	}
	return s.nonces.at(ctx, s.now().Unix()/int64(dpopNonceWindow/time.Second))
}
