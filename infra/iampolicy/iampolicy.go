// Package iampolicy reads the inline IAM policies of template.yaml's functions and
// evaluates them, for tests: moto does not enforce IAM, so whether a function's role
// allows the calls it makes is checked against the policy document itself.
//
// It covers the subset of IAM the template uses, and refuses the rest rather than
// guess: Allow statements, each possibly under `!If [Condition, statement,
// !Ref AWS::NoValue]`; Action as one name or a list, with * and ? wildcards
// (case-insensitive, as IAM compares actions); Resource as !Ref, !GetAtt or !Sub, one
// or a list, or a one-line !If of them, resolved from a table the caller gives, with
// wildcards; a Condition of ForAllValues:StringLike on dynamodb:LeadingKeys (every
// partition key the request touches matches one of the patterns), StringEquals and
// StringLike (with * and ? wildcards) on any key of the request's context
// (kms:ViaService, kms:EncryptionContext:SecretARN, aws:PrincipalTag/...; a key the
// request lacks fails) and Null; and, in a KMS key
// policy (ReadKeyPolicy), Sid and Principal.
package iampolicy

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Statement is one statement of a policy, resources not yet resolved.
type Statement struct {
	// If names the template condition under which the statement exists (a
	// `- !If [If, statement, !Ref AWS::NoValue]` item); empty: always.
	If string
	// Sid is the statement's id (key policies).
	Sid string
	// Principal is the principal type (AWS, Service) -> values, in a key policy;
	// nil in an identity policy.
	Principal map[string][]string
	Effect    string
	Action    []string
	Resource  []string
	// Condition is operator -> condition key -> values.
	Condition map[string]map[string][]string
}

// LeadingKeys is the condition key that limits DynamoDB to partition key values.
const LeadingKeys = "dynamodb:LeadingKeys"

// Request is what a call asks IAM to allow.
type Request struct {
	Action   string
	Resource string
	// LeadingKeys are the partition key values of the items a DynamoDB call touches.
	LeadingKeys []string
	// Context holds the request's other condition keys (kms:ViaService,
	// kms:EncryptionContext:SecretARN, aws:PrincipalTag/<key>, kms:CallerAccount).
	Context map[string]string
	// Principal is who asks, for a key policy's Principal: an ARN (a role's account
	// root: arn:aws:iam::<account>:root) or a service name (dynamodb.amazonaws.com).
	Principal string
}

// ReadFile reads the inline policies (Properties.Policies) of every
// AWS::Serverless::Function in the template at file, by logical id.
func ReadFile(file string) (map[string][]Statement, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(string(data))
}

type line struct {
	indent int
	text   string
	n      int
}

// Parse reads the functions' inline policies from template.yaml's text. The module
// has no YAML library; the template is written in a regular layout (two-space
// indents, one key a line, lists in flow style [a, b] or as `- item` lines), and
// anything else under Policies is an error.
func Parse(yml string) (map[string][]Statement, error) {
	var lines []line
	for i, raw := range strings.Split(yml, "\n") {
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		lines = append(lines, line{indent: len(raw) - len(strings.TrimLeft(raw, " ")), text: t, n: i + 1})
	}
	out := map[string][]Statement{}
	var inResources bool
	var id string
	var isFunction bool
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l.indent == 0:
			inResources = l.text == "Resources:"
			continue
		case !inResources:
			continue
		case l.indent == 2:
			id, isFunction = strings.TrimSuffix(l.text, ":"), false
			continue
		case l.indent == 4 && l.text == "Type: AWS::Serverless::Function":
			isFunction = true
			out[id] = []Statement{}
			continue
		}
		if l.indent != 6 || l.text != "Policies:" {
			continue
		}
		end := block(lines, i)
		if !isFunction {
			// Type comes before Properties in every resource of the template.
			return nil, fmt.Errorf("line %d: Policies of %s before its Type or not a function", l.n, id)
		}
		stmts, err := policies(lines[i+1 : end])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		out[id] = stmts
		i = end - 1
	}
	return out, nil
}

// block returns the end of the lines indented under lines[i].
func block(lines []line, i int) int {
	j := i + 1
	for j < len(lines) && lines[j].indent > lines[i].indent {
		j++
	}
	return j
}

// policies reads `- Version: ...` / `Statement:` documents.
func policies(lines []line) ([]Statement, error) {
	var out []Statement
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimPrefix(l.text, "- ")
		switch {
		case strings.HasPrefix(t, "Version:"):
		case t == "Statement:":
			end := block(lines, i)
			stmts, err := statements(lines[i+1 : end])
			if err != nil {
				return nil, err
			}
			out = append(out, stmts...)
			i = end - 1
		default:
			return nil, fmt.Errorf("line %d: %q: only inline policy documents (Version, Statement) are read", l.n, l.text)
		}
	}
	return out, nil
}

