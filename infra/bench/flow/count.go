package flow

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

// Counter counts DynamoDB API calls by operation and by the kind of item they touch
// (the key prefix: client, user, par, code), e.g. "GetItem client". It sits in the
// SDK's Initialize step, so a call counts once however often the SDK retries it.
type Counter struct {
	mu    sync.Mutex
	calls []string
	sizes map[string]int // largest item seen by kind since the last Take
}

// Middleware adds the counter to an SDK stack; pass it in dynamodb.Options.APIOptions.
func (c *Counter) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("pargate.CountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			call := awsmiddleware.GetOperationName(ctx)
			if kind := itemKind(in.Parameters); kind != "" {
				call += " " + kind
			}
			c.mu.Lock()
			c.calls = append(c.calls, call)
			c.mu.Unlock()
			out, md, err := next.HandleInitialize(ctx, in)
			c.noteSizes(in.Parameters, out.Result)
			return out, md, err
		}), middleware.After)
}

// noteSizes records the size of every item a call wrote (from its input) or read
// (from its output), by kind: what DynamoDB bills its units on.
func (c *Counter) noteSizes(params, result any) {
	var items []map[string]types.AttributeValue
	switch in := params.(type) {
	case *dynamodb.PutItemInput:
		items = append(items, in.Item)
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			if it.Put != nil {
				items = append(items, it.Put.Item)
			}
		}
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		items = append(items, out.Item)
	case *dynamodb.UpdateItemOutput:
		items = append(items, out.Attributes)
	case *dynamodb.BatchGetItemOutput:
		for _, rs := range out.Responses {
			items = append(items, rs...)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range items {
		kind := itemKind(&dynamodb.PutItemInput{Item: it})
		if kind == "" {
			continue
		}
		if c.sizes == nil {
			c.sizes = map[string]int{}
		}
		c.sizes[kind] = max(c.sizes[kind], ItemSize(it))
	}
}

// TakeSizes returns the largest item of each kind seen since the last TakeSizes, and
// forgets them.
func (c *Counter) TakeSizes() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sizes
	c.sizes = nil
	return out
}

// ItemSize is an item's size as DynamoDB counts it for capacity units: each
// attribute's name in UTF-8 bytes plus its value (strings and binaries their length,
// numbers about one byte per two digits plus one, booleans and nulls one byte, lists
// and maps 3 bytes plus their elements and one byte each).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(strings.TrimLeft(v.Value, "-0"))/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// Take returns the calls counted since the last Take, in order, and forgets them.
func (c *Counter) Take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

// itemKind names the kind of item a request reads or writes from its key prefix.
func itemKind(params any) string {
	pk := func(m map[string]types.AttributeValue) string {
		if s, ok := m["pk"].(*types.AttributeValueMemberS); ok {
			kind, _, _ := strings.Cut(s.Value, "#")
			return kind
		}
		return ""
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return pk(in.Key)
	case *dynamodb.PutItemInput:
		return pk(in.Item)
	case *dynamodb.UpdateItemInput:
		return pk(in.Key)
	case *dynamodb.DeleteItemInput:
		return pk(in.Key)
	case *dynamodb.BatchGetItemInput:
		var kinds []string
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				kinds = append(kinds, pk(k))
			}
		}
		sort.Strings(kinds)
		return strings.Join(kinds, "+")
	case *dynamodb.TransactWriteItemsInput:
		var kinds []string
		for _, it := range in.TransactItems {
			switch {
			case it.Update != nil:
				kinds = append(kinds, pk(it.Update.Key))
			case it.Put != nil:
				kinds = append(kinds, pk(it.Put.Item))
			case it.ConditionCheck != nil:
				kinds = append(kinds, pk(it.ConditionCheck.Key))
			case it.Delete != nil:
				kinds = append(kinds, pk(it.Delete.Key))
			}
		}
		return strings.Join(kinds, "+")
	}
	return ""
}

// StepCalls is what one step of the flow asked of DynamoDB, next to what it may ask
// (Budget, enforced by the test) and what the design needs at the least (Minimum).
type StepCalls struct {
	Step  string
	Calls []string // in the order they were made, e.g. "GetItem client"
	// Budget is the most calls the step may make: what it makes today, so that a
	// change that adds a call fails the test and has to say so here.
	Budget int
	// Minimum is the fewest calls the design allows, and MinimumCalls which they are.
	Minimum      int
	MinimumCalls string
	// ItemBytes is the largest item of each kind the step wrote or read (ItemSize).
	ItemBytes map[string]int
}

