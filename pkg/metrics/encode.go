package metrics

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"time"
)

// The EMF document, appended by hand. It is the document encoding/json made of the
// map the emitter used to build (metrics_internal_test.go checks byte for byte):
// the root members sorted by name, the _aws metadata's members in declaration order.

// bufPool holds line buffers; one over maxPooled is dropped rather than kept.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooled = 16 << 10

// member is one root member: a string value, an integer value (1), or the latency.
type member struct {
	name  string
	str   string
	kind  byte // 's' string, '1' the number 1, 'f' latency
	float float64
}

// maxMembers bounds the root members kept on the stack: Service, Route, Outcome,
// Requests, Latency, ErrorCode, Errors and the counters.
const maxMembers = 16

// appendDocument appends the EMF document of r, newline-terminated, to b.
func (e *Emitter) appendDocument(b []byte, r Request) []byte {
	// EMF: dimension values "MUST NOT be empty".
	route, outcome := nonEmpty(r.Route, "other"), nonEmpty(r.Outcome, "unknown")
	var stack [maxMembers]member
	root := stack[:0]
	root = append(root,
		member{name: DimService, str: e.service, kind: 's'},
		member{name: DimRoute, str: route, kind: 's'},
		member{name: DimOutcome, str: outcome, kind: 's'},
		member{name: Requests, kind: '1'},
		// Microsecond precision; CloudWatch keeps the value as a double.
		member{name: Latency, kind: 'f', float: math.Round(float64(r.Latency)/float64(time.Microsecond)) / 1000},
	)
	if r.ErrorCode != "" {
		root = append(root, member{name: DimErrorCode, str: r.ErrorCode, kind: 's'}, member{name: Errors, kind: '1'})
	}
	fixed := len(root)
	for _, name := range r.Counters {
		if has(root, name) {
			continue
		}
		root = append(root, member{name: name, kind: '1'})
	}
	counters := root[fixed:]
	// Sorted by name, as encoding/json writes a map; the _aws member sorts among
	// them ("_" after the upper-case letters, before the lower-case ones).
	var sortedStack [maxMembers]member
	sorted := sortedStack[:0]
	if len(root) > maxMembers {
		sorted = make([]member, 0, len(root)) // more counters than ever sent
	}
	sorted = sortMembers(append(sorted, root...))
	b = append(b, '{')
	awsDone := false
	for i := range sorted {
		m := &sorted[i]
		if !awsDone && "_aws" < m.name {
			b = e.appendAWS(b, r, counters)
			b = append(b, ',')
			awsDone = true
		}
		b = appendString(b, m.name)
		b = append(b, ':')
		switch m.kind {
		case 's':
			b = appendString(b, m.str)
		case '1':
			b = append(b, '1')
		default:
			b = appendFloat(b, m.float)
		}
		b = append(b, ',')
	}
	if !awsDone {
		b = e.appendAWS(b, r, counters)
	} else {
		b = b[:len(b)-1]
	}
	return append(b, '}', '\n')
}

// sortMembers sorts ms by name in place (insertion sort: a dozen members at most).
func sortMembers(ms []member) []member {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].name < ms[j-1].name; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	return ms
}

func has(ms []member, name string) bool {
	for i := range ms {
		if ms[i].name == name {
			return true
		}
	}
	return false
}

// appendAWS appends the "_aws" member: the metadata object (EMF specification:
// "Metadata object") with its MetricDirectives.
func (e *Emitter) appendAWS(b []byte, r Request, counters []member) []byte {
	b = append(b, `"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, e.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[`...)
	b = appendDirective(b, [][]string{{DimService, DimRoute}, {DimService, DimRoute, DimOutcome}}, Requests, UnitCount)
	b = append(b, ',')
	b = appendDirective(b, [][]string{{DimService, DimRoute}}, Latency, UnitMilliseconds)
	if r.ErrorCode != "" {
		b = append(b, ',')
		b = appendDirective(b, [][]string{{DimService, DimErrorCode}}, Errors, UnitCount)
	}
	if len(counters) > 0 {
		b = append(b, `,{"Namespace":`...)
		b = appendString(b, Namespace)
		b = append(b, `,"Dimensions":[[`...)
		b = appendString(b, DimService)
		b = append(b, `]],"Metrics":[`...)
		for i, m := range counters {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMetric(b, m.name, UnitCount)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

func appendDirective(b []byte, dims [][]string, name, unit string) []byte {
	b = append(b, `{"Namespace":`...)
	b = appendString(b, Namespace)
	b = append(b, `,"Dimensions":[`...)
	for i, set := range dims {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, d := range set {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, d)
		}
		b = append(b, ']')
	}
	b = append(b, `],"Metrics":[`...)
	b = appendMetric(b, name, unit)
	return append(b, "]}"...)
}

func appendMetric(b []byte, name, unit string) []byte {
	b = append(b, `{"Name":`...)
	b = appendString(b, name)
	b = append(b, `,"Unit":`...)
	b = appendString(b, unit)
	return append(b, '}')
}

// appendString appends s as encoding/json writes it: plain printable ASCII as is,
// anything else (quotes, backslashes, HTML characters, control characters,
// non-ASCII) through encoding/json itself, which is rare: the values are fixed names
// and the deployment's SERVICE_NAME.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFloat appends f as encoding/json writes a float64 (its floatEncoder): 'f'
// format, or 'e' outside [1e-6, 1e21) with a two-digit exponent trimmed.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0') // cannot happen: a rounded duration
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
