package config

import (
	"strings"
	"testing"
	"time"
)

// TestCheckExposure: Vigie refuses to serve beyond loopback unless
// authentication is configured.
func TestCheckExposure(t *testing.T) {
	tokens := []HTTPToken{{Name: "a", Role: "analyst", Token: "a-token-0123456789"}}
	tests := []struct {
		addr    string
		auth    HTTPAuth
		wantErr bool
	}{
		{"127.0.0.1:8080", HTTPAuth{}, false},
		{"127.0.0.2:8080", HTTPAuth{}, false},
		{"localhost:8080", HTTPAuth{}, false},
		{"LOCALHOST:8080", HTTPAuth{}, false},
		{"[::1]:8080", HTTPAuth{}, false},
		{"[::ffff:127.0.0.1]:8080", HTTPAuth{}, false},
		{"0.0.0.0:8080", HTTPAuth{}, true},
		{":8080", HTTPAuth{}, true},
		{"[::]:8080", HTTPAuth{}, true},
		{"192.168.1.10:8080", HTTPAuth{}, true},
		{"vigie.example.org:443", HTTPAuth{}, true},
		{"localhost.evil.example:80", HTTPAuth{}, true},
		{"0.0.0.0:8080", HTTPAuth{Tokens: tokens}, false},
		{"0.0.0.0:8080", HTTPAuth{TokensFile: "/run/secrets/t"}, false},
		{"0.0.0.0:8080", HTTPAuth{TrustedProxies: []string{"10.0.0.0/8"}}, false},
	}
	for _, tt := range tests {
		err := HTTP{Addr: tt.addr, Auth: tt.auth}.CheckExposure()
		if (err != nil) != tt.wantErr {
			t.Errorf("%s %+v: err %v, want error %v", tt.addr, tt.auth, err, tt.wantErr)
		}
		if err != nil && (!strings.Contains(err.Error(), "http.addr") || !strings.Contains(err.Error(), "http.auth.tokens")) {
			t.Errorf("%s: the error must name the keys: %v", tt.addr, err)
		}
	}
	// The refusal is at serve time, not in Validate: stages that serve no
	// HTTP (vigie graph) take the same configuration.
	c, err := Parse(strings.NewReader("http:\n  addr: 0.0.0.0:8080\n"), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.HTTP.CheckExposure() == nil {
		t.Error("0.0.0.0 without auth accepted")
	}
	// alerts.api_token guards changes only: not enough to expose reads.
	c.Alerts.APIToken = "x-token-0123456789"
	if c.HTTP.CheckExposure() == nil {
		t.Error("alerts.api_token alone accepted on 0.0.0.0")
	}
}

func TestHTTPAuthValues(t *testing.T) {
	c, err := Load("testdata/http_auth.good.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := c.HTTP
	if len(h.Auth.Tokens) != 2 || h.Auth.Tokens[1].TokenEnv != "VIGIE_OPS_TOKEN" || h.Auth.UserHeader != "X-Auth-Request-User" ||
		h.Auth.SessionTTL.D() != 8*time.Hour || h.RateLimit.RPS != 5 || h.RateLimit.Burst != 50 || h.AuditFile != "/var/log/vigie/audit.jsonl" ||
		len(h.Auth.TrustedProxies) != 2 || h.CheckExposure() != nil {
		t.Errorf("http %+v", h)
	}
	d := Default().HTTP
	if d.Auth.UserHeader != "X-Forwarded-User" || d.Auth.GroupsHeader != "X-Forwarded-Groups" || d.Auth.SessionTTL.D() != 12*time.Hour ||
		d.RateLimit.RPS != 20 || d.RateLimit.Burst != 200 || d.AuditFile != "var/audit.jsonl" || d.AuthConfigured() || len(d.CORSOrigins) != 0 {
		t.Errorf("defaults %+v", d)
	}
	env := []string{"VIGIE_HTTP_AUTH_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.1", "VIGIE_HTTP_AUTH_TOKENS_FILE=/run/t", "VIGIE_HTTP_RATE_LIMIT_RPS=-1"}
	c, err = Parse(strings.NewReader(""), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.HTTP.Auth.TrustedProxies) != 2 || c.HTTP.Auth.TokensFile != "/run/t" || c.HTTP.RateLimit.RPS != -1 {
		t.Errorf("env overrides %+v", c.HTTP)
	}
	// The printed configuration hides token values.
	c2, err := Load("testdata/http_auth.good.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	c2.HTTP.Auth.Tokens[0].Token = "secret-token-0123456789"
	c2.HTTP.Auth.Tokens[0].TokenFile = ""
	b, err := c2.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "secret-token-0123456789") || !strings.Contains(string(b), "[redacted]") {
		t.Errorf("printed config shows a token:\n%s", b)
	}
}

// TestHTTPAuthErrors: every mistake of the bad file is reported, each
// naming its key.
func TestHTTPAuthErrors(t *testing.T) {
	_, err := Load("testdata/http_auth.bad.yml", nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`http.auth.tokens[0].role: must be analyst or admin`,
		`http.auth.tokens[1].token: must be at least 16 characters`,
		`http.auth.tokens[2].token: set exactly one of token, token_file and token_env`,
		`http.auth.trusted_proxies[0]: "10.0.0.0/33" is not an address or CIDR prefix`,
		`http.auth.user_header: "X Forwarded User" is not an HTTP header name`,
		`http.cors_origins[0]: "https://dash.example.org/path" must be an origin`,
		`http.rate_limit.burst: must be at least 1`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "alice-token") || strings.Contains(err.Error(), "carol-token") {
		t.Errorf("an error quotes a token: %v", err)
	}
}
