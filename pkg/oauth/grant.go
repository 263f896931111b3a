package oauth

import "fmt"

// CheckGrantOfCode enforces, for a Codes store, the part of the IssueCode contract
// that concerns the grant: grant must be the one code names, that is non-nil with
// a non-empty ID equal to code.GrantID. A store calls it before writing anything
// and returns its error unchanged (wrapped), so that a refused grant writes
// nothing; without the check the store would link the code, and the tokens
// issued from it, to a grant that does not exist.
func CheckGrantOfCode(code *AuthorizationCode, grant *Grant) error {
	if grant == nil {
		return fmt.Errorf("no grant for the code (grant %q)", code.GrantID)
	}
	if grant.ID == "" || grant.ID != code.GrantID {
		return fmt.Errorf("grant %q is not the code's grant %q", grant.ID, code.GrantID)
	}
	return nil
}
