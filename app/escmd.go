package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/store/elastic"
)

const esUsage = `Usage: vigie es <setup|templates> [flags]

  setup      install (or update) Vigie's index templates on the Elasticsearch
             cluster of store.elasticsearch and create its fixed indices;
             idempotent. Run it once with credentials that may manage
             templates; the stages then need only document rights.
  templates  print the index templates as installed (JSON, one per template)
`

// esCmd runs `vigie es ...`.
func esCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, esUsage)
		return errUsage
	}
	switch args[0] {
	case "setup":
		fs := newFlagSet("es setup", "Install Vigie's index templates and fixed indices on store.elasticsearch\n(--elasticsearch URLs override it).", stderr)
		var cf commonFlags
		cf.register(fs)
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		if cfg.Store.Kind != "elasticsearch" {
			fmt.Fprintln(stderr, "vigie es setup: store.kind is not elasticsearch: give --elasticsearch URLs or set store.kind and store.elasticsearch")
			return errUsage
		}
		log := NewLogger(cfg.Log, stderr)
		st, err := openElastic(ctx, cfg, log, true)
		if err != nil {
			return err
		}
		defer st.Close()
		tmpls, err := elastic.Templates(esPrefix(cfg))
		if err != nil {
			return err
		}
		names := make([]string, 0, len(tmpls))
		for n := range tmpls {
			names = append(names, n)
		}
		slices.Sort(names)
		fmt.Fprintf(stdout, "Elasticsearch set up for Vigie: templates %s; posts go to %s-posts-YYYY.MM.DD (alias %s-posts)\n",
			strings.Join(names, ", "), esPrefix(cfg), esPrefix(cfg))
		return nil
	case "templates":
		fs := newFlagSet("es templates", "Print the index templates as `vigie es setup` installs them.", stderr)
		prefix := fs.String("prefix", elastic.DefaultPrefix, "index and template name prefix (store.elasticsearch_prefix)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		tmpls, err := elastic.Templates(*prefix)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(tmpls))
		for n := range tmpls {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(stdout, "# PUT _index_template/%s\n%s\n", n, tmpls[n])
		}
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, esUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "vigie es: unknown subcommand %q\n\n%s", args[0], esUsage)
		return errUsage
	}
}

func esPrefix(cfg config.Config) string {
	if cfg.Store.ElasticsearchPrefix != "" {
		return cfg.Store.ElasticsearchPrefix
	}
	return elastic.DefaultPrefix
}

// esConfig gives the client configuration of store.elasticsearch*,
// reading the secret files. Secrets go into the client only: they are
// never logged, and errors name the file, not its content.
func esConfig(cfg config.Config) (elastic.Config, error) {
	c := elastic.Config{
		URLs:     cfg.Store.Elasticsearch,
		Username: cfg.Store.ElasticsearchUsername,
		Password: string(cfg.Store.ElasticsearchPassword),
		APIKey:   string(cfg.Store.ElasticsearchAPIKey),
	}
	read := func(key, path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("%s: %s is empty", key, path)
		}
		return s, nil
	}
	var err error
	if f := cfg.Store.ElasticsearchPasswordFile; f != "" {
		if c.Password, err = read("store.elasticsearch_password_file", f); err != nil {
			return c, err
		}
	}
	if f := cfg.Store.ElasticsearchAPIKeyFile; f != "" {
		if c.APIKey, err = read("store.elasticsearch_api_key_file", f); err != nil {
			return c, err
		}
	}
	if f := cfg.Store.ElasticsearchCACert; f != "" {
		if c.CACert, err = os.ReadFile(f); err != nil {
			return c, fmt.Errorf("store.elasticsearch_ca_cert: %w", err)
		}
	}
	return c, nil
}

// openElastic opens the Elasticsearch store of cfg. setup installs the
// templates and fixed indices first (idempotent; needs the right to
// manage templates).
func openElastic(ctx context.Context, cfg config.Config, log *slog.Logger, setup bool) (*elastic.Store, error) {
	c, err := esConfig(cfg)
	if err != nil {
		return nil, err
	}
	if len(c.URLs) == 0 {
		return nil, errors.New("store.elasticsearch: no URL")
	}
	opts := []elastic.Option{
		elastic.WithLogger(log.With("component", "store")),
		elastic.WithPrefix(esPrefix(cfg)),
		elastic.WithRefresh(cfg.Store.ElasticsearchRefresh),
	}
	if !setup {
		opts = append(opts, elastic.WithoutSetup())
	}
	return elastic.Open(ctx, c, opts...)
}
