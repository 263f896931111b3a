package clientkeys

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrNotPublic is the cause of a refused jwks_uri connection: the address, after DNS
// resolution, is not a public unicast address.
var ErrNotPublic = errors.New("refused: jwks_uri resolves to a non-public address")

// nonPublic are the ranges a jwks_uri fetch never connects to, beyond what netip
// classifies (loopback, private, link-local, multicast, unspecified): an attacker who
// registers or names such a jwks_uri would otherwise make the function probe the
// network it runs in.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),         // RFC 1122 "this network"
	netip.MustParsePrefix("100.64.0.0/10"),     // RFC 6598 shared address space (CGNAT)
	netip.MustParsePrefix("169.254.0.0/16"),    // RFC 3927 link-local, incl. the 169.254.169.254 metadata service
	netip.MustParsePrefix("192.0.0.0/24"),      // RFC 6890 IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),     // RFC 2544 benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),       // RFC 1112 reserved, incl. broadcast
	netip.MustParsePrefix("fd00:ec2::254/128"), // the EC2 metadata service over IPv6 (also ULA)
	netip.MustParsePrefix("64:ff9b::/96"),      // RFC 6052 NAT64: may embed any IPv4 address
	netip.MustParsePrefix("2002::/16"),         // RFC 3056 6to4: may embed any IPv4 address
}

// dialControl runs for every connection the fetching client makes, after DNS
// resolution and before connecting, so a name that resolves (or re-resolves, DNS
// rebinding) to an internal address is refused at the socket. Loopback is allowed
// only with AllowLoopback.
func (r *Resolver) dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrNotPublic, address)
	}
	if !publicAddr(ap.Addr(), r.AllowLoopback) {
		return fmt.Errorf("%w (%s)", ErrNotPublic, ap.Addr())
	}
	return nil
}

// PublicAddr reports whether a fetch of a URL a client registered may connect to a:
// a public unicast address, or loopback when allowLoopback. pkg/backchannel's
// logout POSTs are held to the same rule as jwks_uri fetches.
func PublicAddr(a netip.Addr, allowLoopback bool) bool { return publicAddr(a, allowLoopback) }

// publicAddr reports whether a may be connected to.
func publicAddr(a netip.Addr, allowLoopback bool) bool {
	a = a.Unmap()
	if a.IsLoopback() {
		return allowLoopback
	}
	if !a.IsValid() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
