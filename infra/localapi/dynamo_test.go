package main

// End-to-end runs over STORE=dynamodb (moto_server), over the harness of
// harness_test.go.

import (
	"os"
	"os/exec"
	"testing"
)

// TestOnDynamoDB runs the happy path and the concurrent approvals with
// STORE=dynamodb: the local API starts moto_server itself (DYNAMODB_ENDPOINT unset)
// and stops it on Close. Over a real DynamoDB API the window between reading the
// pushed request and issuing the code is wide, so the conditional write is what
// keeps the code unique.
func TestOnDynamoDB(t *testing.T) {
	localOnly(t, localServer)
	if _, err := exec.LookPath("moto_server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto_server is required under CI=true: %v", err)
		}
		t.Skipf("moto_server is not installed: %v", err)
	}
	before := childMotoServers()
	l := start(t, map[string]string{"STORE": "dynamodb", "TABLE_NAME": "pargate-e2e"})
	started := childMotoServers()
	if len(started) != len(before)+1 {
		t.Errorf("STORE=dynamodb started %d moto_server processes, want 1", len(started)-len(before))
	}

	t.Run("PushedAuthorizationCodeFlowEndToEnd", func(t *testing.T) { happyPath(t, l) })
	// 20 at once, not the in-memory test's 50: on a busy machine 50 queued up on moto
	// past the store's 2 s call deadline and lost with a 503 page, which is right
	// under an outage but not what this test is about.
	t.Run("ConcurrentApprovalsIssueExactlyOneCode", func(t *testing.T) { concurrentApprovals(t, l, 20) })

	l.srv.Close()
	for _, pid := range started {
		if processGroupAlive(pid) {
			t.Errorf("moto_server (pid %d) or its workers still run after Close", pid)
		}
	}
}

// TestOnDynamoDB_SingleItemWrites runs the flow end to end on the DynamoDB store
// without transactions (DYNAMODB_SINGLE_ITEM_WRITES=true, the store of a multi-Region
// table; docs/multi-region.md): the code is issued and redeemed, and of concurrent
// approvals of one request exactly one gets a code (RFC 9126 §4).
func TestOnDynamoDB_SingleItemWrites(t *testing.T) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto_server is required under CI=true: %v", err)
		}
		t.Skipf("moto_server is not installed: %v", err)
	}
	vars := map[string]string{"STORE": "dynamodb", "DYNAMODB_SINGLE_ITEM_WRITES": "true"}
	if target == "local" {
		// On the lambda target each start creates its own table, which the
		// functions' TABLE_NAME names; a name set here would override it.
		vars["TABLE_NAME"] = "pargate-e2e-single"
	}
	l := start(t, vars)
	t.Run("PushedAuthorizationCodeFlowEndToEnd", func(t *testing.T) { happyPath(t, l) })
	// Each approval makes five calls one after another here, against two with a
	// transaction.
	t.Run("RFC9126_4_ConcurrentApprovalsIssueExactlyOneCode", func(t *testing.T) { concurrentApprovals(t, l, 20) })
}
