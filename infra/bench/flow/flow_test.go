package flow_test

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/pargate/pargate/infra/bench/flow"
	"github.com/pargate/pargate/infra/cost"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
)

var callsOut = flag.String("calls.out", "", "TestDynamoDBCallsPerFlow writes the calls and item sizes of the flow (infra/cost.DynamoDB JSON) to this file")

func TestMain(m *testing.M) { dynamotest.Main(m) }

// TestDynamoDBCallsPerFlow runs one complete flow (push, authorize, login, consent
// page, approve, token) on the DynamoDB store through moto_server and counts the
// SDK calls of each step. Each step must stay within its budget (flow.Budgets);
// the design's minimum is about one call per step.
func TestDynamoDBCallsPerFlow(t *testing.T) {
	steps, err := flow.CountDynamoDBCalls(t.Context(), dynamotest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, steps)
	if *callsOut != "" {
		writeCalls(t, steps, *callsOut)
	}
}

// TestDynamoDBCallsPerFlow_SingleItemWrites counts the same flow on a store without
// transactions (dynamo.SingleItemWrites, for a global table with multi-Region strong
// consistency), against flow.SingleItemBudgets.
func TestDynamoDBCallsPerFlow_SingleItemWrites(t *testing.T) {
	steps, err := flow.CountDynamoDBCallsSingleItem(t.Context(), dynamotest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, steps)
}

// TestDynamoDBCallsPerFlow_SecondFlowInTheSameBrowser counts a second flow in the
// browser of a first one (OIDC Core §3.1.2.1; docs/design.md decision 32): the session
// and the remembered consent answer the authorization request with the code, so the
// login, consent and approve steps are gone, against flow.SecondFlowBudgets.
func TestDynamoDBCallsPerFlow_SecondFlowInTheSameBrowser(t *testing.T) {
	steps, err := flow.CountDynamoDBCallsSecondFlow(t.Context(), dynamotest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, steps)
}

// checkSteps logs each step's calls and fails a step below the design's minimum or
// over its budget.
func checkSteps(t *testing.T, steps []flow.StepCalls) {
	t.Helper()
	total, budget, minimum := 0, 0, 0
	for _, s := range steps {
		t.Logf("%-9s %d calls (budget %d, design minimum %d: %s): %s",
			s.Step, len(s.Calls), s.Budget, s.Minimum, s.MinimumCalls, flow.Summary(s.Calls))
		if len(s.Calls) < s.Minimum {
			t.Errorf("step %s made %d calls, fewer than the %d the design needs (%s): is the step still doing its job?",
				s.Step, len(s.Calls), s.Minimum, s.MinimumCalls)
		}
		total += len(s.Calls)
		budget += s.Budget
		minimum += s.Minimum
	}
	t.Logf("flow: %d calls (budget %d, design minimum %d)", total, budget, minimum)
	if err := flow.Check(steps); err != nil {
		t.Error(err)
	}
}

// writeCalls writes what the cost model (infra/cost, make cost) reads of the flow's
// DynamoDB calls.
func writeCalls(t *testing.T, steps []flow.StepCalls, path string) {
	out := cost.DynamoDB{ItemBytes: map[string]int{}}
	for _, s := range steps {
		out.Steps = append(out.Steps, cost.DynamoDBStep{Step: s.Step, Calls: s.Calls})
		for kind, n := range s.ItemBytes {
			out.ItemBytes[kind] = max(out.ItemBytes[kind], n)
		}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
