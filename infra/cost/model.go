package cost

import (
	"fmt"
	"math"
	"strings"
)

// Assumptions of the model that are not measurements (docs/cost.md lists them).
const (
	// FunctionMemoryMB of the functions other than Authorize (template Globals).
	FunctionMemoryMB = 256
	// RequestsPerFlow through API Gateway (and CloudFront): /par, 2 GET and 2 POST
	// /authorize, /token.
	RequestsPerFlow = 6
	// AccessLogBytesPerRequest: one line of the API's access log (template
	// AccessLogSettings, typical values).
	AccessLogBytesPerRequest = 450
	// XRaySampled: the share of requests X-Ray records at volume (its default rule:
	// the first request each second, then 5 %).
	XRaySampled = 0.05
	// FlowsPerUserPerMonth converts flows to monthly active users for the per-MAU
	// prices of Cognito and Auth0.
	FlowsPerUserPerMonth = 4
	// Alarm metrics the template creates (each alarm's metrics; metric math alarms
	// count each metric they read).
	AlarmMetrics = 13
	// Secrets the stack keeps (signing keys, cookie key, DPoP nonce key).
	Secrets = 3
	// WAFRules: the five rate-based rules and the managed rule group.
	WAFRules = 6
	// FAPIJWSPerFlow: the signatures the FAPI profile adds to a flow (a
	// private_key_jwt assertion and a DPoP proof at /par and at /token), each also a
	// conditional PutItem of its jti (replay#, under 1 KB).
	FAPIJWSPerFlow = 4
)

// Profile is a security profile the model prices.
type Profile string

const (
	ProfileDefault Profile = "default"
	ProfileFAPI    Profile = "fapi2"
)

// LineItem is one line of the bill: dollars per million flows.
type LineItem struct {
	Name    string
	Default float64
	FAPI    float64
	How     string // what it is made of
}

// Units are the DynamoDB request units of one flow.
type Units struct{ Read, Write float64 }

// DynamoDBUnits prices the flow's calls: a strongly consistent read is one read unit
// per 4 KB, a missing item one; a write one write unit per 1 KB; every item of a
// transaction twice that. Item sizes are the largest of each kind the flow saw (1
// unit where none was seen).
func (in Inputs) DynamoDBUnits() (Units, error) {
	var u Units
	readUnits := func(kind string) float64 { return math.Max(1, math.Ceil(float64(in.DynamoDB.ItemBytes[kind])/4096)) }
	writeUnits := func(kind string) float64 { return math.Max(1, math.Ceil(float64(in.DynamoDB.ItemBytes[kind])/1024)) }
	for _, s := range in.DynamoDB.Steps {
		for _, call := range s.Calls {
			op, kinds, _ := strings.Cut(call, " ")
			for _, kind := range strings.Split(kinds, "+") {
				switch op {
				case "GetItem", "BatchGetItem":
					u.Read += readUnits(kind)
				case "PutItem", "UpdateItem", "DeleteItem":
					u.Write += writeUnits(kind)
				case "TransactWriteItems":
					u.Write += 2 * writeUnits(kind)
				default:
					return u, fmt.Errorf("DynamoDB call %q: no price for %s", call, op)
				}
			}
		}
	}
	return u, nil
}

// memoryOf is the memory the template gives the function of a step.
func memoryOf(function string) int {
	if function == "authorize" {
		return AuthorizeMemoryMB
	}
	return FunctionMemoryMB
}

// StepCost is one step of the flow on Lambda.
type StepCost struct {
	Step, Function, Route string
	MemoryMB              int
	CPUMillis, Millis     float64
	GBSeconds             float64
	LogBytes, RespBytes   int
}

// Steps are the flow's steps on Lambda at the template's memory sizes.
func (in Inputs) Steps() []StepCost {
	out := make([]StepCost, 0, len(FlowSteps))
	for _, s := range FlowSteps {
		mb := memoryOf(s.Function)
		d := in.StepMillis(s.Step, mb)
		m := in.Emulator.Steps[s.Step]
		out = append(out, StepCost{Step: s.Step, Function: s.Function, Route: s.Route, MemoryMB: mb,
			CPUMillis: in.StepCPU(s.Step), Millis: d, GBSeconds: GBSeconds(d, mb),
			LogBytes: m.LogBytes, RespBytes: m.ResponseBytes})
	}
	return out
}

// FAPIExtraMillis is what the FAPI profile adds to the /par and /token invocations
// (at FunctionMemoryMB): the signature checks' CPU and the wait of one conditional
// PutItem each (the push's wait, which is one PutItem on a warm client cache).
func (in Inputs) FAPIExtraMillis(jwsCPU float64) (perSignature float64) {
	return jwsCPU/VCPU(FunctionMemoryMB) + in.StepWait("push")
}