func statements(lines []line) ([]Statement, error) {
	var out []Statement
	for i := 0; i < len(lines); {
		if !strings.HasPrefix(lines[i].text, "- ") {
			return nil, fmt.Errorf("line %d: %q: a statement starts with `- `", lines[i].n, lines[i].text)
		}
		// The statement's keys: the first after `- `, the rest at its indent + 2.
		first := lines[i]
		j := i + 1
		for j < len(lines) && lines[j].indent > first.indent {
			j++
		}
		var s Statement
		var err error
		if first.text == "- !If" {
			s, err = conditional(lines[i+1 : j])
		} else {
			keys := append([]line{{indent: first.indent + 2, text: strings.TrimPrefix(first.text, "- "), n: first.n}}, lines[i+1:j]...)
			s, err = statement(keys)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		i = j
	}
	return out, nil
}

// conditional reads the three items of `- !If`: `- Condition`, `- Effect: ...` (the
// statement) and `- !Ref AWS::NoValue` - no other else branch.
func conditional(lines []line) (Statement, error) {
	if len(lines) < 3 {
		return Statement{}, errors.New("!If statement: want [Condition, statement, !Ref AWS::NoValue]")
	}
	cond, ok := strings.CutPrefix(lines[0].text, "- ")
	if !ok || strings.ContainsAny(cond, " :!") {
		return Statement{}, fmt.Errorf("line %d: %q: the !If's first item is a condition name", lines[0].n, lines[0].text)
	}
	last := lines[len(lines)-1]
	if last.text != "- !Ref AWS::NoValue" || last.indent != lines[0].indent {
		return Statement{}, fmt.Errorf("line %d: %q: the !If's else is not !Ref AWS::NoValue", last.n, last.text)
	}
	body := lines[1 : len(lines)-1]
	if !strings.HasPrefix(body[0].text, "- ") || body[0].indent != lines[0].indent {
		return Statement{}, fmt.Errorf("line %d: %q: the !If's second item is a statement", body[0].n, body[0].text)
	}
	for _, l := range body[1:] {
		if l.indent <= body[0].indent {
			return Statement{}, fmt.Errorf("line %d: %q: the !If has more than three items", l.n, l.text)
		}
	}
	keys := append([]line{{indent: body[0].indent + 2, text: strings.TrimPrefix(body[0].text, "- "), n: body[0].n}}, body[1:]...)
	s, err := statement(keys)
	s.If = cond
	return s, err
}

func statement(lines []line) (Statement, error) {
	var s Statement
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		key, value, ok := strings.Cut(l.text, ":")
		if !ok {
			return s, fmt.Errorf("line %d: %q is not a key", l.n, l.text)
		}
		value = strings.TrimSpace(value)
		end := block(lines, i)
		nested := lines[i+1 : end]
		i = end - 1
		switch key {
		case "Effect":
			s.Effect = value
		case "Sid":
			s.Sid = unquote(value)
		case "Principal":
			if value != "" {
				return s, fmt.Errorf("line %d: Principal in flow style", l.n)
			}
			p, err := keyValues(nested)
			if err != nil {
				return s, err
			}
			s.Principal = p
		case "Action", "Resource":
			list, err := listValue(value, nested)
			if err != nil {
				return s, err
			}
			if key == "Action" {
				s.Action = list
			} else {
				s.Resource = list
			}
		case "Condition":
			if value != "" {
				return s, fmt.Errorf("line %d: Condition in flow style", l.n)
			}
			c, err := condition(nested)
			if err != nil {
				return s, err
			}
			s.Condition = c
		default:
			// NotAction, NotResource, Principal, Sid...: outside the subset.
			return s, fmt.Errorf("line %d: statement key %s is not supported", l.n, key)
		}
	}
	if s.Effect == "" || len(s.Action) == 0 || len(s.Resource) == 0 {
		return s, fmt.Errorf("line %d: a statement needs Effect, Action and Resource", lines[0].n)
	}
	return s, nil
}

