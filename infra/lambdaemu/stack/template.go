package stack

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu"
)

// Template is what template.yaml and the Makefile say about how each function runs:
// its memory, timeout and environment (Globals and its own), and which LogicalId
// builds functions/<dir>. The local functions get exactly this, so the contract tests
// follow the template as it changes.
type Template struct {
	// Parameters holds each parameter's Default.
	Parameters map[string]string
	// Global is Globals.Function.
	Global FunctionSpec
	// Functions holds the AWS::Serverless::Function resources' own settings, by LogicalId.
	Functions map[string]FunctionSpec
	// LogicalIDs maps a directory under functions/ to its LogicalId (the Makefile's
	// FUNCTIONS, which sam build's build-<LogicalId> targets use).
	LogicalIDs map[string]string
	// Conditions holds each condition as written (one line: "!Equals [!Ref A, b]").
	Conditions map[string]string
	// Rules holds the template's Rules, by name.
	Rules map[string]*Rule
	// pseudo overrides pseudoParameters (WithParameters with "AWS::Region": a
	// deployment in another Region).
	pseudo map[string]string
}

// Rule is one of the template's Rules: its RuleCondition (empty: always) and its
// assertions, each as written on one line.
type Rule struct {
	Condition  string
	Assertions []Assertion
}

// Assertion is one Assert of a rule with its AssertDescription.
type Assertion struct {
	Assert, Description string
}

// FunctionSpec is one function's settings, or the global ones; zero means unset.
type FunctionSpec struct {
	MemoryMB int
	Timeout  time.Duration
	// Env holds the variables as written: a literal, "!Ref Name" or another
	// intrinsic function ("!If", "!Sub", …).
	Env map[string]string
}

// LoadTemplate reads template.yaml and the Makefile of the module at root.
func LoadTemplate(root string) (*Template, error) {
	yml, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	t, err := ParseTemplate(yml)
	if err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`(?m)^FUNCTIONS\s*:?=\s*(.+)$`).FindSubmatch(mk)
	if m == nil {
		return nil, fmt.Errorf("parse Makefile: no FUNCTIONS := Name:dir …")
	}
	for _, pair := range strings.Fields(string(m[1])) {
		name, dir, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("parse Makefile: FUNCTIONS entry %q is not Name:dir", pair)
		}
		t.LogicalIDs[dir] = name + "Function"
	}
	return t, nil
}

var (
	keyLine    = regexp.MustCompile(`^( *)(- +)?([A-Za-z0-9_:]+):(?: +(.*))?$`)
	blockValue = regexp.MustCompile(`^[>|][-+]?$`)
)

// ParseTemplate reads the few things [Template] holds from a SAM template. It is not
// a YAML parser: it follows block mappings by indentation, which is how
// template.yaml is written, skips block scalars (Description: >-), and records the
// first line of a multi-line value (ISSUER: !If …) as written.
func ParseTemplate(yml []byte) (*Template, error) {
	t := &Template{Parameters: map[string]string{}, Functions: map[string]FunctionSpec{}, LogicalIDs: map[string]string{},
		Conditions: map[string]string{}, Rules: map[string]*Rule{}}
	type level struct {
		indent int
		key    string
	}
	var stack []level
	skipDeeperThan := -1 // inside a block scalar: lines indented more than this
	sc := bufio.NewScanner(bytes.NewReader(yml))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t")
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if skipDeeperThan >= 0 && indent > skipDeeperThan {
			continue
		}
		skipDeeperThan = -1
		m := keyLine.FindStringSubmatch(line)
		if m == nil {
			continue // a list item or a continuation of a value
		}
		listItem := m[2] != ""
		if listItem { // "- Key: …" opens a mapping inside a list item
			indent += len(m[2])
		}
		key, value := m[3], unquote(m[4])
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{indent, key})
		if blockValue.MatchString(value) {
			skipDeeperThan = indent
			continue
		}
		path := make([]string, len(stack))
		for i, l := range stack {
			path[i] = l.key
		}
		if err := t.set(path, value, listItem); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	return t, sc.Err()
}

func (t *Template) set(path []string, value string, listItem bool) error {
	switch {
	case len(path) == 2 && path[0] == "Conditions":
		t.Conditions[path[1]] = value
	case len(path) >= 2 && path[0] == "Rules":
		r := t.Rules[path[1]]
		if r == nil {
			r = &Rule{}
			t.Rules[path[1]] = r
		}
		switch {
		case len(path) == 3 && path[2] == "RuleCondition":
			r.Condition = value
		case len(path) == 4 && path[2] == "Assertions" && path[3] == "Assert":
			if !listItem && len(r.Assertions) > 0 {
				return fmt.Errorf("rule %s: Assert outside a list item", path[1])
			}
			r.Assertions = append(r.Assertions, Assertion{Assert: value})
		case len(path) == 4 && path[2] == "Assertions" && path[3] == "AssertDescription":
			if listItem || len(r.Assertions) == 0 {
				return fmt.Errorf("rule %s: AssertDescription before its Assert", path[1])
			}
			r.Assertions[len(r.Assertions)-1].Description = value
		}
	case len(path) == 3 && path[0] == "Parameters" && path[2] == "Default":
		t.Parameters[path[1]] = value
	case len(path) >= 3 && path[0] == "Globals" && path[1] == "Function":
		return t.Global.set(path[2:], value)
	case len(path) >= 4 && path[0] == "Resources" && path[2] == "Properties":
		spec := t.Functions[path[1]]
		if err := spec.set(path[3:], value); err != nil {
			return err
		}
		if spec.MemoryMB != 0 || spec.Timeout != 0 || spec.Env != nil {
			t.Functions[path[1]] = spec
		}
	}
	return nil
}

