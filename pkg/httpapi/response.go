package httpapi

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
)

// respond delivers an authorization response to the client's redirect URI, in the
// request's response mode (docs/design.md decision 24): query and query.jwt as a
// 303 redirect with the parameters (or the one JARM `response`) in the query;
// form_post and form_post.jwt as a page whose form the browser posts there. The
// domain built the parameters and the JWT; this only chooses the carriage.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, resp *oauth.AuthorizationResponse) {
	if !resp.FormPost {
		h.redirect(w, r, resp.URL())
		return
	}
	h.render(w, r, http.StatusOK, pageFormPost, formPostData(resp))
}

type formField struct{ Name, Value string }

type formPostPage struct {
	Title, Brand string
	CSS          template.CSS
	Script       template.JS
	RedirectHost string
	// Action is the redirect URI, query included: Form Post Response Mode §2 posts
	// the parameters to it, it does not add them to its query.
	Action string
	Fields []formField
	// formAction is the CSP form-action source of the redirect URI (formActionSource).
	formAction string
}

// formPostData is OAuth 2.0 Form Post Response Mode §2's page: "the Authorization
// Server MUST ... return an HTML document ... containing an HTML form ... with the
// action attribute set to the Client's redirection URI ... and the parameters as
// hidden fields ... The form MUST be auto-submitted". The fields are in a fixed
// order (the page is the same for the same response).
func formPostData(resp *oauth.AuthorizationResponse) formPostPage {
	fields := make([]formField, 0, len(resp.Params))
	for k := range resp.Params {
		fields = append(fields, formField{Name: k, Value: resp.Params.Get(k)})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	host := resp.RedirectURI
	if u, err := url.Parse(resp.RedirectURI); err == nil {
		host = u.Host
	}
	return formPostPage{
		Title: "Returning to the application", Brand: brand, CSS: template.CSS(loadPages().css), Script: template.JS(loadPages().script),
		RedirectHost: host, Action: resp.RedirectURI, Fields: fields,
		formAction: formActionSource(resp.RedirectURI),
	}
}

// formActionSource is the CSP source expression (CSP Level 3 §2.3.1) that allows
// exactly the redirect URI's scheme, host, port and path as a form target: least
// privilege, not the client's whole origin and not the server's own ('self'). A
// source expression has no query (CSP matching ignores the target's query), and
// ';' and ',' would end the directive or the policy, so they are percent-encoded
// (CSP §6.7.2.10 compares percent-decoded paths). An unparsable URI gives 'none'.
func formActionSource(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "'none'"
	}
	path := strings.NewReplacer(";", "%3B", ",", "%2C", " ", "%20").Replace(u.EscapedPath())
	if path == "" {
		path = "/"
	}
	return u.Scheme + "://" + u.Host + path
}
