package oauth

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	oidCN  = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO   = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidC   = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidDC  = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
)

// rawSubject is the DER of an RDNSequence, most significant RDN first.
func rawSubject(tb testing.TB, rdns ...[]pkix.AttributeTypeAndValue) []byte {
	tb.Helper()
	seq := pkix.RDNSequence{}
	for _, r := range rdns {
		seq = append(seq, pkix.RelativeDistinguishedNameSET(r))
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func atv(oid asn1.ObjectIdentifier, v string) []pkix.AttributeTypeAndValue {
	return []pkix.AttributeTypeAndValue{{Type: oid, Value: v}}
}

// TestDNMatch_RFC4514 compares registered subject DN strings with certificate
// subjects as distinguishedNameMatch (RFC 4517 §4.2.15) does, never as raw strings.
func TestDNMatch_RFC4514(t *testing.T) {
	cert := rawSubject(t, atv(oidC, "DE"), atv(oidO, "Example, Inc."), atv(oidCN, "Müller Client"))
	multi := rawSubject(t, atv(oidDC, "org"), atv(oidDC, "example"),
		[]pkix.AttributeTypeAndValue{{Type: oidCN, Value: "client"}, {Type: oidUID, Value: "42"}})
	for _, tc := range []struct {
		name, dn string
		subject  []byte
		match    bool
	}{
		{"§2.1 the last RDN is written first", `CN=Müller Client,O=Example\, Inc.,C=DE`, cert, true},
		{"§2.1 the certificate's order written as is does not match", `C=DE,O=Example\, Inc.,CN=Müller Client`, cert, false},
		{"§3 attribute type names are case-insensitive", `cn=Müller Client,o=Example\, Inc.,c=DE`, cert, true},
		{"§3 a numericoid names the same attribute", `2.5.4.3=Müller Client,2.5.4.10=Example\, Inc.,2.5.4.6=DE`, cert, true},
		{"RFC 4517 §4.2.11 caseIgnoreMatch ignores case of values", `CN=MÜLLER CLIENT,O=EXAMPLE\, INC.,C=de`, cert, true},
		{"RFC 4518 §2.6.1 insignificant spaces are ignored", `CN =  Müller   Client , O= Example\, Inc. ,C=DE`, cert, true},
		{"§2.4 hex pairs are UTF-8 bytes", `CN=M\C3\BCller Client,O=Example\2C Inc.,C=DE`, cert, true},
		{"§2.4 a #hexstring is the BER value", `CN=#0c0e4dc3bc6c6c657220436c69656e74,O=Example\, Inc.,C=DE`, cert, true},
		{"another value does not match", `CN=Muller Client,O=Example\, Inc.,C=DE`, cert, false},
		{"an RDN missing does not match", `CN=Müller Client,O=Example\, Inc.`, cert, false},
		{"an RDN more does not match", `CN=Müller Client,OU=X,O=Example\, Inc.,C=DE`, cert, false},
		{"RFC 4517 §4.2.15 a multi-valued RDN compares as a set", `UID=42+CN=client,DC=example,DC=org`, multi, true},
		{"RFC 4517 §4.2.15 a multi-valued RDN split in two does not match", `UID=42,CN=client,DC=example,DC=org`, multi, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := parseDN(tc.dn)
			if err != nil {
				t.Fatalf("parseDN(%q): %v", tc.dn, err)
			}
			got, ok := subjectDN(tc.subject)
			if !ok {
				t.Fatal("subject not read")
			}
			if want.equal(got) != tc.match {
				t.Fatalf("match = %v, want %v", !tc.match, tc.match)
			}
		})
	}
}

// TestParseDN_RFC4514Refusals: strings that are not RFC 4514 DNs are errors, so a
// registration holding one is refused rather than never matching.
func TestParseDN_RFC4514Refusals(t *testing.T) {
	for _, s := range []string{"", "   ", "CN", "CN=a,", "=a", "CN=a,O", "CN=a\\", `CN=a\zz`, "CN=a;O=b", "CN=a\"b",
		"XX=a", "1=a", "01.2=a", "CN=#zz", "CN=#0c01", "CN=#020101", `CN=\ff`, "CN=a\x00"} {
		if _, err := parseDN(s); err == nil {
			t.Errorf("parseDN(%q) succeeded", s)
		}
	}
}

// FuzzDN: parseDN never panics; whatever it accepts matches the subject built from
// its own result, and a value with unescaped spaces inside is kept (only leading and
// trailing ones are insignificant).
func FuzzDN(f *testing.F) {
	for _, s := range []string{`CN=Müller Client,O=Example\, Inc.,C=DE`, `UID=42+CN=client,DC=example,DC=org`,
		`CN=#0c0e4dc3bc6c6c657220436c69656e74`, `2.5.4.3=a\2Cb`, `CN= a  b `, `CN=\ a\ `, "CN=a;O=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDN(s)
		if err != nil {
			return
		}
		seq := pkix.RDNSequence{}
		for _, rdn := range d {
			var set pkix.RelativeDistinguishedNameSET
			for _, a := range rdn {
				if !utf8.ValidString(a.value) {
					t.Fatalf("value %q is not UTF-8", a.value)
				}
				var oid asn1.ObjectIdentifier
				for _, n := range strings.Split(a.oid, ".") {
					v := 0
					for _, c := range n {
						v = v*10 + int(c-'0')
						if v > 1<<30 {
							return // an OID arc asn1 cannot hold in an int; nothing to compare
						}
					}
					oid = append(oid, v)
				}
				set = append(set, pkix.AttributeTypeAndValue{Type: oid, Value: a.value})
			}
			seq = append(seq, set)
		}
		der, err := asn1.Marshal(seq)
		if err != nil {
			return // e.g. an OID asn1 refuses (first arc > 2): no certificate has it
		}
		got, ok := subjectDN(der)
		if !ok {
			return
		}
		if !d.equal(got) {
			t.Fatalf("%q does not match the subject built from it", s)
		}
	})
}
