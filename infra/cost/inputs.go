// Package cost is the cost model of a deployment (make cost, docs/cost.md): measured
// figures of one flow - the functions' CPU and durations in the Lambda emulator, the
// argon2id check on one core, the DynamoDB calls and item sizes - at list prices.
// The measurements are checked in (infra/cost/inputs); `make cost-measure` takes
// them again, `make cost` renders docs/cost.md and docs/cost.svg from them.
package cost

// Step names of one complete flow, as the emulator measures them (the same six
// steps as infra/bench/flow.Steps), with the function that serves each.
var FlowSteps = []struct{ Step, Function, Route string }{
	{"push", "par", "POST /par"},
	{"authorize", "authorize", "GET /authorize (login page)"},
	{"login", "authorize", "POST /authorize (password check)"},
	{"consent", "authorize", "GET /authorize (consent page)"},
	{"approve", "authorize", "POST /authorize (code issued)"},
	{"token", "token", "POST /token (code exchange)"},
}

// Emulator is what infra/lambdaemu/stack BenchmarkFlowCost measured: each step's
// invocation through the real bootstrap in the local Lambda Runtime API, warm,
// against moto_server, as medians over Flows flows.
type Emulator struct {
	// Machine and GOARCH the bootstraps ran on (CPU model, cores).
	Machine string `json:"machine"`
	GOARCH  string `json:"goarch"`
	// Flows measured.
	Flows int             `json:"flows"`
	Steps map[string]Step `json:"steps"`
}

// Step is the median of one step's invocations.
type Step struct {
	// CPUMillis: CPU time of the function process during the invocation (every
	// thread, user and system).
	CPUMillis float64 `json:"cpu_ms"`
	// WallMillis: the invocation's Duration (event handed over to result), on a
	// machine where CPU was not capped.
	WallMillis float64 `json:"wall_ms"`
	// LogBytes: bytes the function (and the platform's REPORT line) wrote to its log.
	LogBytes int `json:"log_bytes"`
	// ResponseBytes: the response's body and headers as the API sends them.
	ResponseBytes int `json:"response_bytes"`
}

// DynamoDB is what infra/bench/flow TestDynamoDBCallsPerFlow counted in one flow on
// the DynamoDB store (-calls.out): each step's calls, and the largest item it saw of
// each kind (key prefix), in DynamoDB's item size (names and values).
type DynamoDB struct {
	Steps     []DynamoDBStep `json:"steps"`
	ItemBytes map[string]int `json:"item_bytes"`
}

// DynamoDBStep is one step's calls, e.g. "GetItem client",
// "TransactWriteItems par+code+grant+user", "BatchGetItem login+login+login".
type DynamoDBStep struct {
	Step  string   `json:"step"`
	Calls []string `json:"calls"`
}
