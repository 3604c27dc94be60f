package client

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Target is a server: its registry host (HOST:PORT, as in references)
// and its base URL.
type Target struct {
	Host      string
	Base      *url.URL
	PlainHTTP bool
}

// isLoopback reports whether host (without port) is a loopback name or
// address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ResolveServer reads a server given as HOST[:PORT] or as an http(s) URL.
// Loopback hosts default to plain HTTP; other hosts need HTTPS unless
// allowPlainHTTP is set.
func ResolveServer(server string, allowPlainHTTP bool) (Target, error) {
	if server == "" {
		return Target{}, errors.New("no server given: pass --server HOST:PORT or set PALISADE_SERVER")
	}
	var u *url.URL
	if strings.Contains(server, "://") {
		var err error
		if u, err = url.Parse(server); err != nil {
			return Target{}, fmt.Errorf("server %q: %w", server, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return Target{}, fmt.Errorf("server %q: the scheme must be http or https", server)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return Target{}, fmt.Errorf("server %q: give only the scheme, host and port", server)
		}
	} else {
		if strings.ContainsAny(server, "/?#@") {
			return Target{}, fmt.Errorf("server %q: give HOST:PORT or a URL", server)
		}
		scheme := "https"
		if isLoopback(hostOnly(server)) {
			scheme = "http"
		}
		u = &url.URL{Scheme: scheme, Host: server}
	}
	if u.Host == "" {
		return Target{}, fmt.Errorf("server %q: no host", server)
	}
	u.Path = ""
	plain := u.Scheme == "http"
	if plain && !isLoopback(hostOnly(u.Host)) && !allowPlainHTTP {
		return Target{}, fmt.Errorf("server %s is not a loopback address: refusing plain HTTP, which would send the token in clear; use https:// (or --plain-http if you must)", u.Host)
	}
	return Target{Host: u.Host, Base: u, PlainHTTP: plain}, nil
}

// hostOnly strips the port from HOST:PORT.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
