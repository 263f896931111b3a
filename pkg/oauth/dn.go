package oauth

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A distinguished name as RFC 4514 writes it and RFC 4517 §4.2.15
// (distinguishedNameMatch) compares it: the same number of RDNs, in the same order,
// each RDN the same set of attribute type and value pairs, types compared by OID and
// values by the attribute's equality rule. Every attribute a certificate subject
// carries in practice (CN, O, OU, C, L, ST, DC, serialNumber, emailAddress,
// organizationIdentifier …) is compared with caseIgnoreMatch (RFC 4517 §4.2.11): case
// folded, leading and trailing spaces dropped and inner runs of spaces counted as one
// (RFC 4518 §2.6.1, insignificant space handling). Unicode normalization (RFC 4518
// §2.3) is not applied: two values that differ only in their Unicode form differ.

// dnAttribute is one attribute type and value of an RDN.
type dnAttribute struct {
	oid   string // dotted decimal
	value string // as written, unescaped
}

// dn is a distinguished name as a list of RDNs in the RDNSequence order of the
// certificate (RFC 5280 §4.1.2.4): the first is the most significant (C or DC=com),
// which RFC 4514 §2.1 writes last.
type dn [][]dnAttribute

// dnShortNames are RFC 4514 §3's table and the names Go's and OpenSSL's DN printers
// write for the other attributes found in certificate subjects.
var dnShortNames = map[string]string{
	"CN": "2.5.4.3", "L": "2.5.4.7", "ST": "2.5.4.8", "O": "2.5.4.10", "OU": "2.5.4.11",
	"C": "2.5.4.6", "STREET": "2.5.4.9", "DC": "0.9.2342.19200300.100.1.25",
	"UID": "0.9.2342.19200300.100.1.1",
	// Beyond RFC 4514's table ("Implementations MAY recognize other DN string
	// representations"), as RFC 4519 and PKCS #9 name them.
	"SERIALNUMBER": "2.5.4.5", "POSTALCODE": "2.5.4.17", "TITLE": "2.5.4.12",
	"GIVENNAME": "2.5.4.42", "SN": "2.5.4.4", "ORGANIZATIONIDENTIFIER": "2.5.4.97",
	"EMAILADDRESS": "1.2.840.113549.1.9.1", "E": "1.2.840.113549.1.9.1",
}

// maxDNLength bounds what parseDN reads: a registered subject DN, never request input.
const maxDNLength = 4096

// parseDN parses an RFC 4514 §3 string. Spaces around the separators (",", "+",
// "=") are accepted, as RFC 4514 §4 allows implementations to; ";" as a separator
// (RFC 1779) is not.
func parseDN(s string) (dn, error) {
	if len(s) > maxDNLength {
		return nil, errors.New("distinguished name too long")
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty distinguished name")
	}
	p := dnParser{s: s}
	var out dn
	for {
		rdn, err := p.rdn()
		if err != nil {
			return nil, err
		}
		out = append(out, rdn)
		if p.done() {
			break
		}
		if p.s[p.i] != ',' {
			return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
		}
		p.i++
	}
	// RFC 4514 §2.1: "starting with the last element of the sequence and moving
	// backwards toward the first".
	slices.Reverse(out)
	return out, nil
}

type dnParser struct {
	s string
	i int
}

func (p *dnParser) done() bool { return p.i >= len(p.s) }

func (p *dnParser) skipSpaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// rdn reads attributeTypeAndValue *( PLUS attributeTypeAndValue ).
func (p *dnParser) rdn() ([]dnAttribute, error) {
	var rdn []dnAttribute
	for {
		a, err := p.attribute()
		if err != nil {
			return nil, err
		}
		rdn = append(rdn, a)
		if p.done() || p.s[p.i] != '+' {
			return rdn, nil
		}
		p.i++
	}
}

// attribute reads attributeType EQUALS attributeValue.
func (p *dnParser) attribute() (dnAttribute, error) {
	p.skipSpaces()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' && p.s[p.i] != ' ' {
		p.i++
	}
	typ := p.s[start:p.i]
	p.skipSpaces()
	if p.done() || p.s[p.i] != '=' {
		return dnAttribute{}, errors.New("attribute without '='")
	}
	p.i++
	oid, err := dnAttributeOID(typ)
	if err != nil {
		return dnAttribute{}, err
	}
	p.skipSpaces()
	value, err := p.value()
	if err != nil {
		return dnAttribute{}, fmt.Errorf("%s: %w", typ, err)
	}
	return dnAttribute{oid: oid, value: value}, nil
}

