package seed

import (
	"fmt"

	"github.com/pargate/pargate/pkg/oauth"
)

// checkDisplayed refuses client metadata that a page shows (client_name, and
// client_id where there is no name) or that names what is asked for (scope) when it
// holds Unicode format characters (category Cf, e.g. U+202E): they would let a client
// spoof what the consent page says (oauth.HasFormatChar).
func checkDisplayed(c *Client) error {
	for field, v := range map[string]string{"client_id": c.ID, "client_name": c.Name, "scope": c.Scope} {
		if oauth.HasFormatChar(v) {
			return fmt.Errorf("%s contains invisible or bidirectional format characters (Unicode Cf)", field)
		}
	}
	return nil
}
