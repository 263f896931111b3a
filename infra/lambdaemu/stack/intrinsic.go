package stack

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// subVar is a ${Name} of !Sub.
var subVar = regexp.MustCompile(`\$\{[A-Za-z0-9:]+\}`)

// Eval evaluates a value of the template written on one line in YAML flow style:
// a literal, or the short form of the intrinsic functions the template's
// environment, Conditions and Rules use - !Ref (parameters and pseudo parameters),
// !Sub of those, !If, !Condition, !Equals, !Not, !And, !Or and !Contains. It returns a string, a bool
// or a []string. It is not a YAML parser: enough for how template.yaml writes them.
func (t *Template) Eval(raw string) (any, error) {
	p := &exprParser{in: raw}
	n, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	if p.skipSpace(); p.pos != len(p.in) {
		return nil, fmt.Errorf("%q: unexpected %q", raw, p.in[p.pos:])
	}
	v, err := t.eval(n, 0)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	return v, nil
}

func (t *Template) evalBool(raw string) (bool, error) {
	v, err := t.Eval(raw)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%q is not a condition", raw)
	}
	return b, nil
}

// expr is a parsed value: a scalar, a list, or a tag applied to one of them.
type expr struct {
	tag    string // "Ref", "If", … or "" for a plain value
	scalar string
	list   []*expr
	isList bool
}

type exprParser struct {
	in  string
	pos int
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.in) && p.in[p.pos] == ' ' {
		p.pos++
	}
}

func (p *exprParser) parse() (*expr, error) {
	p.skipSpace()
	if p.pos >= len(p.in) {
		return nil, errors.New("missing value")
	}
	if p.in[p.pos] == '!' {
		end := p.pos + 1
		for end < len(p.in) && p.in[end] != ' ' && p.in[end] != '[' {
			end++
		}
		tag := p.in[p.pos+1 : end]
		p.pos = end
		operand, err := p.parse()
		if err != nil {
			return nil, fmt.Errorf("!%s: %w", tag, err)
		}
		return &expr{tag: tag, scalar: operand.scalar, list: operand.list, isList: operand.isList}, nil
	}
	switch c := p.in[p.pos]; c {
	case '[':
		p.pos++
		n := &expr{isList: true}
		for {
			p.skipSpace()
			if p.pos < len(p.in) && p.in[p.pos] == ']' {
				p.pos++
				return n, nil
			}
			item, err := p.parse()
			if err != nil {
				return nil, err
			}
			n.list = append(n.list, item)
			p.skipSpace()
			switch {
			case p.pos < len(p.in) && p.in[p.pos] == ',':
				p.pos++
			case p.pos < len(p.in) && p.in[p.pos] == ']':
			default:
				return nil, errors.New("unterminated list")
			}
		}
	case '"', '\'':
		end := strings.IndexByte(p.in[p.pos+1:], c)
		if end < 0 {
			return nil, errors.New("unterminated string")
		}
		n := &expr{scalar: p.in[p.pos+1 : p.pos+1+end]}
		p.pos += end + 2
		return n, nil
	default:
		end := p.pos
		for end < len(p.in) && !strings.ContainsRune(",]", rune(p.in[end])) {
			end++
		}
		n := &expr{scalar: strings.TrimSpace(p.in[p.pos:end])}
		p.pos = end
		return n, nil
	}
}

func (t *Template) eval(n *expr, depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("conditions nest too deep (a cycle?)")
	}
	args := func(want int) ([]any, error) {
		if !n.isList || want >= 0 && len(n.list) != want {
			return nil, fmt.Errorf("!%s wants a list of %d", n.tag, want)
		}
		out := make([]any, len(n.list))
		for i, a := range n.list {
			v, err := t.eval(a, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	bools := func(vs []any) ([]bool, error) {
		out := make([]bool, len(vs))
		for i, v := range vs {
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("!%s of %v, not a condition", n.tag, v)
			}
			out[i] = b
		}
		return out, nil
	}
	switch n.tag {
	case "":
		if !n.isList {
			return n.scalar, nil
		}
		vs, err := args(-1)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, v := range vs {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("list of %v, not of strings", v)
			}
			out = append(out, s)
		}
		return out, nil
	case "Ref":
		if v, ok := t.pseudo[n.scalar]; ok {
			return v, nil
		}
		if v, ok := pseudoParameters[n.scalar]; ok {
			return v, nil
		}
		if v, ok := t.Parameters[n.scalar]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("!Ref %s: no such parameter", n.scalar)
	case "Sub":
		// !Sub "...${Name}..." of parameters and pseudo parameters only (a resource's
		// name or attribute is not known locally).
		if n.isList {
			return nil, errors.New("!Sub: only the one-string form")
		}
		var err error
		out := subVar.ReplaceAllStringFunc(n.scalar, func(m string) string {
			v, e := t.eval(&expr{tag: "Ref", scalar: m[2 : len(m)-1]}, depth+1)
			s, ok := v.(string)
			if e == nil && !ok {
				e = fmt.Errorf("!Sub %s: not a string", m)
			}
			if e != nil && err == nil {
				err = e
			}
			return s
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	case "Condition":
		raw, ok := t.Conditions[n.scalar]
		if !ok {
			return nil, fmt.Errorf("!Condition %s: no such condition", n.scalar)
		}
		p := &exprParser{in: raw}
		c, err := p.parse()
		if err != nil {
			return nil, fmt.Errorf("condition %s: %w", n.scalar, err)
		}
		return t.eval(c, depth+1)
	case "If":
		if !n.isList || len(n.list) != 3 || n.list[0].isList {
			return nil, errors.New("!If wants [Condition, then, else]")
		}
		on, err := t.eval(&expr{tag: "Condition", scalar: n.list[0].scalar}, depth+1)
		if err != nil {
			return nil, err
		}
		if on.(bool) {
			return t.eval(n.list[1], depth+1)
		}
		return t.eval(n.list[2], depth+1)
	case "Equals":
		vs, err := args(2)
		if err != nil {
			return nil, err
		}
		a, ok1 := vs[0].(string)
		b, ok2 := vs[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("!Equals compares two strings")
		}
		return a == b, nil
	case "Contains":
		vs, err := args(2)
		if err != nil {
			return nil, err
		}
		list, ok1 := vs[0].([]string)
		s, ok2 := vs[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("!Contains wants [[strings], string]")
		}
		return slices.Contains(list, s), nil
	case "Not", "And", "Or":
		vs, err := args(-1)
		if err != nil {
			return nil, err
		}
		bs, err := bools(vs)
		if err != nil {
			return nil, err
		}
		switch {
		case n.tag == "Not" && len(bs) == 1:
			return !bs[0], nil
		case n.tag == "And" && len(bs) >= 2:
			return !slices.Contains(bs, false), nil
		case n.tag == "Or" && len(bs) >= 2:
			return slices.Contains(bs, true), nil
		}
		return nil, fmt.Errorf("!%s of %d conditions", n.tag, len(bs))
	default:
		return nil, fmt.Errorf("!%s is not evaluated here", n.tag)
	}
}
