package config

import (
	"strings"
	"testing"
	"time"
)

func TestPrivacyDefaultsOff(t *testing.T) {
	c := Default()
	if len(c.Privacy.Pseudonymise) != 0 || c.Privacy.Pseudonymises("exports") {
		t.Errorf("pseudonymisation on by default: %v", c.Privacy.Pseudonymise)
	}
	if d, err := c.Privacy.Retention(); d != 0 || err != nil {
		t.Errorf("default retention = %v, %v; want 0 (keep forever)", d, err)
	}
	if c.Privacy.RetentionEvery.D() != time.Hour {
		t.Errorf("privacy.retention_every = %v, want 1h", c.Privacy.RetentionEvery.D())
	}
}

func TestPrivacyFromFileAndEnv(t *testing.T) {
	c, err := Load("testdata/privacy.good.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Privacy.Pseudonymises("briefings") || !c.Privacy.Pseudonymises("exports") || c.Privacy.Pseudonymises("alerts") {
		t.Errorf("pseudonymise = %v", c.Privacy.Pseudonymise)
	}
	if d, _ := c.Privacy.Retention(); d != 90*24*time.Hour {
		t.Errorf("post_retention = %v, want 2160h", d)
	}
	env := []string{"VIGIE_PRIVACY_PSEUDONYMISE=alerts,exports", "VIGIE_PRIVACY_KEY=from-the-environment-0123", "VIGIE_PRIVACY_POST_RETENTION=30d"}
	c, err = Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Privacy.Pseudonymises("alerts") || c.Privacy.Pseudonymises("briefings") || string(c.Privacy.Key) != "from-the-environment-0123" {
		t.Errorf("privacy from env = %+v", c.Privacy)
	}
	if d, _ := c.Privacy.Retention(); d != 30*24*time.Hour {
		t.Errorf("post_retention from env = %v, want 720h", d)
	}
}

// TestPrivacyKeyNeverShown checks that the key appears neither in the
// printed configuration nor in a validation error.
func TestPrivacyKeyNeverShown(t *testing.T) {
	const key = "very-secret-pseudonym-key"
	c, err := Load("", []string{"VIGIE_PRIVACY_KEY=" + key, "VIGIE_PRIVACY_PSEUDONYMISE=exports"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), key) || !strings.Contains(string(b), "[redacted]") {
		t.Errorf("printed configuration shows the key or does not redact it:\n%s", b)
	}
	_, err = Load("", []string{"VIGIE_PRIVACY_KEY=short-secret", "VIGIE_PRIVACY_PSEUDONYMISE=exports"})
	if err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Errorf("short key error = %v: want an error that does not quote the key", err)
	}
}
