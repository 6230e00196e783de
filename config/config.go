// Package config holds Vigie's configuration: one YAML file, overridden by
// VIGIE_* environment variables, then by command-line flags. Every field
// documents its default; Validate names the offending key, so an operator
// fixing a file at 3 a.m. during an election night is told exactly where.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration read from YAML or env as "90s", "15m", "72h".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalYAML writes the duration in Go's notation.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads Go's duration notation.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 90s, 15m or 72h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Config is the whole configuration. The zero value of any field means its
// default; Default returns a Config with every default filled in.
type Config struct {
	// DataDir holds the embedded broker's log and the embedded store.
	// Default "var".
	DataDir string `yaml:"data_dir"`
	Bus     Bus    `yaml:"bus"`
	Store   Store  `yaml:"store"`
	Ingest  Ingest `yaml:"ingest"`
	Graph   Graph  `yaml:"graph"`
	Alerts  Alerts `yaml:"alerts"`
	HTTP    HTTP   `yaml:"http"`
	Log     Log    `yaml:"log"`
}

// Bus configures Kafka.
type Bus struct {
	// Brokers lists Kafka bootstrap addresses. Empty (the default) starts
	// the embedded Kafka-protocol broker in-process on loopback.
	Brokers []string `yaml:"brokers"`
	// EmbeddedAddr is where the embedded broker listens. Default
	// "127.0.0.1:0" (a free port, printed at start).
	EmbeddedAddr string `yaml:"embedded_addr"`
	// Partitions for topics Vigie creates. Default 1, which keeps the
	// embedded default deterministic; raise it to scale graph workers out.
	Partitions int `yaml:"partitions"`
	// ReplicationFactor for topics Vigie creates. Default 1.
	ReplicationFactor int `yaml:"replication_factor"`
	// TopicPrefix is prepended to every topic name. Default "vigie.".
	TopicPrefix string `yaml:"topic_prefix"`
	// GroupPrefix is prepended to each stage's consumer group. Default "vigie-".
	GroupPrefix string `yaml:"group_prefix"`
	// BatchSize is the most records a producer sends in one request and a
	// stage handles between commits. Default 500.
	BatchSize int `yaml:"batch_size"`
	// BatchTimeout bounds how long a partial batch waits. Default 200ms.
	BatchTimeout Duration `yaml:"batch_timeout"`
}

// Store selects where results are kept.
type Store struct {
	// Kind is "embedded" (default; SQLite in DataDir) or "elasticsearch".
	Kind string `yaml:"kind"`
	// Path of the embedded database. Default "<data_dir>/vigie.db".
	Path string `yaml:"path"`
	// Elasticsearch lists node URLs when Kind is "elasticsearch".
	Elasticsearch []string `yaml:"elasticsearch"`
}

// Ingest configures the source replayed by `vigie run` and `vigie ingest`.
type Ingest struct {
	// Source is a file of posts. Default "testdata/scenario/posts.jsonl",
	// the bundled election scenario.
	Source string `yaml:"source"`
	// Format of Source: "jsonl" (Vigie's post JSON, one per line). Default
	// "jsonl".
	Format string `yaml:"format"`
	// Speed replays event time this many times faster than real time; 0
	// (the default) replays as fast as the pipeline takes it.
	Speed float64 `yaml:"speed"`
	// DeadLetterFile also appends rejected records to this file, beside the
	// dead-letter topic. Default "<data_dir>/deadletter.jsonl".
	DeadLetterFile string `yaml:"dead_letter_file"`
	// DetectLanguage fills a post's language when the source gave none.
	// Default true.
	DetectLanguage *bool `yaml:"detect_language"`
	// ResolveShorteners expands bit.ly, t.co and similar links by
	// following their redirects (HEAD requests, cached, 3 s timeout,
	// public addresses only). Default false: it sends traffic to the
	// shorteners.
	ResolveShorteners bool `yaml:"resolve_shorteners"`
	// Dedupe is how many recent post keys ingest remembers to drop
	// duplicates by platform ID. Default 1000000.
	Dedupe int `yaml:"dedupe"`
}

