package flow_test

import (
	"testing"

	"github.com/pargate/pargate/infra/bench/flow"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
)

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