// listValue reads `value` (one item or [a, b]) or, if it is empty, `- item` lines.
func listValue(value string, nested []line) ([]string, error) {
	if value != "" {
		if len(nested) > 0 {
			return nil, fmt.Errorf("line %d: a value and a block", nested[0].n)
		}
		if inner, ok := strings.CutPrefix(value, "["); ok {
			inner, ok = strings.CutSuffix(inner, "]")
			if !ok {
				return nil, fmt.Errorf("%q: unterminated list", value)
			}
			var out []string
			for _, v := range strings.Split(inner, ",") {
				out = append(out, unquote(strings.TrimSpace(v)))
			}
			return out, nil
		}
		return []string{unquote(value)}, nil
	}
	var out []string
	for _, l := range nested {
		v, ok := strings.CutPrefix(l.text, "- ")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not a list item", l.n, l.text)
		}
		out = append(out, unquote(strings.TrimSpace(v)))
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func condition(lines []line) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	for i := 0; i < len(lines); i++ {
		op, ok := strings.CutSuffix(lines[i].text, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: %q: a condition operator on its own line", lines[i].n, lines[i].text)
		}
		end := block(lines, i)
		keys, err := keyValues(lines[i+1 : end])
		if err != nil {
			return nil, err
		}
		out[unquote(op)] = keys
		i = end - 1
	}
	return out, nil
}

// keyValues reads `key: value`, `key: [a, b]` or `key:` + `- item` lines.
func keyValues(lines []line) (map[string][]string, error) {
	keys := map[string][]string{}
	for j := 0; j < len(lines); j++ {
		l := lines[j]
		// Condition keys contain a colon (dynamodb:LeadingKeys): split on ": ".
		k, v, ok := strings.Cut(l.text, ": ")
		if !ok {
			k, ok = strings.CutSuffix(l.text, ":")
			if !ok {
				return nil, fmt.Errorf("line %d: %q is not a condition key", l.n, l.text)
			}
		}
		kend := block(lines, j)
		vals, err := listValue(strings.TrimSpace(v), lines[j+1:kend])
		if err != nil {
			return nil, err
		}
		keys[unquote(k)] = vals
		j = kend - 1
	}
	return keys, nil
}

