package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestBusSecurityKeys reads TLS and SASL settings from YAML and env, keeps
// the password out of every printout, and names the wrong key.
func TestBusSecurityKeys(t *testing.T) {
	yml := `
bus:
  brokers: [kafka-1:9093]
  tls:
    ca_file: /etc/vigie/ca.pem
    cert_file: /etc/vigie/client.pem
    key_file: /etc/vigie/client-key.pem
  sasl:
    mechanism: SCRAM-SHA-512
    username: vigie
`
	c, err := Parse(strings.NewReader(yml), []string{"VIGIE_BUS_SASL_PASSWORD=correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Bus.SASL.Password != "correct horse battery" || c.Bus.TLS.CAFile != "/etc/vigie/ca.pem" || c.Bus.SASL.Mechanism != "SCRAM-SHA-512" {
		t.Fatalf("security keys not read: %+v", c.Bus)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{string(out), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "correct horse") {
			t.Fatalf("password printed:\n%s", s)
		}
	}
	if !strings.Contains(string(out), "[redacted]") {
		t.Errorf("printed config should show that a password is set:\n%s", out)
	}

	tests := []struct {
		name    string
		env     []string
		wantKey string
	}{
		{"unknown mechanism", []string{"VIGIE_BUS_SASL_MECHANISM=GSSAPI", "VIGIE_BUS_SASL_USERNAME=u", "VIGIE_BUS_SASL_PASSWORD=p"}, "bus.sasl.mechanism"},
		{"password without mechanism", []string{"VIGIE_BUS_SASL_PASSWORD=p"}, "bus.sasl.mechanism"},
		{"mechanism without username", []string{"VIGIE_BUS_SASL_MECHANISM=PLAIN", "VIGIE_BUS_SASL_PASSWORD=p"}, "bus.sasl.username"},
		{"both password and file", []string{"VIGIE_BUS_SASL_MECHANISM=PLAIN", "VIGIE_BUS_SASL_USERNAME=u", "VIGIE_BUS_SASL_PASSWORD=p", "VIGIE_BUS_SASL_PASSWORD_FILE=/run/secrets/kafka"}, "bus.sasl.password"},
		{"neither password nor file", []string{"VIGIE_BUS_SASL_MECHANISM=PLAIN", "VIGIE_BUS_SASL_USERNAME=u"}, "bus.sasl.password"},
		{"cert without key", []string{"VIGIE_BUS_TLS_CERT_FILE=/c.pem"}, "bus.tls.cert_file"},
		{"bad bool", []string{"VIGIE_BUS_TLS_INSECURE_SKIP_VERIFY=perhaps"}, "bus.tls.insecure_skip_verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(""), tc.env)
			var ke *KeyError
			if !errors.As(err, &ke) || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("err = %v, want a KeyError naming %s", err, tc.wantKey)
			}
			if strings.Contains(err.Error(), "=p") || strings.Contains(err.Error(), `"p"`) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	def := Default()
	if def.Bus.TLS.InsecureSkipVerify || def.Bus.TLS.Enabled || def.Bus.SASL.Mechanism != "" {
		t.Errorf("security must be off by default and never skip verification: %+v", def.Bus)
	}
}