// dnAttributeOID resolves attributeType = descr / numericoid (RFC 4514 §3).
func dnAttributeOID(typ string) (string, error) {
	if typ == "" {
		return "", errors.New("empty attribute type")
	}
	if oid, ok := dnShortNames[strings.ToUpper(typ)]; ok {
		return oid, nil
	}
	// numericoid = number 1*( DOT number ), number = DIGIT / ( LDIGIT 1*DIGIT ).
	parts := strings.Split(typ, ".")
	if len(parts) < 2 {
		return "", fmt.Errorf("unknown attribute type %q", typ)
	}
	for _, n := range parts {
		if n == "" || len(n) > 1 && n[0] == '0' || strings.Trim(n, "0123456789") != "" {
			return "", fmt.Errorf("attribute type %q is neither a known name nor a numeric OID", typ)
		}
	}
	return typ, nil
}

// value reads attributeValue = string / hexstring up to the next unescaped ',' or
// '+', dropping unescaped trailing spaces.
func (p *dnParser) value() (string, error) {
	if !p.done() && p.s[p.i] == '#' {
		return p.hexValue()
	}
	var b []byte
	trailing := 0 // unescaped spaces at the end of b
	for !p.done() {
		c := p.s[p.i]
		switch c {
		case ',', '+':
			return p.finish(b, trailing)
		case '"', ';', '<', '>', 0:
			return "", fmt.Errorf("%q must be escaped", c)
		case '\\':
			p.i++
			if p.done() {
				return "", errors.New("trailing backslash")
			}
			c = p.s[p.i]
			if strings.IndexByte(`\"+,;<>= #`, c) >= 0 {
				b = append(b, c)
				p.i++
			} else if p.i+1 < len(p.s) && isHex(c) && isHex(p.s[p.i+1]) {
				v, _ := hex.DecodeString(p.s[p.i : p.i+2])
				b = append(b, v[0])
				p.i += 2
			} else {
				return "", fmt.Errorf("bad escape \\%c", c)
			}
			trailing = 0
			continue
		case ' ':
			trailing++
		default:
			trailing = 0
		}
		b = append(b, c)
		p.i++
	}
	return p.finish(b, trailing)
}

func (p *dnParser) finish(b []byte, trailing int) (string, error) {
	b = b[:len(b)-trailing]
	if !utf8.Valid(b) {
		return "", errors.New("value is not UTF-8")
	}
	return string(b), nil
}

// hexValue reads hexstring = SHARP 1*hexpair, the BER encoding of the value
// (RFC 4514 §2.4); only the string types a certificate subject uses are understood.
func (p *dnParser) hexValue() (string, error) {
	p.i++
	start := p.i
	for p.i < len(p.s) && isHex(p.s[p.i]) {
		p.i++
	}
	raw, err := hex.DecodeString(p.s[start:p.i])
	if err != nil || len(raw) == 0 {
		return "", errors.New("bad #hexstring")
	}
	p.skipSpaces()
	if !p.done() && p.s[p.i] != ',' && p.s[p.i] != '+' {
		return "", errors.New("unexpected text after #hexstring")
	}
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(raw, &v); err != nil || len(rest) > 0 {
		return "", errors.New("#hexstring is not one BER value")
	}
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String:
		if v.Class == asn1.ClassUniversal && utf8.Valid(v.Bytes) {
			return string(v.Bytes), nil
		}
	}
	return "", errors.New("#hexstring of a type other than UTF8String, PrintableString or IA5String")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// subjectDN is the certificate's subject as a dn; a value that is not a string
// (which no matching rule here compares) makes the subject unmatchable.
func subjectDN(rawSubject []byte) (dn, bool) {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(rawSubject, &seq); err != nil || len(rest) > 0 {
		return nil, false
	}
	out := make(dn, 0, len(seq))
	for _, set := range seq {
		rdn := make([]dnAttribute, 0, len(set))
		for _, atv := range set {
			s, ok := atv.Value.(string)
			if !ok {
				return nil, false
			}
			rdn = append(rdn, dnAttribute{oid: atv.Type.String(), value: s})
		}
		out = append(out, rdn)
	}
	return out, true
}

// equal is distinguishedNameMatch (RFC 4517 §4.2.15) with caseIgnoreMatch values.
func (d dn) equal(o dn) bool {
	if len(d) != len(o) {
		return false
	}
	for i := range d {
		if !rdnEqual(d[i], o[i]) {
			return false
		}
	}
	return true
}

// rdnEqual compares two RDNs as sets (RFC 4517 §4.2.15: "the same number of
// AttributeTypeAndValue ... and for each attribute value in one RDN there is a
// matching value in the other").
func rdnEqual(a, b []dnAttribute) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for j, y := range b {
			if !used[j] && x.oid == y.oid && caseIgnoreEqual(x.value, y.value) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// caseIgnoreEqual is caseIgnoreMatch after RFC 4518 §2.6.1 insignificant space
// handling: spaces at either end dropped, inner runs of spaces as one.
func caseIgnoreEqual(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}
