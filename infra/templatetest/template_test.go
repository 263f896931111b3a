// Package templatetest checks properties of template.yaml that cfn-lint does not:
// what this project requires of every resource of a kind.
package templatetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resource is one entry of the template's Resources: its logical id, its Type and the
// lines of its body (indented under it).
type resource struct {
	id, typ string
	body    []string
}

// resources reads the Resources section of template.yaml. The module has no YAML
// library, and the template's layout is regular (two-space indent, one resource per
// key), so a line scan is enough for what these tests ask.
func resources(tb testing.TB) map[string]*resource {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]*resource{}
	var in bool
	var cur *resource
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case line == "Resources:":
			in = true
			continue
		case !in || trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case !strings.HasPrefix(line, " "):
			in, cur = false, nil
			continue
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(trimmed, ":"):
			cur = &resource{id: strings.TrimSuffix(trimmed, ":")}
			out[cur.id] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if t, ok := strings.CutPrefix(line, "    Type: "); ok {
			cur.typ = strings.TrimSpace(t)
		}
		cur.body = append(cur.body, line)
	}
	if len(out) == 0 {
		tb.Fatal("template.yaml: no Resources found")
	}
	return out
}

// value returns the value of the first "key: value" line of the body, trimmed.
func (r *resource) value(key string) (string, bool) {
	for _, line := range r.body {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// TestFunctions_HaveLogGroupsWithRetention: every function writes to a log group the
// stack declares (LoggingConfig.LogGroup), with a retention, in JSON so that Lambda
// filters by the application log level; implicit log groups are kept forever and
// outlive the stack.
func TestFunctions_HaveLogGroupsWithRetention(t *testing.T) {
	res := resources(t)
	var n int
	for id, r := range res {
		if r.typ != "AWS::Serverless::Function" && r.typ != "AWS::Lambda::Function" {
			continue
		}
		n++
		ref, ok := r.value("LogGroup")
		if !ok {
			t.Errorf("%s: no LoggingConfig.LogGroup", id)
			continue
		}
		name, ok := strings.CutPrefix(ref, "!Ref ")
		lg := res[name]
		if !ok || lg == nil || lg.typ != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LogGroup %q is not a !Ref to an AWS::Logs::LogGroup of the stack", id, ref)
			continue
		}
		if v, ok := lg.value("RetentionInDays"); !ok || v == "" {
			t.Errorf("%s: log group %s has no RetentionInDays", id, name)
		}
		if v, _ := lg.value("DeletionPolicy"); v != "Delete" {
			t.Errorf("%s: log group %s has DeletionPolicy %q, want Delete", id, name, v)
		}
		if v, _ := r.value("LogFormat"); v != "JSON" {
			t.Errorf("%s: LogFormat %q, want JSON", id, v)
		}
		if v, _ := r.value("ApplicationLogLevel"); !strings.Contains(v, "LogLevel") {
			t.Errorf("%s: ApplicationLogLevel %q does not follow the LogLevel parameter", id, v)
		}
	}
	if n < 5 {
		t.Errorf("found %d functions in template.yaml, want at least 5", n)
	}
}
