package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/kibana"
)

const kibanaUsage = `Usage: vigie kibana <import|objects> [flags]

  import    import Vigie's data views, saved searches, visualisations and
            dashboards into Kibana (overwriting earlier versions of them)
  objects   write the built-in saved objects as NDJSON to stdout (the same
            content as deploy/kibana/vigie.ndjson)
`

// kibanaCmd runs `vigie kibana ...`.
func kibanaCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, kibanaUsage)
		return errUsage
	}
	switch args[0] {
	case "import":
		return kibanaImport(ctx, args[1:], stdout, stderr)
	case "objects":
		fs := newFlagSet("kibana objects", "Write the built-in saved objects as NDJSON to stdout.", stderr)
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		b, err := kibana.NDJSON(kibana.Objects())
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	case "-h", "--help", "help":
		fmt.Fprint(stdout, kibanaUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "vigie kibana: unknown subcommand %q\n\n%s", args[0], kibanaUsage)
		return errUsage
	}
}

func kibanaImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("kibana import", "Import Vigie's saved objects into Kibana with POST /api/saved_objects/_import?overwrite=true\n"+
		"and print what happened to each object. Exit status 1 if any object failed.\n\n"+
		"Credentials, in order: --api-key-file or "+kibana.EnvAPIKey+" (an Elasticsearch API key,\n"+
		"encoded or id:key); else --user with --password-file or "+kibana.EnvPassword+"\n"+
		"(--user defaults to "+kibana.EnvUser+"). None: no authentication.", stderr)
	u := fs.String("url", "", "Kibana base URL, e.g. http://kibana:5601 (required)")
	space := fs.String("space", "", "Kibana space (default: the default space)")
	file := fs.String("file", "", "NDJSON file to import instead of the built-in objects")
	apiKeyFile := fs.String("api-key-file", "", "file holding the API key")
	user := fs.String("user", "", "user for basic authentication")
	passwordFile := fs.String("password-file", "", "file holding the password")
	wait := fs.Duration("wait", 0, "keep retrying while Kibana is unreachable or answers 5xx (it answers 503 while starting), up to this long")
	timeout := fs.Duration("timeout", time.Minute, "timeout of one request")
	prefix := fs.String("index-prefix", "", "index prefix of the Elasticsearch store (default: store.elasticsearch_prefix from "+
		config.EnvName("store.elasticsearch_prefix")+", else "+kibana.DefaultPrefix+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *u == "" {
		fmt.Fprintln(stderr, "vigie kibana import: --url is required")
		return errUsage
	}
	c := &kibana.Client{URL: *u, Space: *space, HTTP: &http.Client{Timeout: *timeout}}
	var err error
	if c.APIKey, err = secret(*apiKeyFile, kibana.EnvAPIKey); err != nil {
		return err
	}
	c.User = *user
	if c.User == "" {
		c.User = os.Getenv(kibana.EnvUser)
	}
	if c.APIKey == "" && c.User != "" {
		if c.Password, err = secret(*passwordFile, kibana.EnvPassword); err != nil {
			return err
		}
	}
	name, data := "vigie.ndjson", []byte(nil)
	if *file != "" {
		if data, err = os.ReadFile(*file); err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		name = filepath.Base(*file)
	} else {
		p := *prefix
		if p == "" {
			p = os.Getenv(config.EnvName("store.elasticsearch_prefix"))
		}
		if p == "" {
			p = kibana.DefaultPrefix
		}
		if p != strings.ToLower(p) || strings.ContainsAny(p, `\/*?"<>| ,#:`) {
			return fmt.Errorf("--index-prefix %q must be a lower-case index name part", p)
		}
		if data, err = kibana.NDJSON(kibana.ObjectsForPrefix(p)); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(*wait)
	for delay := time.Second; ; delay = min(2*delay, 15*time.Second) {
		resp, err := c.Import(ctx, name, data)
		if err == nil || errors.Is(err, kibana.ErrPartial) {
			kibana.Report(stdout, resp)
			return err
		}
		var se *kibana.StatusError
		retryable := !errors.As(err, &se) || se.StatusCode >= 500
		if !retryable || time.Now().Add(delay).After(deadline) || ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(stderr, "kibana not ready (%v); retrying in %s\n", err, delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// secret reads a credential from a file (trimmed of surrounding
// whitespace, as files written by editors or Kubernetes secrets end in a
// newline) or else from an environment variable.
func secret(file, env string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("credential file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("credential file %s is empty", file)
		}
		return s, nil
	}
	return os.Getenv(env), nil
}
