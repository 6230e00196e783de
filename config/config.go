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
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-osint/vigie/election"
	"github.com/vigie-osint/vigie/privacy"
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
	DataDir string  `yaml:"data_dir"`
	Bus     Bus     `yaml:"bus"`
	Store   Store   `yaml:"store"`
	Ingest  Ingest  `yaml:"ingest"`
	Graph   Graph   `yaml:"graph"`
	Alerts  Alerts  `yaml:"alerts"`
	Brief   Brief   `yaml:"brief"`
	Scoring Scoring `yaml:"scoring"`
	HTTP    HTTP    `yaml:"http"`
	Ops     Ops     `yaml:"ops"`
	Log     Log     `yaml:"log"`
	Privacy Privacy `yaml:"privacy"`
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
	// Retention of the records of the topics Vigie creates (Kafka's
	// retention.ms): how far back a stage can be replayed. Default 168h.
	Retention Duration `yaml:"retention"`
	// TLS to the brokers. Off by default.
	TLS BusTLS `yaml:"tls"`
	// SASL authentication to the brokers. Off by default.
	SASL BusSASL `yaml:"sasl"`
}

// BusTLS configures TLS to Kafka. Setting any file turns TLS on.
type BusTLS struct {
	// Enabled turns TLS on with the system's CA roots.
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of the CAs that signed the brokers'
	// certificates (default: the system roots).
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate and key (PEM) for
	// brokers that authenticate clients by certificate. Both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the brokers' certificates.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate checks. Default false; never
	// turn it on outside a throwaway test cluster.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// BusSASL configures SASL authentication to Kafka.
type BusSASL struct {
	// Mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. Empty: no SASL.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password itself; printed as [redacted]. Prefer PasswordFile (a
	// mounted secret), which keeps it out of files and the environment.
	Password Secret `yaml:"password"`
	// PasswordFile is read at start; a trailing newline is dropped.
	PasswordFile string `yaml:"password_file"`
}

// Secret is a configuration value that is never printed: `config check
// --print`, logs and %v show "[redacted]" (or nothing when unset).
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalYAML hides the value from the printed configuration.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText hides the value from JSON and other text encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Store selects where results are kept.
type Store struct {
	// Kind is "embedded" (default; SQLite in DataDir) or "elasticsearch".
	Kind string `yaml:"kind"`
	// Path of the embedded database. Default "<data_dir>/vigie.db".
	Path string `yaml:"path"`
	// Elasticsearch lists node URLs when Kind is "elasticsearch".
	Elasticsearch []string `yaml:"elasticsearch"`
	// ElasticsearchUsername and a password (ElasticsearchPassword, or
	// better ElasticsearchPasswordFile, a mounted secret) authenticate
	// with HTTP basic auth. Or set an API key (base64 "id:key", as
	// Elasticsearch issues it) in ElasticsearchAPIKey or
	// ElasticsearchAPIKeyFile. Secrets are printed as [redacted] and
	// never logged; files are read at start, a trailing newline dropped.
	ElasticsearchUsername     string `yaml:"elasticsearch_username"`
	ElasticsearchPassword     Secret `yaml:"elasticsearch_password"`
	ElasticsearchPasswordFile string `yaml:"elasticsearch_password_file"`
	ElasticsearchAPIKey       Secret `yaml:"elasticsearch_api_key"`
	ElasticsearchAPIKeyFile   string `yaml:"elasticsearch_api_key_file"`
	// ElasticsearchCACert is a PEM file of the CA that signed the
	// cluster's certificate (default: the system roots).
	ElasticsearchCACert string `yaml:"elasticsearch_ca_cert"`
	// ElasticsearchPrefix starts every index and template name. Default
	// "vigie" (indices vigie-posts-YYYY.MM.DD, vigie-clusters...).
	ElasticsearchPrefix string `yaml:"elasticsearch_prefix"`
	// ElasticsearchRefresh is the bulk refresh policy: "" (default; new
	// documents are searchable within the 1 s refresh interval) or
	// "wait_for" (each write returns once searchable; slower).
	ElasticsearchRefresh string `yaml:"elasticsearch_refresh"`
}

// Ingest configures the source replayed by `vigie run` and `vigie ingest`.
type Ingest struct {
	// Source is a file of posts. Default "testdata/scenario/posts.jsonl",
	// the bundled election scenario.
	Source string `yaml:"source"`
	// Format of Source: a file format (jsonl, json, coortweet, cnt, csv,
	// twitter-v1, twitter-v2, twarc2, io-archive, telegram) or a live
	// source (twitter-stream, mastodon, bluesky) with Source naming its
	// endpoint. Default "jsonl" (Vigie's post JSON, one per line).
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
	// duplicates by platform ID, in two generations (up to twice as many
	// are held, about 50 bytes each). Default 250000: minutes to an hour
	// of a busy stream, which covers a reconnection's catch-up or a
	// file-then-live overlap. A duplicate it misses costs work, not
	// correctness: the graph engine drops posts it saw within
	// graph.lateness and the store writes each post under its ID (with
	// graph.scale_out, the scorer would count the post's author twice).
	// (It
	// was 1,000,000; filling that took 100 MB, the largest item of the
	// load test's live heap.)
	Dedupe int `yaml:"dedupe"`
	// FlushTimeout sends a partial batch of posts once its oldest post has
	// waited that long, so a quiet live stream still delivers. Default 1s.
	FlushTimeout Duration `yaml:"flush_timeout"`
	// ObjectKind is what CooRTweet's object_id column holds: repost (the
	// default), reply, link, hashtag, mention, media or text.
	ObjectKind string `yaml:"object_kind"`
	// Platform of CSV accounts without a tw_/fb_ prefix (default twitter)
	// and of mapped records without a platform field (default other).
	Platform string `yaml:"platform"`
	// Mapping names the columns (format csv) or JSON fields (format json,
	// dotted for nested objects) that fill each post field.
	Mapping IngestMapping `yaml:"mapping"`
}

// IngestMapping maps post fields to a generic CSV's columns or a JSON
// line's fields. ID, Author and Time are required for the csv and json
// formats; an empty name leaves the field empty.
type IngestMapping struct {
	ID          string `yaml:"id"`
	Author      string `yaml:"author"`
	Time        string `yaml:"time"`
	Text        string `yaml:"text"`
	Lang        string `yaml:"lang"`
	URLs        string `yaml:"urls"`
	Hashtags    string `yaml:"hashtags"`
	Mentions    string `yaml:"mentions"`
	ReplyTo     string `yaml:"reply_to"`
	RepostOf    string `yaml:"repost_of"`
	QuoteOf     string `yaml:"quote_of"`
	MediaHashes string `yaml:"media_hashes"`
	Platform    string `yaml:"platform"`
	Handle      string `yaml:"handle"`
	// TimeFormat: "" or auto (Unix seconds or milliseconds, else RFC
	// 3339), unix, unix_ms, rfc3339, or a Go layout.
	TimeFormat string `yaml:"time_format"`
	// ListSeparator splits list cells (urls, hashtags...). Default " ".
	ListSeparator string `yaml:"list_separator"`
}

// IngestFormats are the names ingest.format accepts. They mirror
// ingest/sources' registry (a test there checks it); config does not
// import the readers so that the arrows keep pointing down.
var IngestFormats = []string{"jsonl", "json", "coortweet", "cnt", "csv", "twitter-v1", "twitter-v2", "twarc2",
	"io-archive", "telegram", "twitter-stream", "mastodon", "bluesky"}

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
	// Signals to pair on. Default [repost, link, reply] (graph.DefaultSignals):
	// reply brigades pair on nothing else.
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
	// MaxEvidence: co-action samples kept per edge. Default 5.
	MaxEvidence int `yaml:"max_evidence"`
	// Level: Louvain level used for clusters, 0 (default) the finest,
	// n > 0 after n aggregations, -1 the top (which swallows small groups).
	Level int `yaml:"level"`
	// Rejoin: resolution, in edge weight per pair of members, of the pass
	// that merges Louvain pieces of one group (and of Leiden's CPM).
	// Default 0 means min_weight/12; negative disables the pass.
	Rejoin float64 `yaml:"rejoin"`
	// TextThreshold: estimated Jaccard similarity of 5-character shingles
	// at which two texts are near-duplicates for the text signal; it also
	// sets the MinHash LSH bands and rows. Default 0.7.
	TextThreshold float64 `yaml:"text_threshold"`
	// TextMinWords: fewest words a text needs to count as a text action.
	// Default 5.
	TextMinWords int `yaml:"text_min_words"`
	// MediaMaxDistance: Hamming distance in bits within which two 64-bit
	// perceptual image hashes are the same image. Default 6; -1 matches
	// exactly only.
	MediaMaxDistance int `yaml:"media_max_distance"`
	// IDOverlap: member overlap (shared members over the smaller
	// cluster's size) a new cluster needs with an emitted one to keep its
	// ID. Default 0.3.
	IDOverlap float64 `yaml:"id_overlap"`
	// HashtagSeqMin: fewest hashtags of a post for the hashtag_seq
	// signal. Default 2.
	HashtagSeqMin int `yaml:"hashtag_seq_min"`
	// MinCohesion: a community is reported only if, on average over the
	// objects on its edges, at least this share of its members co-shared
	// each one. Groups acting together score 0.46-0.93 on the scenarios;
	// chains of routine pairs (news aggregators and the outlets they
	// copy) 0.10-0.13. Default 0.2; negative disables.
	MinCohesion float64 `yaml:"min_cohesion"`
	// DetectEvery: community detection runs each time stream time advances
	// this much, and whenever the input goes idle. Default 30m.
	DetectEvery Duration `yaml:"detect_every"`
	// CheckpointEvery: the graph stage snapshots its state and commits
	// offsets at least this often in wall time. Default 5s.
	CheckpointEvery Duration `yaml:"checkpoint_every"`
	// ScaleOut splits the graph stage for a posts stream one worker cannot
	// keep up with (docs/scale-out.md): `vigie pair` workers, as many as
	// bus.partitions, find co-actions on an actions topic partitioned by
	// object, and one `vigie graph` worker aggregates them into edges and
	// detects clusters. Default false: one graph worker does both.
	ScaleOut bool `yaml:"scale_out"`
}