func (s *FunctionSpec) set(path []string, value string) error {
	switch {
	case len(path) == 1 && (path[0] == "MemorySize" || path[0] == "Timeout"):
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", path[0], value)
		}
		if path[0] == "MemorySize" {
			s.MemoryMB = n
		} else {
			s.Timeout = time.Duration(n) * time.Second
		}
	case len(path) == 3 && path[0] == "Environment" && path[1] == "Variables":
		if s.Env == nil {
			s.Env = map[string]string{}
		}
		s.Env[path[2]] = value
	}
	return nil
}

// unquote strips a YAML scalar's quotes or its trailing comment.
func unquote(v string) string {
	v = strings.TrimSpace(v)
	if v != "" && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : end+1]
		}
		return v
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}

// Function is the lambdaemu configuration of functions/<dir> as the template deploys
// it: its name, memory, timeout and environment (Globals, then its own). Values in
// supplied (the stack's resources: ISSUER, TABLE_NAME, …, and anything extra such
// as AWS_ENDPOINT_URL) win; the rest must be literals or !Ref of a parameter, which
// resolves to its Default. Anything else is an error naming the variables, so a new
// variable the local stack cannot give is noticed rather than left out.
func (t *Template) Function(dir string, supplied map[string]string) (lambdaemu.Function, error) {
	id, ok := t.LogicalIDs[dir]
	if !ok {
		return lambdaemu.Function{}, fmt.Errorf("functions/%s is not in the Makefile's FUNCTIONS", dir)
	}
	own := t.Functions[id]
	fn := lambdaemu.Function{
		Name:     "pargate-" + id,
		Region:   Region,
		MemoryMB: orGlobal(own.MemoryMB, t.Global.MemoryMB),
		Timeout:  orGlobal(own.Timeout, t.Global.Timeout),
		Env:      map[string]string{},
	}
	var unresolved []string
	for _, vars := range []map[string]string{t.Global.Env, own.Env} {
		for name, raw := range vars {
			if v, ok := t.resolve(raw); ok {
				fn.Env[name] = v
			} else if _, ok := supplied[name]; !ok {
				unresolved = append(unresolved, name+": "+raw)
			}
		}
	}
	for name, v := range supplied {
		fn.Env[name] = v
	}
	if len(unresolved) > 0 {
		sort.Strings(unresolved)
		return fn, fmt.Errorf("%s: template.yaml gives it variables the local stack cannot resolve: %s", id, strings.Join(unresolved, "; "))
	}
	return fn, nil
}

// pseudoParameters are the values of CloudFormation's pseudo parameters in the
// local stack.
var pseudoParameters = map[string]string{"AWS::StackName": StackName, "AWS::Region": Region}

func (t *Template) resolve(raw string) (string, bool) {
	if !strings.HasPrefix(raw, "!") {
		return raw, true
	}
	v, err := t.Eval(raw)
	if err != nil {
		return "", false
	}
	str, ok := v.(string)
	return str, ok
}

// WithParameters is the template as deployed with these parameter values instead of
// the Defaults (sam deploy --parameter-overrides); a pseudo parameter such as
// "AWS::Region" stands for a deployment elsewhere; any other name that is no parameter
// is an error.
func (t *Template) WithParameters(values map[string]string) (*Template, error) {
	c := *t
	c.Parameters = make(map[string]string, len(t.Parameters))
	for k, v := range t.Parameters {
		c.Parameters[k] = v
	}
	c.pseudo = maps.Clone(t.pseudo)
	for k, v := range values {
		if _, ok := pseudoParameters[k]; ok {
			if c.pseudo == nil {
				c.pseudo = map[string]string{}
			}
			c.pseudo[k] = v
			continue
		}
		if _, ok := t.Parameters[k]; !ok {
			return nil, fmt.Errorf("no parameter %s in template.yaml", k)
		}
		c.Parameters[k] = v
	}
	return &c, nil
}

// FailedRules evaluates the Rules as CloudFormation does before it creates or updates
// a stack: for each rule whose RuleCondition holds, every Assert must; it returns
// "Rule: AssertDescription" of each that does not, sorted. An expression it cannot
// evaluate is an error.
func (t *Template) FailedRules() ([]string, error) {
	var failed []string
	for name, r := range t.Rules {
		if r.Condition != "" {
			on, err := t.evalBool(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("rule %s: RuleCondition: %w", name, err)
			}
			if !on {
				continue
			}
		}
		for _, a := range r.Assertions {
			ok, err := t.evalBool(a.Assert)
			if err != nil {
				return nil, fmt.Errorf("rule %s: Assert: %w", name, err)
			}
			if !ok {
				failed = append(failed, name+": "+a.Description)
			}
		}
	}
	sort.Strings(failed)
	return failed, nil
}

func orGlobal[T int | time.Duration](own, global T) T {
	if own != 0 {
		return own
	}
	return global
}