// Bill is the line items per million flows, for both profiles, without and with
// CloudFront and WAF.
type Bill struct {
	Items      []LineItem // the stack without CloudFront
	Edge       []LineItem // what CloudFront=true adds
	Units      Units
	FixedMonth float64 // without CloudFront
	EdgeMonth  float64 // what CloudFront=true adds a month
}

// Total of items for a profile.
func Total(items []LineItem, p Profile) float64 {
	t := 0.0
	for _, it := range items {
		if p == ProfileFAPI {
			t += it.FAPI
		} else {
			t += it.Default
		}
	}
	return t
}

// Price is the bill of one million flows.
func (in Inputs) Price() (Bill, error) {
	units, err := in.DynamoDBUnits()
	if err != nil {
		return Bill{}, err
	}
	const M = 1e6
	var gbs, logBytes, respBytes float64
	for _, s := range in.Steps() {
		gbs += s.GBSeconds
		logBytes += float64(s.LogBytes)
		respBytes += float64(s.RespBytes)
	}
	extra := in.FAPIExtraMillis(in.JWSVerify)
	// Two signatures in each of the /par and /token invocations.
	fapiGBs := gbs
	for _, step := range []string{"push", "token"} {
		d := in.StepMillis(step, FunctionMemoryMB)
		fapiGBs += GBSeconds(d+2*extra, FunctionMemoryMB) - GBSeconds(d, FunctionMemoryMB)
	}
	logs := (logBytes + RequestsPerFlow*AccessLogBytesPerRequest) / (1 << 30)
	same := func(name string, v float64, how string) LineItem { return LineItem{name, v, v, how} }
	b := Bill{Units: units}
	b.Items = []LineItem{
		same("API Gateway HTTP API requests", M*RequestsPerFlow*HTTPAPIPerRequest, fmt.Sprintf("%d requests a flow", RequestsPerFlow)),
		same("Lambda requests", M*RequestsPerFlow*LambdaPerRequest, fmt.Sprintf("%d invocations a flow", RequestsPerFlow)),
		{"Lambda duration (arm64)", M * gbs * LambdaPerGBSecond, M * fapiGBs * LambdaPerGBSecond,
			fmt.Sprintf("%.4f GB-s a flow (fapi2: %.4f)", gbs, fapiGBs)},
		{"DynamoDB writes", M * units.Write * DynamoDBPerWRU, M * (units.Write + FAPIJWSPerFlow) * DynamoDBPerWRU,
			fmt.Sprintf("%.0f write units a flow (fapi2: %.0f, the jti records)", units.Write, units.Write+FAPIJWSPerFlow)},
		same("DynamoDB reads", M*units.Read*DynamoDBPerRRU, fmt.Sprintf("%.0f read units a flow", units.Read)),
		same("CloudWatch Logs ingestion", M*logs*LogsPerGB, fmt.Sprintf("%.0f bytes a flow (functions %.0f, access log %d)", logBytes+RequestsPerFlow*AccessLogBytesPerRequest, logBytes, RequestsPerFlow*AccessLogBytesPerRequest)),
		same("X-Ray traces", M*RequestsPerFlow*XRaySampled*XRayPerTrace, fmt.Sprintf("%.0f %% of %d traces a flow", XRaySampled*100, RequestsPerFlow)),
	}
	b.Edge = []LineItem{
		same("CloudFront requests", M*RequestsPerFlow*CloudFrontPerRequest, fmt.Sprintf("%d HTTPS requests a flow", RequestsPerFlow)),
		same("CloudFront data out", M*respBytes/(1<<30)*CloudFrontPerGBOut, fmt.Sprintf("%.0f bytes of responses a flow", respBytes)),
		same("WAF requests", M*RequestsPerFlow*WAFPerRequest, fmt.Sprintf("%d requests inspected a flow", RequestsPerFlow)),
	}
	b.FixedMonth = Secrets*SecretPerMonth + AlarmMetrics*AlarmMetricPerMonth
	b.EdgeMonth = WAFWebACLPerMonth + WAFRules*WAFRulePerMonth
	return b, nil
}

// Monthly is a deployment's bill for flows a month: fixed plus per flow.
func (b Bill) Monthly(flows float64, p Profile, edge bool) float64 {
	v := b.FixedMonth + flows/1e6*Total(b.Items, p)
	if edge {
		v += b.EdgeMonth + flows/1e6*Total(b.Edge, p)
	}
	return v
}

// Cognito is Amazon Cognito Essentials for the users of flows a month.
func Cognito(flows float64) float64 {
	return math.Max(0, flows/FlowsPerUserPerMonth-CognitoFreeMAU) * CognitoEssentialsPerMAU
}

// Auth0 is Auth0 B2C Essentials' per-MAU rate for the users of flows a month.
func Auth0(flows float64) float64 {
	return flows / FlowsPerUserPerMonth * Auth0EssentialsPerMonth / Auth0EssentialsMAU
}
