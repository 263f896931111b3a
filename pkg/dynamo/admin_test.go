package dynamo_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func TestAdmin_CreateClientRefusesATakenID(t *testing.T) {
	s := dynamotest.NewStore(t)
	c := oauthtest.Client(t)
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	other := *c
	other.Name = "Impostor"
	if err := s.CreateClient(t.Context(), &other); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("second CreateClient = %v, want ErrConflict", err)
	}
	got, err := s.GetClient(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("after a refused create the client is\n%+v\nwant\n%+v", got, c)
	}
}

func TestAdmin_ReplaceClientOnlyReplacesAnExistingClient(t *testing.T) {
	s := dynamotest.NewStore(t)
	c := oauthtest.Client(t)
	if err := s.ReplaceClient(t.Context(), c); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("ReplaceClient of a missing client = %v, want ErrNotFound", err)
	}
	if _, err := s.GetClient(t.Context(), c.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("a refused replace created the client: GetClient = %v", err)
	}
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	changed := *c
	changed.RedirectURIs = []string{"https://client.example.org/new"}
	if err := s.ReplaceClient(t.Context(), &changed); err != nil {
		t.Fatalf("ReplaceClient: %v", err)
	}
	got, err := s.GetClient(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &changed) {
		t.Errorf("replaced client is\n%+v\nwant\n%+v", got, &changed)
	}
}

func TestAdmin_DeleteClientThenGetIsNotFound(t *testing.T) {
	s := dynamotest.NewStore(t)
	c := oauthtest.Client(t)
	if err := s.DeleteClient(t.Context(), c.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("DeleteClient of a missing client = %v, want ErrNotFound", err)
	}
	if err := s.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(t.Context(), c.ID); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if _, err := s.GetClient(t.Context(), c.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("GetClient after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteClient(t.Context(), c.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("second DeleteClient = %v, want ErrNotFound", err)
	}
}

// The table also holds users, pushed requests and codes: a list returns only its kind.
func TestAdmin_ListsReturnOnlyTheirKindInOrder(t *testing.T) {
	s := dynamotest.NewStore(t)
	ctx := t.Context()
	if clients, err := s.ListClients(ctx); err != nil || len(clients) != 0 {
		t.Fatalf("ListClients of an empty table = %v, %v", clients, err)
	}
	for _, id := range []string{"zeta", "alpha", "mid"} {
		c := oauthtest.Client(t)
		c.ID = id
		if err := s.PutClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"bob", "alice"} {
		u := oauthtest.User(t)
		u.Username = name
		if err := s.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreatePushedRequest(ctx, oauthtest.PushedRequest(t, time.Now())); err != nil {
		t.Fatal(err)
	}

	clients, err := s.ListClients(ctx)
	if err != nil {
		t.Fatalf("ListClients: %v", err)
	}
	var ids []string
	for _, c := range clients {
		ids = append(ids, c.ID)
	}
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(ids, want) {
		t.Errorf("ListClients ids = %v, want %v", ids, want)
	}
	if want := oauthtest.Client(t); !reflect.DeepEqual(clients[0].SecretHash, want.SecretHash) || string(clients[0].JWKS) != string(want.JWKS) {
		t.Errorf("listed client lost fields: %+v", clients[0])
	}

	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if want := []string{"alice", "bob"}; !slices.Equal(names, want) {
		t.Errorf("ListUsers names = %v, want %v", names, want)
	}
	if !reflect.DeepEqual(users[0].Claims, oauthtest.User(t).Claims) {
		t.Errorf("listed user claims = %v", users[0].Claims)
	}
}

func TestAdmin_CreateUserRefusesATakenUsername(t *testing.T) {
	s := dynamotest.NewStore(t)
	u := oauthtest.User(t)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	other := *u
	other.PasswordHash = "$argon2id$other"
	if err := s.CreateUser(t.Context(), &other); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("second CreateUser = %v, want ErrConflict", err)
	}
	got, err := s.GetUser(t.Context(), u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != u.PasswordHash {
		t.Errorf("a refused create changed the password hash to %q", got.PasswordHash)
	}
}

func TestAdmin_SetUserPasswordAndDisabledChangeOnlyThatAttribute(t *testing.T) {
	s := dynamotest.NewStore(t)
	ctx := t.Context()
	u := oauthtest.User(t)
	if _, err := s.SetUserPassword(ctx, u.Username, "$argon2id$x"); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("SetUserPassword of a missing user = %v, want ErrNotFound", err)
	}
	if _, err := s.SetUserDisabled(ctx, u.Username, true); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("SetUserDisabled of a missing user = %v, want ErrNotFound", err)
	}
	if _, err := s.GetUser(ctx, u.Username); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("a refused update created the user: GetUser = %v", err)
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	before := time.Now().Truncate(time.Millisecond)
	got, err := s.SetUserPassword(ctx, u.Username, "$argon2id$new")
	if err != nil {
		t.Fatalf("SetUserPassword: %v", err)
	}
	// A password change cuts the user's grants off: tokens_valid_after moves to now.
	if tva := got.TokensValidAfter; tva.Before(before) || tva.After(time.Now()) {
		t.Errorf("SetUserPassword left tokens_valid_after at %v, want now (after %v)", tva, before)
	}
	want := *u
	want.PasswordHash = "$argon2id$new"
	want.TokensValidAfter = got.TokensValidAfter
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("SetUserPassword returned\n%+v\nwant\n%+v", got, &want)
	}

	got, err = s.SetUserDisabled(ctx, u.Username, true)
	if err != nil {
		t.Fatalf("SetUserDisabled: %v", err)
	}
	// Disabling cuts the grants off too, so enabling again revives none of them.
	if got.TokensValidAfter.Before(want.TokensValidAfter) {
		t.Errorf("SetUserDisabled moved tokens_valid_after back to %v", got.TokensValidAfter)
	}
	want.Disabled = true
	want.TokensValidAfter = got.TokensValidAfter
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("SetUserDisabled returned\n%+v\nwant\n%+v", got, &want)
	}
	stored, err := s.GetUser(ctx, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, &want) {
		t.Errorf("stored user is\n%+v\nwant\n%+v", stored, &want)
	}
	if got, err := s.SetUserDisabled(ctx, u.Username, false); err != nil || got.Disabled || !got.TokensValidAfter.Equal(want.TokensValidAfter) {
		t.Errorf("SetUserDisabled(false) = %+v, %v; want enabled with tokens_valid_after kept at %v", got, err, want.TokensValidAfter)
	}
}

func TestAdmin_DeleteUserThenGetIsNotFound(t *testing.T) {
	s := dynamotest.NewStore(t)
	u := oauthtest.User(t)
	if err := s.DeleteUser(t.Context(), u.Username); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("DeleteUser of a missing user = %v, want ErrNotFound", err)
	}
	if err := s.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(t.Context(), u.Username); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.GetUser(t.Context(), u.Username); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("GetUser after delete = %v, want ErrNotFound", err)
	}
}