// Alerts configures the alert rule and the webhooks that deliver alerts
// (package alert; docs/alerts.md).
type Alerts struct {
	// MinRisk: an active cluster at or above this risk (0-100) raises an
	// alert. Default 50. Link pushes and copy-paste clusters with a
	// neutral-sounding stance score 50-55 at most, so at 50 they alert
	// hours late; 40 alerts them sooner but, with detect_every 30m, also
	// alerts a forming news-outlet cluster of the organic evaluation week
	// (risk 42; docs/evaluation.md), so it is not the default.
	MinRisk float64 `yaml:"min_risk"`
	// Outbox is the durable webhook outbox (an SQLite file): deliveries
	// are written there before the alert stage commits its offsets, so
	// none is lost across restarts. Default <data_dir>/outbox.db.
	Outbox string `yaml:"outbox"`
	// Cooldown: after a delivery about a cluster, a subscription hears
	// about that cluster again only once this much stream time has passed.
	// Default 6h.
	Cooldown Duration `yaml:"cooldown"`
	// MaxAttempts per delivery before it is parked as failed. Default 10.
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout of one delivery request. Default 10s.
	Timeout Duration `yaml:"timeout"`
	// MaxPayloadBytes: a webhook body larger than this is trimmed (reasons,
	// targets) and, if still too large, refused. Default 65536.
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
	// AllowPrivate lets webhooks reach loopback, private and link-local
	// addresses. Default false: such targets are refused (safe egress).
	AllowPrivate bool `yaml:"allow_private"`
	// AllowNetworks lists addresses or CIDR prefixes allowed although not
	// public (e.g. 127.0.0.1 for a receiver on the same machine).
	AllowNetworks []string `yaml:"allow_networks"`
	// APIToken enables changing subscriptions through the API: requests
	// must carry "Authorization: Bearer <token>". Empty (the default)
	// keeps the API read-only.
	APIToken string `yaml:"api_token"`
	// Subscriptions are the configured webhooks; more can be added through
	// the API (/api/subscriptions), which keeps them in the outbox.
	Subscriptions []Subscription `yaml:"subscriptions"`
}

