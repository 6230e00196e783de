package twitter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testCreds = Credentials{
	ConsumerKey: "ck-SECRET-1", ConsumerSecret: "cs-SECRET-2", AccessToken: "at-SECRET-3", AccessSecret: "as-SECRET-4",
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask may have narrowed it
			t.Fatal(err)
		}
		return p
	}
	full := `{"consumer_key":"ck-SECRET-1","consumer_secret":"cs-SECRET-2","access_token":"at-SECRET-3","access_secret":"as-SECRET-4"}`
	yml := "consumer_key: ck-SECRET-1\nconsumer_secret: cs-SECRET-2\nVIGIE_TWITTER_ACCESS_TOKEN: at-SECRET-3\naccess_secret: as-SECRET-4\n"
	env := map[string]string{}
	for _, tc := range []struct {
		name string
		path string
		env  map[string]string
		want Credentials
		warn bool
		err  string
	}{
		{name: "json", path: write("c.json", full, 0o600), want: testCreds},
		{name: "yaml with an env-style key", path: write("c.yml", yml, 0o640), want: testCreds},
		{name: "world-readable warns", path: write("open.json", full, 0o644), want: testCreds, warn: true},
		{name: "env only", env: map[string]string{
			EnvConsumerKey: "ck-SECRET-1", EnvConsumerSecret: "cs-SECRET-2", EnvAccessToken: "at-SECRET-3", EnvAccessSecret: "as-SECRET-4",
		}, want: testCreds},
		{name: "env overrides the file", path: write("c2.json", full, 0o600), env: map[string]string{EnvAccessToken: "at-OTHER"},
			want: Credentials{ConsumerKey: "ck-SECRET-1", ConsumerSecret: "cs-SECRET-2", AccessToken: "at-OTHER", AccessSecret: "as-SECRET-4"}},
		{name: "missing keys are named", path: write("part.yml", "consumer_key: ck-SECRET-1\n", 0o600), err: "consumer_secret, access_token, access_secret missing from"},
		{name: "nothing at all", err: "consumer_key, consumer_secret, access_token, access_secret missing from the environment"},
		{name: "unknown key", path: write("typo.yml", "consumer_key: a\nconsumer_secrt: cs-SECRET-2\n", 0o600), err: "unknown keys consumer_secrt"},
		{name: "not a string", path: write("num.json", `{"consumer_key": 12}`, 0o600), err: "key consumer_key: want a string"},
		{name: "bad yaml", path: write("bad.yml", "consumer_key: [cs-SECRET-2\n", 0o600), err: "not a YAML mapping"},
		{name: "bad json", path: write("bad.json", `{"consumer_key": "cs-SECRET-2"`, 0o600), err: "not a JSON object"},
		{name: "no file", path: filepath.Join(dir, "none.json"), err: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			e := env
			if tc.env != nil {
				e = tc.env
			}
			got, err := loadCredentials(tc.path, func(k string) string { return e[k] }, log)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("credentials differ from the expected ones")
			}
			if w := strings.Contains(logs.String(), "readable by every user"); w != tc.warn {
				t.Errorf("warned %v, want %v: %s", w, tc.warn, logs.String())
			}
			if strings.Contains(logs.String(), "SECRET") {
				t.Errorf("log leaks a secret: %s", logs.String())
			}
		})
	}
}

// TestCredentialsRedacted: no formatting path prints a secret.
func TestCredentialsRedacted(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("x", "creds", testCreds, "cfg", StreamConfig{Credentials: testCreds})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "creds", testCreds, "cfg", StreamConfig{Credentials: testCreds})
	j, _ := json.Marshal(StreamConfig{Credentials: testCreds})
	out := fmt.Sprintf("%v %+v %#v %s %q %v %+v %#v", testCreds, testCreds, testCreds, testCreds, testCreds,
		StreamConfig{Credentials: testCreds}, &StreamConfig{Credentials: testCreds}, StreamConfig{Credentials: testCreds}) +
		logs.String() + string(j)
	if strings.Contains(out, "SECRET") {
		t.Errorf("a secret was printed: %s", out)
	}
	if !strings.Contains(out, "redacted") {
		t.Errorf("no redaction marker in %s", out)
	}
}