// Budgets are the DynamoDB call budgets of the steps of one flow: today's counts,
// and beside them the design's minimum, about one call per step (docs/design.md decisions
// 3, 4 and 7): the one read or conditional write that carries the step. Approval
// needs two, the pushed request (what the code carries) and the transaction that
// consumes it and issues the code and its grant, unless the consent page's read
// travelled in the sealed transaction cookie. Why each step makes the calls it makes:
//
//   - push: the client, read once per instance on a cold cache (CLIENT_CACHE_TTL; a
//     warm instance makes only the writes), the client's rate counter (one ADD,
//     CLIENT_RATE_LIMIT, on by default; docs/design.md decision 23) and the
//     conditional create of the request.
//   - authorize: the strongly consistent read of the pushed request, which is
//     checked (client, expiry, one-time use, client policy) and whose client the
//     sealed transaction cookie then carries.
//   - login: the failure counters of the request, the username and the client IP in
//     one BatchGetItem before the password is checked (NIST SP 800-63B §5.2.2), and
//     the user (the password hash); no re-read of the pushed request, whose client
//     the cookie carries, because the consent page's read and the approval's
//     condition refuse a request that died in between. A successful sign-in deletes
//     the user's counter only when it had failures, and creates the single sign-on
//     session (one conditional PutItem of session#<SHA-256 of the id>; OIDC Core
//     §3.1.2.1): the write that lets every later authorization in the browser skip
//     this step's three calls. A browser without a session cookie costs no session
//     read at /authorize; one with a session reads it and its user (two GetItems,
//     instead of the login's two reads) and writes it at most once per tenth of
//     SESSION_IDLE_TIMEOUT, or when it signs in to a new client (not in this flow).
//   - consent: the pushed request, for the page (scopes, redirect host, details), and
//     to refuse a request consumed, denied or expired since the login; and the
//     user's remembered consent for the client (one GetItem of consent#<SHA-256 of
//     sub and client>; docs/design.md decision 32), none in a first flow. A second
//     flow whose consent is remembered ends here with the code (this step's reads
//     and the approve step's transaction): no page, no approve step. With a live
//     session too, the authorize step answers with the code: the pushed request,
//     the session, its user and the consent read, and the transaction (5 calls for
//     the authorize, login, consent and approve steps' 1 + 3 + 2 + 3).
//   - approve: the pushed request, for what the code carries (redirect URI, PKCE,
//     nonce, scopes), and one TransactWriteItems that consumes it, writes the code and
//     its grant and checks the user item (exists, not disabled, subject and
//     tokens_valid_after as the login read them, carried in the cookie) instead of
//     a GetItem of the user. A user with claims too large for the cookie is read here
//     instead (one call more, not in this flow). After the code, one PutItem
//     remembers the consent (decision 32; not in the transaction, whose failure must
//     not cost the code), skipped for a consent: always client and for
//     authorization_details.
//   - token: the client's rate counter (one ADD) and the conditional consume of the
//     code, which returns it.
var Budgets = []StepCalls{
	{Step: StepPush, Budget: 3, Minimum: 1, MinimumCalls: "PutItem par (conditional create)"},
	{Step: StepAuthorize, Budget: 1, Minimum: 1, MinimumCalls: "GetItem par (strongly consistent)"},
	{Step: StepLogin, Budget: 3, Minimum: 3, MinimumCalls: "BatchGetItem login (the failure counters), GetItem user (the password hash), PutItem session (conditional create)"},
	{Step: StepConsent, Budget: 2, Minimum: 2, MinimumCalls: "GetItem par (scopes for the page; still unconsumed), GetItem consent (remembered?)"},
	{Step: StepApprove, Budget: 3, Minimum: 3, MinimumCalls: "GetItem par, TransactWriteItems par+code+grant+user (consume and issue, conditional; the user checked, not re-read), PutItem consent (remembered)"},
	{Step: StepToken, Budget: 2, Minimum: 1, MinimumCalls: "UpdateItem code (conditional consume, returns the code)"},
}

// SingleItemBudgets are Budgets under dynamo.SingleItemWrites (a global table with
// multi-Region strong consistency, which refuses transactions; docs/multi-region.md):
// the approval's one transaction becomes a read of the user and three conditional
// writes, and the token step reads the pushed request to check that it names the code.
//
//   - approve: the pushed request, the user (strongly consistent, instead of the
//     transaction's condition check), the code and the grant (conditional creates),
//     the consume of the request, which names the code, and the consent (PutItem,
//     as in Budgets).
//   - token: the client's rate counter (as in Budgets), the conditional consume of
//     the code, and the pushed request it names (strongly consistent), which must
//     name it back.
var SingleItemBudgets = []StepCalls{
	Budgets[0], Budgets[1], Budgets[2], Budgets[3],
	{Step: StepApprove, Budget: 6, Minimum: 6, MinimumCalls: "GetItem par, GetItem user, PutItem code, PutItem grant, UpdateItem par (the consume names the code), PutItem consent (remembered)"},
	{Step: StepToken, Budget: 3, Minimum: 2, MinimumCalls: "UpdateItem code (conditional consume), GetItem par (names the code)"},
}