// Subscription is one team's webhook: where to send, in which format, and
// which alerts it wants.
type Subscription struct {
	// Name identifies the subscription (letters, digits, '-', '_').
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Format: json (Vigie's signed schema, the default), slack or teams.
	Format string `yaml:"format"`
	// Secret signs every delivery (HMAC-SHA256); SecretEnv names an
	// environment variable holding it instead, to keep it out of files.
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret_env"`
	// Filters; empty means any. Candidates match the clusters' stance
	// targets; MinRisk 0 means alerts.min_risk.
	Candidates []string `yaml:"candidates"`
	MinRisk    float64  `yaml:"min_risk"`
	Signals    []string `yaml:"signals"`
	Languages  []string `yaml:"languages"`
	// Briefings: also send a link and summary of each daily briefing.
	Briefings bool `yaml:"briefings"`
}

// Brief configures the daily briefing (package brief; docs/briefings.md).
type Brief struct {
	// Enabled runs the briefing schedule in `vigie run`. Default true.
	Enabled *bool `yaml:"enabled"`
	// Dir receives the HTML and Markdown files. Default
	// <data_dir>/briefings.
	Dir string `yaml:"dir"`
	// Grace: a day is complete, and its briefing final, once stream time
	// (the newest stored post) is this far past its end. Default 1h.
	Grace Duration `yaml:"grace"`
	// CheckEvery: how often (wall time) the schedule looks for days to
	// brief. Default 30s.
	CheckEvery Duration `yaml:"check_every"`
	// BaseURL is where the web UI is reachable, for links in briefings
	// and webhooks. Default http://<http.addr>.
	BaseURL string `yaml:"base_url"`
}

// Scoring configures the scoring models.
type Scoring struct {
	// Election is the election file (candidates, aliases, hashtags,
	// languages, dates) that stance scoring reads; see
	// deploy/elections/. Empty (the default) uses the embedded 2017 French
	// presidential election. The file is validated when a stage starts.
	Election string `yaml:"election"`
}

// HTTP configures the API and UI server and who may use it
// (docs/security.md). Vigie runs during elections, when its API is a
// target: anywhere but loopback it refuses to start without
// authentication (CheckExposure).
type HTTP struct {
	// Addr to listen on. Default "127.0.0.1:8080".
	Addr string `yaml:"addr"`
	// Auth: bearer tokens with roles and trusted reverse-proxy headers.
	// None configured (the default) leaves the API and UI open to anyone
	// who can reach Addr, which is allowed on loopback only.
	Auth HTTPAuth `yaml:"auth"`
	// CORSOrigins lists the origins ("https://dash.example.org") whose
	// scripts may call the API with a bearer token. Default none: no
	// Access-Control-Allow-Origin is ever sent.
	CORSOrigins []string `yaml:"cors_origins"`
	// RateLimit bounds requests per client (its identity, else its IP).
	RateLimit HTTPRateLimit `yaml:"rate_limit"`
	// AuditFile receives one JSON line per export (bulk data read through
	// the API, graph exports), append-only. Default <data_dir>/audit.jsonl.
	AuditFile string `yaml:"audit_file"`
}

// HTTPAuth configures authentication. Roles: analyst reads (UI, API,
// exports); admin also changes things (subscriptions) and reads the
// audit log. alerts.api_token, when set, is one more admin token.
type HTTPAuth struct {
	// Tokens are bearer tokens ("Authorization: Bearer <token>", or
	// exchanged for a session cookie at /login). Each has a name (logged
	// and audited instead of the token), a role, and its value in exactly
	// one of token, token_file (a mounted secret) or token_env.
	Tokens []HTTPToken `yaml:"tokens"`
	// TokensFile holds more tokens, one "name role token" per line (#
	// comments), so a Kubernetes Secret can carry them. Read at start.
	TokensFile string `yaml:"tokens_file"`
	// TrustedProxies are the addresses or CIDR prefixes of reverse proxies
	// (oauth2-proxy, nginx auth_request) whose user and group headers are
	// believed. The headers from any other peer are ignored: anyone can
	// send them.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// UserHeader names the authenticated user. Default X-Forwarded-User.
	UserHeader string `yaml:"user_header"`
	// GroupsHeader lists the user's groups, comma-separated. Default
	// X-Forwarded-Groups.
	GroupsHeader string `yaml:"groups_header"`
	// AdminGroups: a proxied user in one of these groups is an admin.
	AdminGroups []string `yaml:"admin_groups"`
	// AnalystGroups: a proxied user in one of these groups is an analyst.
	// Empty: every proxied user not an admin is an analyst.
	AnalystGroups []string `yaml:"analyst_groups"`
	// SessionKeyFile holds the key (at least 32 bytes) that signs session
	// cookies. Default: a random key per start, so sessions end when Vigie
	// restarts; set it to share sessions between replicas.
	SessionKeyFile string `yaml:"session_key_file"`
	// SessionTTL is how long a browser session lasts. Default 12h.
	SessionTTL Duration `yaml:"session_ttl"`
}

// HTTPToken is one bearer token.
type HTTPToken struct {
	Name string `yaml:"name"`
	// Role: analyst or admin.
	Role string `yaml:"role"`
	// Token itself (at least 16 characters); printed as [redacted].
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
}

// HTTPRateLimit is a token bucket per client; /healthz, /readyz and the
// static files are exempt.
type HTTPRateLimit struct {
	// RPS: sustained requests per second. Default 20; negative disables.
	RPS float64 `yaml:"rps"`
	// Burst: requests allowed at once. Default 200 (a page with its
	// scripts, or a script listing clusters, fits).
	Burst int `yaml:"burst"`
}

// AuthConfigured reports whether any authentication is set up in
// http.auth (alerts.api_token alone guards changes, not reads).
func (h HTTP) AuthConfigured() bool {
	return len(h.Auth.Tokens) > 0 || h.Auth.TokensFile != "" || len(h.Auth.TrustedProxies) > 0
}

// CheckExposure refuses to serve beyond loopback without authentication:
// an open Vigie on a public address during an election hands its data
// and its webhooks to anyone. `vigie serve` and `vigie run` call it
// before listening.
func (h HTTP) CheckExposure() error {
	if h.AuthConfigured() || IsLoopback(h.Addr) {
		return nil
	}
	return &KeyError{Key: "http.addr", Reason: fmt.Sprintf("%q is not a loopback address and no authentication is configured: "+
		"set http.auth.tokens, http.auth.tokens_file or http.auth.trusted_proxies (docs/security.md), or listen on 127.0.0.1", h.Addr)}
}

// IsLoopback reports whether the host of a host:port address is a
// loopback address or "localhost". An empty host means every interface.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// Ops configures the operations endpoint of a standalone stage.
type Ops struct {
	// Addr serves /metrics (Prometheus), /healthz and /readyz for stages
	// run apart (`vigie graph`, `vigie index`, ...). Default "": off. In
	// `vigie run` the main HTTP server (http.addr) serves them anyway.
	Addr string `yaml:"addr"`
	// Pprof adds Go's runtime profiles (/debug/pprof/) to the ops
	// address, to find where a stage that falls behind spends its time.
	// Default false: profiles reveal internals. Needs Addr.
	Pprof bool `yaml:"pprof"`
}

// Privacy limits the personal data Vigie keeps and hands out (package
// privacy; docs/privacy.md). Everything is off by default: analysts need
// real handles, and deleting evidence must be a decision.
type Privacy struct {
	// Pseudonymise lists where account handles, keys, display names and
	// @mentions are replaced by keyed pseudonyms (acct_…): exports (`vigie
	// graph export`), briefings (HTML, Markdown, stored copies) and alerts
	// (webhook payloads). Default: none.
	Pseudonymise []string `yaml:"pseudonymise"`
	// Key is the secret of the keyed hash (HMAC-SHA256), at least 16
	// bytes; printed as [redacted]. Prefer KeyFile (a mounted secret) or
	// VIGIE_PRIVACY_KEY. The same key gives the same pseudonyms across
	// runs; changing it unlinks them.
	Key Secret `yaml:"key"`
	// KeyFile is read at start; a trailing newline is dropped.
	KeyFile string `yaml:"key_file"`
	// PostRetention: raw posts whose time is older than this are deleted
	// from the store, checked every RetentionEvery by the index stage. A
	// Go duration ("720h") or days ("30d"); "0" (the default) keeps posts
	// forever.
	PostRetention string `yaml:"post_retention"`
	// RetentionEvery: how often the index stage deletes expired posts.
	// Default 1h.
	RetentionEvery Duration `yaml:"retention_every"`
}

// PseudonymiseTargets are the values privacy.pseudonymise accepts.
var PseudonymiseTargets = []string{"exports", "briefings", "alerts"}

// Pseudonymises reports whether target ("exports", "briefings",
// "alerts") is to be pseudonymised.
func (p Privacy) Pseudonymises(target string) bool { return slices.Contains(p.Pseudonymise, target) }

// Retention gives privacy.post_retention as a duration (0 = forever).
// Validate has checked it, so an error here is only for a Config built
// without Validate.
func (p Privacy) Retention() (time.Duration, error) { return privacy.ParseRetention(p.PostRetention) }

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
	defDur(&c.Bus.Retention, 7*24*time.Hour)
	def(&c.Store.Kind, "embedded")
	def(&c.Store.Path, c.DataDir+"/vigie.db")
	def(&c.Ingest.Source, "testdata/scenario/posts.jsonl")
	def(&c.Ingest.Format, "jsonl")
	def(&c.Ingest.DeadLetterFile, c.DataDir+"/deadletter.jsonl")
	if c.Ingest.DetectLanguage == nil {
		t := true
		c.Ingest.DetectLanguage = &t
	}
	defInt(&c.Ingest.Dedupe, 250_000)
	defDur(&c.Ingest.FlushTimeout, time.Second)
	defDur(&c.Graph.Window, 60*time.Second)
	defInt(&c.Graph.KeyCap, 50)
	defInt(&c.Graph.MinWeight, 3)
	defInt(&c.Graph.MinClusterSize, 3)
	defDur(&c.Graph.Retention, 72*time.Hour)
	defDur(&c.Graph.WeakRetention, 6*time.Hour)
	defDur(&c.Graph.Lateness, 5*time.Minute)
	if len(c.Graph.Signals) == 0 {
		c.Graph.Signals = []string{"repost", "link", "reply"}
	}
	def(&c.Graph.Algorithm, "louvain")
	defInt(&c.Graph.MaxEvidence, 5)
	if c.Graph.TextThreshold == 0 {
		c.Graph.TextThreshold = 0.7
	}
	defInt(&c.Graph.TextMinWords, 5)
	defInt(&c.Graph.MediaMaxDistance, 6)
	if c.Graph.IDOverlap == 0 {
		c.Graph.IDOverlap = 0.3
	}
	defInt(&c.Graph.HashtagSeqMin, 2)
	if c.Graph.MinCohesion == 0 {
		c.Graph.MinCohesion = 0.2
	}
	defDur(&c.Graph.DetectEvery, 30*time.Minute)
	defDur(&c.Graph.CheckpointEvery, 5*time.Second)
	if c.Alerts.MinRisk == 0 {
		c.Alerts.MinRisk = 50
	}
	def(&c.Alerts.Outbox, c.DataDir+"/outbox.db")
	defDur(&c.Alerts.Cooldown, 6*time.Hour)
	defInt(&c.Alerts.MaxAttempts, 10)
	defDur(&c.Alerts.Timeout, 10*time.Second)
	defInt(&c.Alerts.MaxPayloadBytes, 64<<10)
	for i := range c.Alerts.Subscriptions {
		def(&c.Alerts.Subscriptions[i].Format, "json")
	}
	if c.Brief.Enabled == nil {
		t := true
		c.Brief.Enabled = &t
	}
	def(&c.Brief.Dir, c.DataDir+"/briefings")
	defDur(&c.Brief.Grace, time.Hour)
	defDur(&c.Brief.CheckEvery, 30*time.Second)
	def(&c.HTTP.Addr, "127.0.0.1:8080")
	def(&c.HTTP.Auth.UserHeader, "X-Forwarded-User")
	def(&c.HTTP.Auth.GroupsHeader, "X-Forwarded-Groups")
	defDur(&c.HTTP.Auth.SessionTTL, 12*time.Hour)
	if c.HTTP.RateLimit.RPS == 0 {
		c.HTTP.RateLimit.RPS = 20
	}
	defInt(&c.HTTP.RateLimit.Burst, 200)
	def(&c.HTTP.AuditFile, c.DataDir+"/audit.jsonl")
	def(&c.Brief.BaseURL, "http://"+c.HTTP.Addr)
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
	defDur(&c.Privacy.RetentionEvery, time.Hour)
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
	if c.Bus.Retention.D() < time.Minute {
		bad("bus.retention", "must be at least 1m")
	}
	if (c.Bus.TLS.CertFile == "") != (c.Bus.TLS.KeyFile == "") {
		bad("bus.tls.cert_file", "bus.tls.cert_file and bus.tls.key_file go together: set both or neither")
	}
	switch strings.ToUpper(c.Bus.SASL.Mechanism) {
	case "":
		if c.Bus.SASL.Username != "" || c.Bus.SASL.Password != "" || c.Bus.SASL.PasswordFile != "" {
			bad("bus.sasl.mechanism", "must be set (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) when a username or password is")
		}
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.Bus.SASL.Username == "" {
			bad("bus.sasl.username", "must be set with bus.sasl.mechanism")
		}
		if (c.Bus.SASL.Password == "") == (c.Bus.SASL.PasswordFile == "") {
			bad("bus.sasl.password", "set exactly one of bus.sasl.password and bus.sasl.password_file")
		}
	default:
		bad("bus.sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", c.Bus.SASL.Mechanism)
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
		if c.Store.ElasticsearchPassword != "" && c.Store.ElasticsearchPasswordFile != "" {
			bad("store.elasticsearch_password", "set elasticsearch_password or elasticsearch_password_file, not both")
		}
		if c.Store.ElasticsearchAPIKey != "" && c.Store.ElasticsearchAPIKeyFile != "" {
			bad("store.elasticsearch_api_key", "set elasticsearch_api_key or elasticsearch_api_key_file, not both")
		}
		hasPassword := c.Store.ElasticsearchPassword != "" || c.Store.ElasticsearchPasswordFile != ""
		if (c.Store.ElasticsearchUsername != "") != hasPassword {
			bad("store.elasticsearch_username", "basic auth needs both a username and a password (or password file)")
		}
		if hasPassword && (c.Store.ElasticsearchAPIKey != "" || c.Store.ElasticsearchAPIKeyFile != "") {
			bad("store.elasticsearch_api_key", "set an API key or a username and password, not both")
		}
		switch c.Store.ElasticsearchRefresh {
		case "", "false", "wait_for":
		default:
			bad("store.elasticsearch_refresh", "must be empty, false or wait_for, got %q", c.Store.ElasticsearchRefresh)
		}
		if p := c.Store.ElasticsearchPrefix; p != "" && (p != strings.ToLower(p) || strings.ContainsAny(p, `\/*?"<>| ,#:`) || strings.HasPrefix(p, "-") || strings.HasPrefix(p, "_")) {
			bad("store.elasticsearch_prefix", "%q must be a lower-case index name part", p)
		}
	default:
		bad("store.kind", "must be embedded or elasticsearch, got %q", c.Store.Kind)
	}
	if !slices.Contains(IngestFormats, c.Ingest.Format) {
		bad("ingest.format", "must be one of %s, got %q", strings.Join(IngestFormats, ", "), c.Ingest.Format)
	}
	if c.Ingest.Format == "csv" || c.Ingest.Format == "json" {
		m := c.Ingest.Mapping
		for _, k := range []struct{ key, v string }{{"id", m.ID}, {"author", m.Author}, {"time", m.Time}} {
			if strings.TrimSpace(k.v) == "" {
				bad("ingest.mapping."+k.key, "must name a column or field when ingest.format is %s", c.Ingest.Format)
			}
		}
	}
	if c.Ingest.FlushTimeout <= 0 {
		bad("ingest.flush_timeout", "must be positive")
	}
	switch c.Ingest.ObjectKind {
	case "", "repost", "reply", "link", "hashtag", "mention", "media", "text":
	default:
		bad("ingest.object_kind", "must be repost, reply, link, hashtag, mention, media or text, got %q", c.Ingest.ObjectKind)
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
	if c.Graph.MaxEvidence < 1 {
		bad("graph.max_evidence", "must be at least 1, got %d", c.Graph.MaxEvidence)
	}
	if c.Graph.Level < -1 {
		bad("graph.level", "must be -1 (top), 0 (finest) or a positive level, got %d", c.Graph.Level)
	}
	if math.IsNaN(c.Graph.Rejoin) || math.IsInf(c.Graph.Rejoin, 0) {
		bad("graph.rejoin", "must be a finite number")
	}
	if !(c.Graph.TextThreshold > 0 && c.Graph.TextThreshold <= 1) {
		bad("graph.text_threshold", "must be in (0, 1], got %v", c.Graph.TextThreshold)
	}
	if c.Graph.TextMinWords < 1 {
		bad("graph.text_min_words", "must be at least 1, got %d", c.Graph.TextMinWords)
	}
	if c.Graph.MediaMaxDistance < -1 || c.Graph.MediaMaxDistance > 16 {
		bad("graph.media_max_distance", "must be -1 (exact) or 1 to 16 bits, got %d", c.Graph.MediaMaxDistance)
	}
	if c.Graph.HashtagSeqMin < 2 {
		bad("graph.hashtag_seq_min", "must be at least 2, got %d", c.Graph.HashtagSeqMin)
	}
	if !(c.Graph.IDOverlap > 0 && c.Graph.IDOverlap <= 1) {
		bad("graph.id_overlap", "must be in (0, 1], got %v", c.Graph.IDOverlap)
	}
	if math.IsNaN(c.Graph.MinCohesion) || c.Graph.MinCohesion > 1 {
		bad("graph.min_cohesion", "must be at most 1 (negative disables), got %v", c.Graph.MinCohesion)
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
	if c.Scoring.Election != "" {
		// Read it now, so `vigie config check` reports a broken election
		// file with its field paths before any stage starts.
		if _, err := election.Load(c.Scoring.Election); err != nil {
			bad("scoring.election", "%v", err)
		}
	}
	if c.Alerts.Cooldown < 0 {
		bad("alerts.cooldown", "must not be negative")
	}
	if c.Alerts.MaxAttempts < 1 {
		bad("alerts.max_attempts", "must be at least 1, got %d", c.Alerts.MaxAttempts)
	}
	if c.Alerts.Timeout <= 0 {
		bad("alerts.timeout", "must be positive")
	}
	if c.Alerts.MaxPayloadBytes < 1024 {
		bad("alerts.max_payload_bytes", "must be at least 1024, got %d", c.Alerts.MaxPayloadBytes)
	}
	for i, n := range c.Alerts.AllowNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			if _, err := netip.ParseAddr(n); err != nil {
				bad(fmt.Sprintf("alerts.allow_networks[%d]", i), "%q is not an address or CIDR prefix", n)
			}
		}
	}
	names := map[string]bool{}
	for i, sub := range c.Alerts.Subscriptions {
		key := fmt.Sprintf("alerts.subscriptions[%d]", i)
		if !validName(sub.Name) {
			bad(key+".name", "%q must be 1-64 letters, digits, '-' or '_'", sub.Name)
		} else if names[sub.Name] {
			bad(key+".name", "%q is used twice", sub.Name)
		}
		names[sub.Name] = true
		if u, err := url.Parse(sub.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key+".url", "%q must be an http or https URL", sub.URL)
		}
		switch sub.Format {
		case "json", "slack", "teams":
		default:
			bad(key+".format", "must be json, slack or teams, got %q", sub.Format)
		}
		if sub.Secret != "" && sub.SecretEnv != "" {
			bad(key+".secret", "set secret or secret_env, not both")
		}
		if sub.MinRisk < 0 || sub.MinRisk > 100 {
			bad(key+".min_risk", "must be between 0 and 100, got %g", sub.MinRisk)
		}
		for j, sig := range sub.Signals {
			if !knownSignals[sig] {
				bad(fmt.Sprintf("%s.signals[%d]", key, j), "unknown signal %q", sig)
			}
		}
	}
	if c.Brief.Grace < 0 {
		bad("brief.grace", "must not be negative")
	}
	if c.Brief.CheckEvery <= 0 {
		bad("brief.check_every", "must be positive")
	}
	if u, err := url.Parse(c.Brief.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		bad("brief.base_url", "%q must be an http or https URL", c.Brief.BaseURL)
	}
	c.validateHTTP(bad)
	if c.Ops.Addr != "" && !strings.Contains(c.Ops.Addr, ":") {
		bad("ops.addr", "%q must be host:port", c.Ops.Addr)
	}
	if c.Ops.Pprof && c.Ops.Addr == "" {
		bad("ops.pprof", "needs ops.addr: profiles are served only on the ops address")
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
	for i, t := range c.Privacy.Pseudonymise {
		if !slices.Contains(PseudonymiseTargets, t) {
			bad(fmt.Sprintf("privacy.pseudonymise[%d]", i), "must be exports, briefings or alerts, got %q", t)
		}
	}
	switch {
	case c.Privacy.Key != "" && c.Privacy.KeyFile != "":
		bad("privacy.key", "set privacy.key or privacy.key_file, not both")
	case len(c.Privacy.Pseudonymise) > 0 && c.Privacy.Key == "" && c.Privacy.KeyFile == "":
		bad("privacy.key", "privacy.pseudonymise needs a secret key: set privacy.key_file (or privacy.key, VIGIE_PRIVACY_KEY)")
	case c.Privacy.Key != "" && len(c.Privacy.Key) < 16:
		// The length only: the key itself is never put in a message.
		bad("privacy.key", "must be at least 16 bytes, got %d", len(c.Privacy.Key))
	}
	if _, err := privacy.ParseRetention(c.Privacy.PostRetention); err != nil {
		bad("privacy.post_retention", "%v", err)
	}
	if c.Privacy.RetentionEvery <= 0 {
		bad("privacy.retention_every", "must be positive")
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

// validName reports whether s is a usable subscription name: it appears in
// URLs and logs, so it is kept to a safe alphabet.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ValidSubscriptionName is validName for the subscriptions API.
func ValidSubscriptionName(s string) bool { return validName(s) }

// YAML renders the configuration, defaults filled, for `vigie config check
// --print`.
func (c Config) YAML() ([]byte, error) { return yaml.Marshal(c) }
