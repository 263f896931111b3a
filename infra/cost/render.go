package cost

import (
	"fmt"
	"strings"
)

// MemorySizes are the Authorize memory sizes the table compares; AuthorizeMemoryMB
// is the one the template deploys (template.yaml AuthorizeFunction MemorySize, which
// a test keeps equal).
var MemorySizes = []int{512, 1024, 1769}

const AuthorizeMemoryMB = 1024

// AuthorizeTable is the Markdown table of the Authorize function at MemorySizes.
func AuthorizeTable(in Inputs) string {
	var b strings.Builder
	b.WriteString("| Authorize memory | vCPU | login (`POST /authorize`, argon2id) | the 4 `/authorize` steps of a flow | GB-s per flow | $ per million flows (Authorize: duration and requests) |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, s := range in.AuthorizeSizes(MemorySizes...) {
		mark := ""
		if s.MemoryMB == AuthorizeMemoryMB {
			mark = " (template)"
		}
		fmt.Fprintf(&b, "| %d MB%s | %.2f | %.0f ms | %.0f ms | %.4f | $%.2f |\n",
			s.MemoryMB, mark, s.VCPU, s.LoginMillis, s.FlowMillis, s.GBSecondsFlow, s.DollarsMillion)
	}
	return b.String()
}
