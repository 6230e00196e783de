package twitter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Credentials are the OAuth1 user-context keys of a Twitter app. They
// never appear in logs, errors or dumps: String, GoString, Format and
// LogValue print a redacted form, so a careless %v or slog attribute
// cannot leak them.
type Credentials struct {
	ConsumerKey    string
	ConsumerSecret string
	AccessToken    string
	AccessSecret   string
}

// The environment variables holding credentials. They override the
// file, key by key, as everywhere in Vigie's configuration.
const (
	EnvConsumerKey    = "VIGIE_TWITTER_CONSUMER_KEY"
	EnvConsumerSecret = "VIGIE_TWITTER_CONSUMER_SECRET"
	EnvAccessToken    = "VIGIE_TWITTER_ACCESS_TOKEN"
	EnvAccessSecret   = "VIGIE_TWITTER_ACCESS_SECRET"
)

const redacted = "twitter.Credentials{[redacted]}"

func (Credentials) String() string               { return redacted }
func (Credentials) GoString() string             { return redacted }
func (Credentials) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (Credentials) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Format redacts under every verb, %+v and %#v included.
func (Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// missing names the keys that are empty.
func (c Credentials) missing() []string {
	var out []string
	for _, k := range []struct{ name, v string }{
		{"consumer_key", c.ConsumerKey}, {"consumer_secret", c.ConsumerSecret},
		{"access_token", c.AccessToken}, {"access_secret", c.AccessSecret},
	} {
		if k.v == "" {
			out = append(out, k.name)
		}
	}
	return out
}

// credentialKeys maps the keys a credentials file may use to fields: the
// snake-case names, and the environment variables' names so that one
// file can serve both.
var credentialKeys = map[string]func(*Credentials) *string{
	"consumer_key":    func(c *Credentials) *string { return &c.ConsumerKey },
	"consumer_secret": func(c *Credentials) *string { return &c.ConsumerSecret },
	"access_token":    func(c *Credentials) *string { return &c.AccessToken },
	"access_secret":   func(c *Credentials) *string { return &c.AccessSecret },
	EnvConsumerKey:    func(c *Credentials) *string { return &c.ConsumerKey },
	EnvConsumerSecret: func(c *Credentials) *string { return &c.ConsumerSecret },
	EnvAccessToken:    func(c *Credentials) *string { return &c.AccessToken },
	EnvAccessSecret:   func(c *Credentials) *string { return &c.AccessSecret },
}

// LoadCredentials reads credentials from path (a JSON or YAML object with
// consumer_key, consumer_secret, access_token and access_secret; "" for
// none), then lets the VIGIE_TWITTER_* environment variables override
// each key. A file readable by every user is read but warned about on
// log: it holds secrets. Missing keys are an error naming them (never
// their values).
func LoadCredentials(path string, log *slog.Logger) (Credentials, error) {
	return loadCredentials(path, os.Getenv, log)
}

func loadCredentials(path string, getenv func(string) string, log *slog.Logger) (Credentials, error) {
	if log == nil {
		log = slog.Default()
	}
	var c Credentials
	if path != "" {
		fi, err := os.Stat(path)
		if err != nil {
			return Credentials{}, fmt.Errorf("twitter credentials: %w", err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm()&0o004 != 0 {
			log.Warn("twitter credentials file is readable by every user; restrict it (chmod 600)",
				"path", path, "mode", fi.Mode().Perm().String())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return Credentials{}, fmt.Errorf("twitter credentials: %w", err)
		}
		if err := parseCredentials(b, &c); err != nil {
			return Credentials{}, fmt.Errorf("twitter credentials %s: %w", path, err)
		}
	}
	for _, k := range []string{EnvConsumerKey, EnvConsumerSecret, EnvAccessToken, EnvAccessSecret} {
		if v := getenv(k); v != "" {
			*credentialKeys[k](&c) = v
		}
	}
	if m := c.missing(); len(m) > 0 {
		where := "the environment (" + EnvConsumerKey + "...)"
		if path != "" {
			where = path + " or " + where
		}
		return Credentials{}, fmt.Errorf("twitter credentials: %s missing from %s", strings.Join(m, ", "), where)
	}
	return c, nil
}

// parseCredentials reads a JSON or YAML object of string values. Errors
// name keys, never values: a YAML parser's message can quote the line
// it failed on, so it is not passed on.
func parseCredentials(b []byte, c *Credentials) error {
	var m map[string]any
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		if err := json.Unmarshal(t, &m); err != nil {
			return fmt.Errorf("not a JSON object of strings")
		}
	} else if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("not a YAML mapping of strings")
	}
	var unknown []string
	for k, v := range m {
		set, ok := credentialKeys[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("key %s: want a string", k)
		}
		*set(c) = strings.TrimSpace(s)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown keys %s (want consumer_key, consumer_secret, access_token, access_secret)", strings.Join(unknown, ", "))
	}
	return nil
}
