package crmhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
)

// blockedPrefixes are ranges a webhook may not target unless the server allows private targets,
// besides what netip's predicates catch (loopback, RFC 1918 / ULA, link-local, multicast,
// unspecified): "this network", carrier-grade NAT, benchmarking, reserved and broadcast.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Blocked reports whether ip is loopback, private, link-local or otherwise not a public
// unicast address, the targets a tenant must not make the server call (SSRF).
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// errBlockedTarget is the dial error of a delivery to a refused address.
var errBlockedTarget = errors.New("the target address is private, loopback or link-local")

// dialControl runs after name resolution, on the address actually dialed: a name that resolves
// (or re-resolves, DNS rebinding) to a private address is refused at delivery time too.
func dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, errBlockedTarget)
	}
	if Blocked(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", ap.Addr(), errBlockedTarget)
	}
	return nil
}

// checkURL parses a subscription's URL: http or https, with a host, at most 2048 characters.
// Unless allowPrivate, a literal private address, a localhost name, or a name that resolves to
// a private address is refused (a name that does not resolve now is accepted: its deliveries
// are checked when they dial).
func checkURL(ctx context.Context, raw string, allowPrivate bool, resolver *net.Resolver) (string, *apperr.FieldError) {
	invalid := &apperr.FieldError{Field: "url", Code: "url_invalid", Message: "url must be an absolute http or https URL"}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", &apperr.FieldError{Field: "url", Code: "required", Message: "url is required"}
	}
	if len(raw) > 2048 {
		return "", &apperr.FieldError{Field: "url", Code: "url_invalid", Message: "url must have at most 2048 characters"}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return "", invalid
	}
	if allowPrivate {
		return u.String(), nil
	}
	notAllowed := &apperr.FieldError{Field: "url", Code: "url_not_allowed",
		Message: "url must not point to a loopback, private or link-local address"}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "", notAllowed
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if Blocked(ip) {
			return "", notAllowed
		}
		return u.String(), nil
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ips, err := resolver.LookupNetIP(rctx, "ip", host)
	if err != nil {
		return u.String(), nil
	}
	for _, ip := range ips {
		if Blocked(ip) {
			return "", notAllowed
		}
	}
	return u.String(), nil
}
