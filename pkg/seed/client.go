package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ParseClient parses one client's metadata: a JSON object as in the seed's
// "clients" array. Unknown fields are errors, as in Parse. It does not validate or
// hash anything: call Normalize for that, after deciding on the secret.
func ParseClient(data []byte) (*Client, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Client
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse client metadata: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse client metadata: more than one JSON value")
	}
	return &c, nil
}

// Normalize applies the RFC 7591 defaults to the client's metadata, checks it by the
// rules of the seed file and hashes its client_secret into SecretHash: exactly what
// Parse does to each client of a file. The admin CLI registers clients through it,
// so a client created by hand obeys the same rules as a seeded one.
func (c *Client) Normalize() error { return c.normalize() }
