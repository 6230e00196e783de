package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/vigie-osint/vigie/bus"
	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/ops"
)

// BusSecurity maps the bus.tls and bus.sasl keys onto the bus client's.
func BusSecurity(c config.Bus) bus.Security {
	return bus.Security{
		TLS: bus.TLSOptions{
			Enabled: c.TLS.Enabled, CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
			ServerName: c.TLS.ServerName, InsecureSkipVerify: c.TLS.InsecureSkipVerify,
		},
		SASL: bus.SASLOptions{
			Mechanism: c.SASL.Mechanism, Username: c.SASL.Username,
			Password: bus.Secret(c.SASL.Password), PasswordFile: c.SASL.PasswordFile,
		},
	}
}

// secureBus sets TLS and SASL on busCfg for an external cluster and says
// what it connects with — never the password. The embedded broker is on
// loopback without either.
func secureBus(busCfg *bus.Config, cfg config.Config, log *slog.Logger) error {
	if len(cfg.Bus.Brokers) == 0 {
		return nil
	}
	sec := BusSecurity(cfg.Bus)
	tc, mech, err := sec.Build()
	if err != nil {
		return err
	}
	busCfg.TLS, busCfg.SASL = tc, mech
	mechName := "none"
	if mech != nil {
		mechName = mech.Name()
	}
	log.Info("connecting to Kafka", "brokers", strings.Join(cfg.Bus.Brokers, ","), "tls", tc != nil,
		"sasl", mechName, "user", cfg.Bus.SASL.Username)
	if tc != nil && tc.InsecureSkipVerify {
		log.Warn("bus.tls.insecure_skip_verify is on: broker certificates are NOT checked; anyone on the path can read and alter the stream")
	}
	if tc == nil && mechName == bus.SASLPlain {
		log.Warn("SASL PLAIN without TLS sends the password in clear text; set bus.tls")
	}
	return nil
}

// serveOps adds the ops endpoint (metrics, health, readiness) on addr to
// the run group, and reports its bound address.
func serveOps(addr string, profiles bool, m *ops.Metrics, ready func() bool, log *slog.Logger, actor func(string, func(context.Context) error), onReady func(string)) error {
	h := m.Handler(ready)
	if profiles {
		h = m.HandlerWithProfiles(ready)
		log.Warn("ops.pprof is on: runtime profiles are served at /debug/pprof/ on the ops address")
	}
	srv, err := ops.Listen(addr, h, log)
	if err != nil {
		return err
	}
	log.Info("serving metrics, health and readiness", "url", "http://"+srv.Addr()+"/metrics")
	if onReady != nil {
		onReady(srv.Addr())
	}
	actor("ops", srv.Serve)
	return nil
}