// SecondFlowBudgets are the budgets of a second flow in the same browser (Again):
// the push and the token request as in Budgets, and between them one request where
// the first flow took four (authorize, login, consent, approve: 1 + 3 + 2 + 3 calls):
//
//   - silent: the pushed request, the session and its user (CurrentSession; no slide
//     written, the session was used a moment ago for the same client), the
//     remembered consent, and the transaction that consumes the request and issues
//     the code (docs/design.md decision 32). The consent is not written again.
var SecondFlowBudgets = []StepCalls{
	Budgets[0],
	{Step: StepSilent, Budget: 5, Minimum: 5, MinimumCalls: "GetItem par, GetItem session, GetItem user, GetItem consent, TransactWriteItems par+code+grant+user"},
	Budgets[5],
}

// MinimumCalls is the design's minimum for a complete flow.
func MinimumCalls() int {
	n := 0
	for _, b := range Budgets {
		n += b.Minimum
	}
	return n
}

// Summary renders calls as "2× GetItem client, PutItem par" (sorted by first use).
func Summary(calls []string) string {
	counts := map[string]int{}
	var order []string
	for _, c := range calls {
		if counts[c] == 0 {
			order = append(order, c)
		}
		counts[c]++
	}
	parts := make([]string, 0, len(order))
	for _, c := range order {
		if n := counts[c]; n > 1 {
			parts = append(parts, fmt.Sprintf("%d× %s", n, c))
		} else {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, ", ")
}

// ByOperation totals calls by operation and item kind, sorted by name.
func ByOperation(steps []StepCalls) []string {
	counts := map[string]int{}
	for _, s := range steps {
		for _, c := range s.Calls {
			counts[c]++
		}
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, fmt.Sprintf("%s: %d", n, counts[n]))
	}
	return out
}

// Fixture client and user of CountDynamoDBCalls (and of the load generator's seed).
const (
	ClientID     = "bench-client"
	ClientSecret = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyzABCD"
	RedirectURI  = "https://client.example.com/cb"
	Scope        = "openid"
	Username     = "bench-user"
	Password     = "bench-password-correct-horse"
	// RefreshScope is the scope of a flow that refreshes: OIDC Core §11, "the use of
	// Refresh Tokens is not exclusive to the offline_access use case", but an
	// OpenID provider issues one to an openid request only when offline_access was
	// granted, and "MUST ignore the offline_access request unless the Client is using
	// a response_type value that would result in an Authorization Code being
	// returned" and the prompt "contains consent".
	RefreshScope  = "openid offline_access"
	RefreshPrompt = "consent"
)

// Fixture is the flow of the benchmarks' seed against the server at baseURL; with
// refresh it asks for offline_access (with prompt=consent) and takes StepRefresh.
func Fixture(baseURL string, server Server, refresh bool, tr http.RoundTripper) Config {
	c := Config{BaseURL: baseURL, ClientID: ClientID, ClientSecret: ClientSecret, RedirectURI: RedirectURI,
		Scope: Scope, Username: Username, Password: Password, Server: server, Transport: tr}
	if refresh {
		c.Scope, c.Prompt, c.Refresh = RefreshScope, RefreshPrompt, true
	}
	return c
}

// SeedJSON is the seed file of the benchmarks: the one client, which may refresh
// (a flow gets a refresh token only when it asks for offline_access, so the counted
// flow, which does not, gets none), and the user when withUser is set (its password
// is hashed with argon2id when the seed is imported, which a server pays at start).
func SeedJSON(withUser bool) string {
	users := "[]"
	if withUser {
		users = `[{"username": "` + Username + `", "password": "` + Password + `",
  "claims": {"name": "Bench User", "email": "bench@example.com", "email_verified": true}}]`
	}
	return `{"clients": [{"client_id": "` + ClientID + `", "client_name": "Bench App", "client_secret": "` + ClientSecret + `",
  "token_endpoint_auth_method": "client_secret_basic", "redirect_uris": ["` + RedirectURI + `"],
  "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "scope": "` + RefreshScope + `"}],
 "users": ` + users + `}`
}