// Graph configures co-action detection.
type Graph struct {
	// Window: two actions on the same object pair when at most this far
	// apart. Default 60s (the window CooRTweet's examples use).
	Window Duration `yaml:"window"`
	// KeyCap: a new action pairs with at most this many recent actions of
	// its object, so a viral post cannot cause a quadratic blow-up. Default 50.
	KeyCap int `yaml:"key_cap"`
	// MinWeight: edges sharing fewer distinct objects are left out of
	// community detection. Default 3.
	MinWeight int `yaml:"min_weight"`
	// MinClusterSize: smaller communities are not reported. Default 3.
	MinClusterSize int `yaml:"min_cluster_size"`
	// Retention of edges in stream time after their last co-action.
	// Default 72h.
	Retention Duration `yaml:"retention"`
	// WeakRetention of edges below min_weight, which are nearly all chance
	// and nearly all of memory. Default 6h: slow campaigns spread over
	// days still reach min_weight; shorten it when memory is tight.
	WeakRetention Duration `yaml:"weak_retention"`
	// Lateness: how late an action may arrive and still pair. Default 5m.
	Lateness Duration `yaml:"lateness"`
	// Signals to pair on. Default [repost, link].
	Signals []string `yaml:"signals"`
	// Algorithm for communities: louvain (default; finest level plus a
	// rejoin pass), leiden (connected communities, Constant Potts Model)
	// or components (connected components of the thresholded graph).
	Algorithm string `yaml:"algorithm"`
	// DiscountPopular makes objects shared by many accounts count less in
	// the weight used for communities (log 3 / log(1+c) per object).
	// Default false.
	DiscountPopular bool `yaml:"discount_popular"`
	// HyperactiveAt scales down the edges of accounts that co-shared more
	// distinct objects than this (by √(at/n)). Default 0: off.
	HyperactiveAt int `yaml:"hyperactive_at"`
	// NullModelAlpha keeps only edges whose co-sharing is unlikely by
	// chance given both accounts' activity (hypergeometric p-value below
	// it). Default 0: off; 1 computes and shows p-values without filtering.
	NullModelAlpha float64 `yaml:"null_model_alpha"`
	// BackboneAlpha applies the disparity filter (Serrano et al. 2009) at
	// this level. Default 0: off. Beware: inside dense coordinated groups
	// weight is spread evenly, which the filter reads as noise.
	BackboneAlpha float64 `yaml:"backbone_alpha"`
	// DetectEvery: community detection runs each time stream time advances
	// this much, and whenever the input goes idle. Default 30m.
	DetectEvery Duration `yaml:"detect_every"`
	// CheckpointEvery: the graph stage snapshots its state and commits
	// offsets at least this often in wall time. Default 5s.
	CheckpointEvery Duration `yaml:"checkpoint_every"`
}

// Alerts configures the alert rule.
type Alerts struct {
	// MinRisk: an active cluster at or above this risk (0-100) raises an
	// alert. Default 50.
	MinRisk float64 `yaml:"min_risk"`
}

// HTTP configures the API and UI server.
type HTTP struct {
	// Addr to listen on. Default "127.0.0.1:8080".
	Addr string `yaml:"addr"`
}

// Log configures logging.
type Log struct {
	// Level: debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format: text or json. Default text.
	Format string `yaml:"format"`
}

// Known signal names, mirroring post.Kind values; config does not import
// graph so that the arrows keep pointing down.
var knownSignals = map[string]bool{
	"repost": true, "link": true, "domain": true, "hashtag": true,
	"reply": true, "mention": true, "media": true, "text": true, "hashtag_seq": true,
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	var c Config
	c.fill()
	return c
}

