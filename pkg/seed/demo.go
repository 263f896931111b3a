package seed

import "crypto/subtle"

// The credentials of the demo seed (infra/seed.json), published in the repository:
// anyone can use them, so they belong only in a local or throwaway deployment.
const (
	DemoClientSecret = "demo-secret-change-me-7Q0a9sV1mXbq3R2kT8wZpL4nYc5dE6fG"
	DemoUserPassword = "demo-password"
)

// PublishedCredentials names the clients and users of f whose secret or password is
// one of the demo seed's published ones ("client demo-client", "client demo-service",
// "user demo").
func PublishedCredentials(f *File) []string {
	var out []string
	for _, c := range f.Clients {
		if subtle.ConstantTimeCompare([]byte(c.Secret), []byte(DemoClientSecret)) == 1 {
			out = append(out, "client "+c.ID)
		}
	}
	for _, u := range f.Users {
		if subtle.ConstantTimeCompare([]byte(u.Password), []byte(DemoUserPassword)) == 1 {
			out = append(out, "user "+u.Username)
		}
	}
	return out
}
