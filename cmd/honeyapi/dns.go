package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/beacon"
	"github.com/honeyapi/honeyapi/internal/config"
	"github.com/honeyapi/honeyapi/recorder"
	"github.com/honeyapi/honeyapi/tokens"
)

// dnsListener is the authoritative DNS listener of the beacon zone.
type dnsListener struct {
	srv *beacon.Server
	pc  net.PacketConn
	l   net.Listener
}

func (d *dnsListener) run() error {
	if err := d.srv.Serve(d.pc, d.l); err != nil && !errors.Is(err, beacon.ErrServerClosed) {
		return fmt.Errorf("dns listener: %w", err)
	}
	return nil
}

// startBeacon opens the DNS listener when tokens.dns_listen is set (UDP and
// TCP on one port) and returns it with its address; nil when it is off.
func startBeacon(cfg *config.Config, m *tokens.Minter, rec *recorder.Recorder, logger zerolog.Logger) (*dnsListener, string, error) {
	if cfg.Tokens.DNSListen == "" {
		return nil, "", nil
	}
	if cfg.Tokens.DNSZone == "" {
		return nil, "", errors.New("serve: tokens.dns_listen needs tokens.dns_zone, the zone the listener answers")
	}
	var addrs []netip.Addr
	if cfg.Tokens.DNSAnswer != "" {
		a, err := netip.ParseAddr(cfg.Tokens.DNSAnswer)
		if err != nil {
			return nil, "", fmt.Errorf("serve: tokens.dns_answer: %w", err)
		}
		addrs = append(addrs, a)
	}
	dnsLog := logger.With().Str("component", "dns").Logger()
	srv, err := beacon.New(beacon.Options{Zone: cfg.Tokens.DNSZone, Minter: m, Addrs: addrs, OnQuery: rec.DNS, Logger: &dnsLog})
	if err != nil {
		return nil, "", fmt.Errorf("serve: dns listener: %w", err)
	}
	host, port, err := net.SplitHostPort(cfg.Tokens.DNSListen)
	if err != nil {
		return nil, "", fmt.Errorf("serve: tokens.dns_listen %q: %w", cfg.Tokens.DNSListen, err)
	}
	pc, err := net.ListenPacket("udp", cfg.Tokens.DNSListen)
	if err != nil {
		return nil, "", fmt.Errorf("serve: dns listener (udp): %w", err)
	}
	if port == "0" {
		port = strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		pc.Close()
		return nil, "", fmt.Errorf("serve: dns listener (tcp): %w", err)
	}
	return &dnsListener{srv: srv, pc: pc, l: l}, pc.LocalAddr().String(), nil
}