func (c *Config) fill() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defDur := func(p *Duration, v time.Duration) {
		if *p == 0 {
			*p = Duration(v)
		}
	}
	def(&c.DataDir, "var")
	def(&c.Bus.EmbeddedAddr, "127.0.0.1:0")
	defInt(&c.Bus.Partitions, 1)
	defInt(&c.Bus.ReplicationFactor, 1)
	def(&c.Bus.TopicPrefix, "vigie.")
	def(&c.Bus.GroupPrefix, "vigie-")
	defInt(&c.Bus.BatchSize, 500)
	defDur(&c.Bus.BatchTimeout, 200*time.Millisecond)
	def(&c.Store.Kind, "embedded")
	def(&c.Store.Path, c.DataDir+"/vigie.db")
	def(&c.Ingest.Source, "testdata/scenario/posts.jsonl")
	def(&c.Ingest.Format, "jsonl")
	def(&c.Ingest.DeadLetterFile, c.DataDir+"/deadletter.jsonl")
	if c.Ingest.DetectLanguage == nil {
		t := true
		c.Ingest.DetectLanguage = &t
	}
	defInt(&c.Ingest.Dedupe, 1_000_000)
	defDur(&c.Graph.Window, 60*time.Second)
	defInt(&c.Graph.KeyCap, 50)
	defInt(&c.Graph.MinWeight, 3)
	defInt(&c.Graph.MinClusterSize, 3)
	defDur(&c.Graph.Retention, 72*time.Hour)
	defDur(&c.Graph.WeakRetention, 6*time.Hour)
	defDur(&c.Graph.Lateness, 5*time.Minute)
	if len(c.Graph.Signals) == 0 {
		c.Graph.Signals = []string{"repost", "link"}
	}
	def(&c.Graph.Algorithm, "louvain")
	defDur(&c.Graph.DetectEvery, 30*time.Minute)
	defDur(&c.Graph.CheckpointEvery, 5*time.Second)
	if c.Alerts.MinRisk == 0 {
		c.Alerts.MinRisk = 50
	}
	def(&c.HTTP.Addr, "127.0.0.1:8080")
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
}

// KeyError names the configuration key that is wrong.
type KeyError struct {
	Key    string
	Reason string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Reason }

// Validate checks every key and returns all problems at once, each a
// *KeyError, joined with errors.Join.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &KeyError{Key: key, Reason: fmt.Sprintf(format, a...)})
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	for i, b := range c.Bus.Brokers {
		if !strings.Contains(b, ":") {
			bad(fmt.Sprintf("bus.brokers[%d]", i), "%q must be host:port", b)
		}
	}
	if !strings.Contains(c.Bus.EmbeddedAddr, ":") {
		bad("bus.embedded_addr", "%q must be host:port", c.Bus.EmbeddedAddr)
	}
	if c.Bus.Partitions < 1 || c.Bus.Partitions > 10000 {
		bad("bus.partitions", "must be between 1 and 10000, got %d", c.Bus.Partitions)
	}
	if c.Bus.ReplicationFactor < 1 {
		bad("bus.replication_factor", "must be at least 1, got %d", c.Bus.ReplicationFactor)
	}
	if c.Bus.BatchSize < 1 || c.Bus.BatchSize > 100000 {
		bad("bus.batch_size", "must be between 1 and 100000, got %d", c.Bus.BatchSize)
	}
	if c.Bus.BatchTimeout <= 0 {
		bad("bus.batch_timeout", "must be positive")
	}
	switch c.Store.Kind {
	case "embedded":
		if c.Store.Path == "" {
			bad("store.path", "must not be empty")
		}
	case "elasticsearch":
		if len(c.Store.Elasticsearch) == 0 {
			bad("store.elasticsearch", "must list at least one URL when store.kind is elasticsearch")
		}
		for i, u := range c.Store.Elasticsearch {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				bad(fmt.Sprintf("store.elasticsearch[%d]", i), "%q must be an http:// or https:// URL", u)
			}
		}
	default:
		bad("store.kind", "must be embedded or elasticsearch, got %q", c.Store.Kind)
	}
	if c.Ingest.Format != "jsonl" {
		bad("ingest.format", "must be jsonl, got %q", c.Ingest.Format)
	}
	if c.Ingest.Dedupe < 1 {
		bad("ingest.dedupe", "must be at least 1, got %d", c.Ingest.Dedupe)
	}
	if c.Ingest.Speed < 0 {
		bad("ingest.speed", "must not be negative")
	}
	if c.Graph.Window <= 0 {
		bad("graph.window", "must be positive")
	}
	if c.Graph.KeyCap < 2 {
		bad("graph.key_cap", "must be at least 2, got %d", c.Graph.KeyCap)
	}
	if c.Graph.MinWeight < 1 {
		bad("graph.min_weight", "must be at least 1, got %d", c.Graph.MinWeight)
	}
	if c.Graph.MinClusterSize < 2 {
		bad("graph.min_cluster_size", "must be at least 2, got %d", c.Graph.MinClusterSize)
	}
	if c.Graph.Retention < c.Graph.Window {
		bad("graph.retention", "must be at least graph.window")
	}
	if c.Graph.WeakRetention <= 0 || c.Graph.WeakRetention > c.Graph.Retention {
		bad("graph.weak_retention", "must be positive and at most graph.retention")
	}
	if c.Graph.Lateness < 0 {
		bad("graph.lateness", "must not be negative")
	}
	for i, s := range c.Graph.Signals {
		if !knownSignals[s] {
			bad(fmt.Sprintf("graph.signals[%d]", i), "unknown signal %q (known: repost, link, domain, hashtag, hashtag_seq, text, reply, mention, media)", s)
		}
	}
	switch c.Graph.Algorithm {
	case "louvain", "leiden", "components":
	default:
		bad("graph.algorithm", "must be louvain, leiden or components, got %q", c.Graph.Algorithm)
	}
	if c.Graph.HyperactiveAt < 0 {
		bad("graph.hyperactive_at", "must not be negative")
	}
	if c.Graph.NullModelAlpha < 0 || c.Graph.NullModelAlpha > 1 {
		bad("graph.null_model_alpha", "must be between 0 and 1")
	}
	if c.Graph.BackboneAlpha < 0 || c.Graph.BackboneAlpha > 1 {
		bad("graph.backbone_alpha", "must be between 0 and 1")
	}
	if c.Graph.DetectEvery <= 0 {
		bad("graph.detect_every", "must be positive")
	}
	if c.Graph.CheckpointEvery <= 0 {
		bad("graph.checkpoint_every", "must be positive")
	}
	if c.Alerts.MinRisk < 0 || c.Alerts.MinRisk > 100 {
		bad("alerts.min_risk", "must be between 0 and 100, got %g", c.Alerts.MinRisk)
	}
	if !strings.Contains(c.HTTP.Addr, ":") {
		bad("http.addr", "%q must be host:port", c.HTTP.Addr)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	return errors.Join(errs...)
}