// CountDynamoDBCalls serves pargate in this process on 127.0.0.1 over the DynamoDB
// store at endpoint (moto_server or DynamoDB Local), on a table of its own that it
// creates and deletes, runs one complete flow through it, and returns the calls of
// each step with their budgets. The endpoint must be on 127.0.0.1.
func CountDynamoDBCalls(ctx context.Context, endpoint string) ([]StepCalls, error) {
	return countCalls(ctx, endpoint, Budgets, false)
}

// CountDynamoDBCallsSecondFlow runs a complete flow uncounted, then counts the calls
// of a second one in the same browser (Flow.Again), against SecondFlowBudgets.
func CountDynamoDBCallsSecondFlow(ctx context.Context, endpoint string) ([]StepCalls, error) {
	return countCalls(ctx, endpoint, SecondFlowBudgets, true)
}

// CountDynamoDBCallsSingleItem is CountDynamoDBCalls on a store with
// dynamo.SingleItemWrites, against SingleItemBudgets.
func CountDynamoDBCallsSingleItem(ctx context.Context, endpoint string) ([]StepCalls, error) {
	return countCalls(ctx, endpoint, SingleItemBudgets, false, dynamo.SingleItemWrites())
}

// countCalls runs the flow on a store with opts and returns its calls beside budgets;
// with second, those of a second flow in the same browser (Flow.Again).
func countCalls(ctx context.Context, endpoint string, budgets []StepCalls, second bool, opts ...dynamo.Option) ([]StepCalls, error) {
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		return nil, fmt.Errorf("endpoint %q: only http://127.0.0.1 endpoints are used", endpoint)
	}
	counter := &Counter{}
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		APIOptions:   []func(*middleware.Stack) error{counter.Middleware},
	})
	table := "bench-calls-" + strings.ToLower(rand.Text()[:10])
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		return nil, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	}()
	store := dynamo.New(client, table, opts...)
	f, err := seed.Parse([]byte(SeedJSON(true)))
	if err != nil {
		return nil, err
	}
	if err := seed.Import(ctx, store, f); err != nil {
		return nil, err
	}

	issuer, stop, err := serve(store)
	if err != nil {
		return nil, err
	}
	defer stop()

	counter.Take() // table creation and seeding
	counter.TakeSizes()
	got := map[string][]string{}
	sizes := map[string]map[string]int{}
	note := func(step string) { got[step], sizes[step] = counter.Take(), counter.TakeSizes() }
	fl, err := New(Fixture(issuer, Pargate, false, &http.Transport{DisableKeepAlives: true}))
	if err != nil {
		return nil, err
	}
	if second {
		if err := runFlow(ctx, fl, nil); err != nil {
			return nil, err
		}
		fl = fl.Again()
		counter.Take()
		counter.TakeSizes()
	}
	if err := runFlow(ctx, fl, note); err != nil {
		return nil, err
	}
	out := slices.Clone(budgets)
	for i := range out {
		out[i].Calls = got[out[i].Step]
		out[i].ItemBytes = sizes[out[i].Step]
	}
	return out, nil
}

// serve serves pargate's routes over store on a port of 127.0.0.1 in this process
// and returns the issuer (its origin) and the function that stops it.
func serve(store oauth.Store) (issuer string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	issuer = "http://" + ln.Addr().String()
	h, err := handler(issuer, store)
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return issuer, func() { _ = srv.Close() }, nil
}

// handler builds pargate's routes as the local API does, with a fresh ES256 key.
func handler(issuer string, store oauth.Store) (http.Handler, error) {
	cfg, err := config.FromEnv(func(name string) string {
		if name == "ISSUER" {
			return issuer
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		return nil, err
	}
	set, err := keys.NewSet(k)
	if err != nil {
		return nil, err
	}
	var cookieKey [32]byte
	if _, err := rand.Read(cookieKey[:]); err != nil {
		return nil, err
	}
	return app.NewHandler(cfg, app.Parts{
		Store:     store,
		Signer:    keys.NewSigner(keys.Static(set)),
		CookieKey: func(context.Context) ([32]byte, error) { return cookieKey, nil },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Routes(), nil
}

// ErrOverBudget is returned by Check when a step makes more calls than its budget.
var ErrOverBudget = errors.New("over the DynamoDB call budget")

// Check returns an error naming every step over its budget.
func Check(steps []StepCalls) error {
	var errs []error
	for _, s := range steps {
		if len(s.Calls) > s.Budget {
			errs = append(errs, fmt.Errorf("%w: step %s made %d calls (%s), budget %d", ErrOverBudget, s.Step, len(s.Calls), Summary(s.Calls), s.Budget))
		}
	}
	return errors.Join(errs...)
}