func unquote(v string) string {
	tag, rest, ok := strings.Cut(v, " ")
	if ok && strings.HasPrefix(tag, "!") {
		return tag + " " + unquote(strings.TrimSpace(rest))
	}
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// Resolve turns a Resource of the template into the ARN (pattern) it names, with refs
// giving the value of each !Ref name, !GetAtt name.attribute and pseudo parameter
// (AWS::Region...). An unknown name is an error.
func Resolve(resource string, refs map[string]string) (string, error) {
	lookup := func(name string) (string, error) {
		v, ok := refs[name]
		if !ok {
			return "", fmt.Errorf("%s: no value for %s", resource, name)
		}
		return v, nil
	}
	switch tag, arg, _ := strings.Cut(resource, " "); tag {
	case "!Ref", "!GetAtt":
		return lookup(arg)
	case "!If":
		// !If [Condition, then, else]: then when refs has "Condition:<name>" = "true"
		// (a deployment with that condition), else the other branch.
		inner, okOpen := strings.CutPrefix(arg, "[")
		inner, okClose := strings.CutSuffix(inner, "]")
		if !okOpen || !okClose {
			return "", fmt.Errorf("%s: want !If [Condition, then, else]", resource)
		}
		parts := strings.Split(inner, ",")
		if len(parts) != 3 {
			return "", fmt.Errorf("%s: want !If [Condition, then, else]", resource)
		}
		branch := parts[2]
		if refs["Condition:"+strings.TrimSpace(parts[0])] == "true" {
			branch = parts[1]
		}
		return Resolve(strings.TrimSpace(branch), refs)
	case "!Sub":
		// Inside an !If branch the string keeps its quotes: they are not the ARN's.
		arg = unquote(arg)
		var err error
		out := subVar.ReplaceAllStringFunc(arg, func(m string) string {
			v, e := lookup(m[2 : len(m)-1])
			if e != nil && err == nil {
				err = e
			}
			return v
		})
		return out, err
	default:
		if strings.HasPrefix(resource, "!") {
			return "", fmt.Errorf("%s: intrinsic function not supported", resource)
		}
		return resource, nil
	}
}

// Allowed reports whether stmts allow req, resources resolved with refs, and which
// statement does (its index). IAM denies what no statement allows.
func Allowed(stmts []Statement, req Request, refs map[string]string) (bool, int, error) {
	for i, s := range stmts {
		if s.If != "" && refs["Condition:"+s.If] != "true" {
			continue // not in this deployment
		}
		ok, err := s.allows(req, refs)
		if err != nil {
			return false, -1, err
		}
		if ok {
			return true, i, nil
		}
	}
	return false, -1, nil
}

func (s Statement) allows(req Request, refs map[string]string) (bool, error) {
	if s.Effect != "Allow" {
		return false, fmt.Errorf("effect %q: only Allow statements are supported", s.Effect)
	}
	if !s.HasAction(req.Action) {
		return false, nil
	}
	if s.Principal != nil {
		var principalOK bool
		for _, vals := range s.Principal {
			for _, v := range vals {
				p, err := Resolve(v, refs)
				if err != nil {
					return false, err
				}
				if p == req.Principal {
					principalOK = true
				}
			}
		}
		if !principalOK {
			return false, nil
		}
	}
	var resourceOK bool
	for _, r := range s.Resource {
		arn, err := Resolve(r, refs)
		if err != nil {
			return false, err
		}
		if Match(arn, req.Resource, false) {
			resourceOK = true
		}
	}
	if !resourceOK {
		return false, nil
	}
	for op, keys := range s.Condition {
		for key, patterns := range keys {
			switch {
			case op == "ForAllValues:StringLike" && key == LeadingKeys:
				// ForAllValues: every value in the request matches one of the patterns
				// (and a request without values passes, as in IAM).
				for _, v := range req.LeadingKeys {
					if !matchAny(patterns, v) {
						return false, nil
					}
				}
			case (op == "StringEquals" || op == "StringLike") && contextKey(key):
				// One value of the request's context key, equal to (StringLike:
				// matching) one of the values; a request without the key fails, as in
				// IAM.
				v, ok := req.Context[key]
				if !ok {
					return false, nil
				}
				var equal bool
				for _, p := range patterns {
					want, err := Resolve(p, refs)
					if err != nil {
						return false, err
					}
					if op == "StringLike" {
						equal = equal || Match(want, v, false)
					} else {
						equal = equal || want == v
					}
				}
				if !equal {
					return false, nil
				}
			case op == "Null" && contextKey(key) && len(patterns) == 1 && (patterns[0] == "true" || patterns[0] == "false"):
				// "true": the request lacks the key; "false": it has it.
				if _, has := req.Context[key]; has == (patterns[0] == "true") {
					return false, nil
				}
			default:
				return false, fmt.Errorf("condition %s %s is not supported", op, key)
			}
		}
	}
	return true, nil
}

// contextKey reports whether key is one of the condition keys Request.Context models.
func contextKey(key string) bool {
	switch key {
	case "kms:ViaService", "kms:CallerAccount":
		return true
	}
	return strings.HasPrefix(key, "kms:EncryptionContext:") || strings.HasPrefix(key, "aws:PrincipalTag/")
}

// ReadKeyPolicy reads the KeyPolicy of the AWS::KMS::Key resource id in the template
// at file.
func ReadKeyPolicy(file, id string) ([]Statement, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseKeyPolicy(string(data), id)
}

// ParseKeyPolicy reads the KeyPolicy (Version, Statement) of the AWS::KMS::Key
// resource id from template.yaml's text, in the layout Parse reads.
func ParseKeyPolicy(yml, id string) ([]Statement, error) {
	var lines []line
	for i, raw := range strings.Split(yml, "\n") {
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		lines = append(lines, line{indent: len(raw) - len(strings.TrimLeft(raw, " ")), text: t, n: i + 1})
	}
	var inResources, inKey, isKey bool
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l.indent == 0:
			inResources = l.text == "Resources:"
			continue
		case !inResources:
			continue
		case l.indent == 2:
			inKey, isKey = l.text == id+":", false
			continue
		case !inKey:
			continue
		case l.indent == 4 && l.text == "Type: AWS::KMS::Key":
			isKey = true
			continue
		}
		if l.indent != 6 || l.text != "KeyPolicy:" {
			continue
		}
		if !isKey {
			return nil, fmt.Errorf("line %d: KeyPolicy of %s before its Type or not an AWS::KMS::Key", l.n, id)
		}
		return policies(lines[i+1 : block(lines, i)])
	}
	return nil, fmt.Errorf("no AWS::KMS::Key %s with a KeyPolicy", id)
}

// HasAction reports whether one of the statement's actions matches action.
func (s Statement) HasAction(action string) bool {
	return matchAny(s.Action, action, true)
}

func matchAny(patterns []string, v string, fold ...bool) bool {
	f := len(fold) > 0 && fold[0]
	for _, p := range patterns {
		if Match(p, v, f) {
			return true
		}
	}
	return false
}

// Match reports whether v matches the IAM pattern p (* any run of characters, ? one
// character), case-insensitively if fold.
func Match(p, v string, fold bool) bool {
	if fold {
		p, v = strings.ToLower(p), strings.ToLower(v)
	}
	// Only * and ? are special; everything else, / included, matches itself.
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
	ok, _ := regexp.MatchString(re, v)
	return ok
}