// Parse reads YAML, rejecting unknown keys (a misspelt key silently
// ignored is a setting silently lost), then applies env overrides from
// environ (os.Environ() form), fills defaults and validates.
func Parse(r io.Reader, environ []string) (Config, error) {
	var c Config
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("parse config: %w", err)
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return Config{}, err
	}
	c.fill()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Load reads the file at path ("" means no file: defaults and env only).
func Load(path string, environ []string) (Config, error) {
	if path == "" {
		return Parse(strings.NewReader(""), environ)
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f, environ)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// EnvName is the environment variable that overrides a dotted key:
// graph.min_weight → VIGIE_GRAPH_MIN_WEIGHT.
func EnvName(key string) string {
	return "VIGIE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every dotted key, in declaration order, for the reference in
// the README and for `vigie config check --keys`.
func Keys() []string {
	var keys []string
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value) { keys = append(keys, key) })
	return keys
}

func walk(v reflect.Value, prefix string, fn func(key string, f reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			walk(f, key, fn)
			continue
		}
		fn(key, f)
	}
}

var durationType = reflect.TypeOf(Duration(0))

func applyEnv(c *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "VIGIE_") {
			env[k] = v
		}
	}
	var errs []error
	walk(reflect.ValueOf(c).Elem(), "", func(key string, f reflect.Value) {
		name := EnvName(key)
		val, ok := env[name]
		if !ok {
			return
		}
		if err := setFromString(f, val); err != nil {
			errs = append(errs, &KeyError{Key: key, Reason: fmt.Sprintf("from %s: %v", name, err)})
		}
	})
	return errors.Join(errs...)
}

func setFromString(f reflect.Value, s string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 90s, 15m or 72h", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool || (f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Bool):
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		if f.Kind() == reflect.Bool {
			f.SetBool(b)
		} else {
			f.Set(reflect.ValueOf(&b))
		}
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		f.SetFloat(x)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// YAML renders the configuration, defaults filled, for `vigie config check
// --print`.
func (c Config) YAML() ([]byte, error) { return yaml.Marshal(c) }
