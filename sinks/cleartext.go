package sinks

import (
	"net"
	"net/url"
	"strings"

	"github.com/heraldproject/herald/common/uri"
)

// ClearText warns, naming param, when its credential would go unencrypted over the network:
// one of addresses is an http:// URL whose host is not a loopback address. kube-eventer sent
// such credentials without a word; herald runs the same, and herald check fails on it.
func ClearText(p *uri.Params, param string, addresses ...string) {
	for _, a := range addresses {
		if PlainHTTP(a) {
			p.Warnf(param, "sent over plain http:// to a host that is not this machine, the credential crosses the network in clear text; use https:// (with ca_file/cacert for a private CA)")
			return
		}
	}
}

// PlainHTTP reports whether address is an http:// URL to a host other than a loopback address.
func PlainHTTP(address string) bool {
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return false
	}
	return true
}
