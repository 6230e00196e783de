package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-osint/vigie/app"
	"github.com/vigie-osint/vigie/config"
	"github.com/vigie-osint/vigie/kibana"
	"github.com/vigie-osint/vigie/web"
)

// The checks below run on the real files and, in TestChecksCatchMistakes,
// on broken copies of them, so that every check is known to be able to fail.

func TestCompose(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkCompose(b, ".") {
		t.Error(e)
	}
}

func TestKubernetes(t *testing.T) {
	docs, err := readKustomization("k8s")
	if err != nil {
		t.Fatal(err)
	}
	extra, err := readManifests(filepath.Join("k8s", "secret.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	errs := checkKubernetes(docs, extra)
	for _, e := range errs {
		t.Error(e)
	}
	t.Logf("%d manifests checked", len(docs))
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkDockerfile(string(b)) {
		t.Error(e)
	}
}

// TestChecksCatchMistakes breaks the real files in the ways the checks are
// meant to catch and expects each to be reported.
func TestChecksCatchMistakes(t *testing.T) {
	compose, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	composeCases := []struct{ name, old, new, want string }{
		{"unknown config key", "VIGIE_BUS_PARTITIONS:", "VIGIE_BUS_PARTITION:", "VIGIE_BUS_PARTITION is not a configuration key"},
		{"bad config value", `VIGIE_BUS_PARTITIONS: "6"`, `VIGIE_BUS_PARTITIONS: "six"`, "bus.partitions"},
		{"depends on a missing service", "    kafka:\n      condition: service_healthy", "    kafkaa:\n      condition: service_healthy", `"kafkaa"`},
		{"unknown command", `command: ["alert"]`, `command: ["alertz"]`, "not a vigie command"},
		{"unknown command in a script", "do vigie brief ||", "do vigie brif ||", "not a vigie command"},
		{"a stage on the embedded store", "    environment:\n      <<: *vigie-env\n      VIGIE_ALERTS_MIN_RISK", "    environment:\n      VIGIE_ALERTS_MIN_RISK", "alert: stages run apart need"},
		{"healthcheck on the wrong port", "http://127.0.0.1:9090/healthz", "http://127.0.0.1:9091/healthz", "9091"},
		{"one pair worker", "replicas: 2", "replicas: 1", "pair runs 1 worker"},
		{"two graph workers", `command: ["graph"]`, "command: [\"graph\"]\n    scale: 2", "graph runs 2 workers"},
		{"scale-out off", `VIGIE_GRAPH_SCALE_OUT: "true"`, `VIGIE_GRAPH_SCALE_OUT: "false"`, "without VIGIE_GRAPH_SCALE_OUT=true"},
		{"graph settings differ", "command: [\"pair\"]\n    environment:\n      <<: *vigie-env\n", "command: [\"pair\"]\n    environment:\n      <<: *vigie-env\n      VIGIE_GRAPH_WINDOW: 30s\n", "graph settings"},
		{"serve without tokens", "      VIGIE_HTTP_AUTH_TOKENS_FILE: /run/secrets/http-tokens\n", "", "would refuse to start"},
		{"tokens file not a secret of serve", "    secrets:\n      - http-tokens\n", "", "is not one of the service's secrets"},
		{"tokens file unreadable as tokens", "file: ${HTTP_TOKENS_FILE:-./secrets/http-tokens.example}", "file: ../go.mod", "name role token"},
		{"broker host not a service", "VIGIE_BUS_BROKERS: kafka:9092", "VIGIE_BUS_BROKERS: kafka-1:9092", `"kafka-1"`},
		{"no healthcheck", "    healthcheck:\n      test: [\"CMD-SHELL\", \"curl -fsS http://localhost:5601", "    x-healthcheck:\n      test: [\"CMD-SHELL\", \"curl -fsS http://localhost:5601", "kibana: no healthcheck"},
	}
	for _, tc := range composeCases {
		t.Run("compose/"+tc.name, func(t *testing.T) {
			if !bytes.Contains(compose, []byte(tc.old)) {
				t.Fatalf("docker-compose.yml no longer contains %q: update the test", tc.old)
			}
			bad := bytes.Replace(compose, []byte(tc.old), []byte(tc.new), 1)
			if errs := checkCompose(bad, "."); !strings.Contains(fmt.Sprint(errs), tc.want) {
				t.Errorf("errors %v do not mention %q", errs, tc.want)
			}
		})
	}
	stages, err := os.ReadFile(filepath.Join("k8s", "stages.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	k8sCases := []struct{ name, old, new, want string }{
		{"selector does not match", "    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: graph\n  strategy",
			"    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: grap\n  strategy", "selector"},
		{"missing secret", "name: vigie-credentials", "name: vigie-creds", `"vigie-creds"`},
		{"missing secret key", "key: kafka-sasl-password", "key: kafka-password", `"kafka-password"`},
		{"missing configmap", "name: vigie-config", "name: vigie-conf", `"vigie-conf"`},
		{"probe on an unknown port", "path: /readyz\n              port: ops", "path: /readyz\n              port: metrics", `"metrics"`},
		{"no readiness probe", "readinessProbe:", "startupProbe:", "readiness probe"},
		{"no limits", "            limits:\n              cpu: 2", "            limitz:\n              cpu: 2", "limits"},
		{"two graph replicas", "  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: graph",
			"  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: graph", "graph runs 2 workers"},
		{"graph rolled", "    type: Recreate", "    type: RollingUpdate", "only Recreate"},
		{"one pair replica", "  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: pair",
			"  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: pair", "pair runs 1 worker"},
		{"budget blocks drains", "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: pair",
			"  minAvailable: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: vigie\n      app.kubernetes.io/component: pair", "blocks every node drain"},
		{"serve without tokens", "            - name: VIGIE_HTTP_AUTH_TOKENS_FILE\n              value: /etc/vigie/http/tokens\n", "", "would refuse to start"},
		{"tokens key not in the secret", "key: http-tokens", "key: http-token", "has no key"},
		{"tokens not mounted", "              mountPath: /etc/vigie/http\n", "              mountPath: /etc/vigie/auth\n", "in no volume mount"},
		{"tokens mounted writable", "              mountPath: /etc/vigie/http\n              readOnly: true\n", "              mountPath: /etc/vigie/http\n", "not mounted readOnly"},
		{"service selects nothing", "    app.kubernetes.io/component: serve\n  ports:", "    app.kubernetes.io/component: server\n  ports:", "selects no pod"},
		{"unknown env key", "name: VIGIE_BUS_SASL_PASSWORD", "name: VIGIE_BUS_SASL_PASSWORDS", "VIGIE_BUS_SASL_PASSWORDS is not a configuration key"},
		{"unknown command", `args: ["index"]`, `args: ["indexer"]`, "not a vigie command"},
	}
	for _, tc := range k8sCases {
		t.Run("k8s/"+tc.name, func(t *testing.T) {
			if !bytes.Contains(stages, []byte(tc.old)) {
				t.Fatalf("k8s/stages.yaml no longer contains %q: update the test", tc.old)
			}
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("k8s")); err != nil {
				t.Fatal(err)
			}
			bad := bytes.Replace(stages, []byte(tc.old), []byte(tc.new), 1)
			if err := os.WriteFile(filepath.Join(dir, "stages.yaml"), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			docs, err := readKustomization(dir)
			if err != nil {
				t.Fatal(err)
			}
			extra, err := readManifests(filepath.Join(dir, "secret.example.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if errs := checkKubernetes(docs, extra); !strings.Contains(fmt.Sprint(errs), tc.want) {
				t.Errorf("errors %v do not mention %q", errs, tc.want)
			}
		})
	}
	if errs := checkDockerfile("FROM golang:1.26\nRUN go build -o /vigie ./cmd/vigie\n"); len(errs) < 3 {
		t.Errorf("a single-stage, cgo, root Dockerfile gave only %v", errs)
	}
}

// --- shared checks ---

var envKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range config.Keys() {
		m[config.EnvName(k)] = true
	}
	// Credentials the kibana command reads; not pipeline configuration.
	for _, k := range []string{kibana.EnvAPIKey, kibana.EnvUser, kibana.EnvPassword} {
		m[k] = true
	}
	return m
}()

// checkEnv checks variable names against the configuration keys and the
// values by loading them as Vigie would.
func checkEnv(where string, env map[string]string) []error {
	var errs []error
	var environ []string
	for k, v := range env {
		if !strings.HasPrefix(k, "VIGIE_") {
			continue
		}
		if !envKeys[k] {
			errs = append(errs, fmt.Errorf("%s: %s is not a configuration key (vigie config check --keys)", where, k))
			continue
		}
		environ = append(environ, k+"="+v)
	}
	slices.Sort(environ)
	if _, err := config.Load("", environ); err != nil {
		errs = append(errs, fmt.Errorf("%s: the configuration does not load: %w", where, err))
	}
	return errs
}

// checkCommand runs the command with --help through the real CLI: an
// unknown command or flag exits with 2.
func checkCommand(where string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s: no command", where)
	}
	a := append(slices.Clone(args), "--help")
	if code := app.Main(context.Background(), a, io.Discard, io.Discard); code != 0 {
		return fmt.Errorf("%s: %q is not a vigie command with valid flags (exit %d)", where, strings.Join(args, " "), code)
	}
	return nil
}

// hosts returns the host names that a Vigie setting connects to.
func hosts(env map[string]string) []string {
	var hs []string
	for _, b := range strings.Split(env["VIGIE_BUS_BROKERS"], ",") {
		if h, _, err := net.SplitHostPort(strings.TrimSpace(b)); err == nil {
			hs = append(hs, h)
		}
	}
	for _, u := range strings.Split(env["VIGIE_STORE_ELASTICSEARCH"], ",") {
		if p, err := url.Parse(strings.TrimSpace(u)); err == nil && p.Hostname() != "" {
			hs = append(hs, p.Hostname())
		}
	}
	return hs
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// --- docker compose ---

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)

// interpolate applies compose's ${VAR} and ${VAR:-default} with an empty
// environment, as a fresh checkout would see it.
func interpolate(s string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string { return interpolation.FindStringSubmatch(m)[2] })
}

func checkCompose(b []byte, dir string) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(interpolate(string(b))), &doc); err != nil {
		return []error{fmt.Errorf("docker-compose.yml: %w", err)}
	}
	for k := range doc {
		if !strings.HasPrefix(k, "x-") && !slices.Contains([]string{"name", "services", "volumes", "networks", "configs", "secrets"}, k) {
			bad("top-level key %q is not in the compose specification", k)
		}
	}
	services := asMap(doc["services"])
	if len(services) == 0 {
		return append(errs, errors.New("no services"))
	}
	volumes := asMap(doc["volumes"])
	stageCmds := map[string]string{} // stage -> service
	graphEnv := map[string]string{}  // stage -> its VIGIE_GRAPH_* settings
	sharedEnv := ""
	for name, v := range services {
		svc := asMap(v)
		where := "service " + name
		if svc["image"] == nil && svc["build"] == nil {
			bad("%s: neither image nor build", where)
		}
		if bld := asMap(svc["build"]); bld != nil {
			ctx := filepath.Join(dir, str(bld["context"]))
			df := str(bld["dockerfile"])
			if df == "" {
				df = "Dockerfile"
			}
			if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
				bad("%s: build: %v", where, err)
			}
		}
		env := composeEnv(svc["environment"])
		restart := str(svc["restart"])
		oneShot := restart == "on-failure" || restart == "no"
		hc := asMap(svc["healthcheck"])
		if hc["disable"] == true {
			hc = nil
		}
		cmds := vigieInvocations(svc)
		scheduled := len(cmds) > 0 && !slices.ContainsFunc(cmds, func(c []string) bool { return c[0] != "brief" })
		if hc == nil && !(oneShot && name != "ingest") && !scheduled {
			bad("%s: no healthcheck", where)
		}
		if hc != nil {
			test := asSlice(hc["test"])
			if len(test) < 2 || !slices.Contains([]string{"CMD", "CMD-SHELL"}, str(test[0])) {
				bad("%s: healthcheck test %v is not [CMD|CMD-SHELL, ...]", where, test)
			}
		}
		for dep, cond := range dependsOn(svc["depends_on"]) {
			target, ok := services[dep]
			if !ok {
				bad("%s: depends on %q, which is not a service", where, dep)
				continue
			}
			if cond == "service_healthy" && asMap(target)["healthcheck"] == nil {
				bad("%s: waits for %q to be healthy, but it has no healthcheck", where, dep)
			}
		}
		for _, vol := range asSlice(svc["volumes"]) {
			src, _, ok := strings.Cut(str(vol), ":")
			if ok && !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				if _, declared := volumes[src]; !declared {
					bad("%s: volume %q is not declared", where, src)
				}
			}
		}
		isVigie := svc["build"] != nil || strings.HasPrefix(str(svc["image"]), "vigie")
		if !isVigie {
			continue
		}
		if len(cmds) == 0 {
			bad("%s: runs no vigie command", where)
		}
		for _, c := range cmds {
			if err := checkCommand(where, c); err != nil {
				errs = append(errs, err)
			}
			if c[0] == app.StageBrief {
				stageCmds[app.StageBrief] = name
			}
		}
		var cmd []string
		if len(cmds) == 1 {
			cmd = cmds[0]
		}
		errs = append(errs, checkEnv(where, env)...)
		if len(cmds) > 0 && cmds[0][0] != "kibana" {
			// Stages run apart must share the bus and the store.
			shared := env["VIGIE_BUS_BROKERS"] + " " + env["VIGIE_STORE_KIND"] + " " + env["VIGIE_STORE_ELASTICSEARCH"]
			if env["VIGIE_BUS_BROKERS"] == "" || env["VIGIE_STORE_KIND"] != "elasticsearch" {
				bad("%s: stages run apart need VIGIE_BUS_BROKERS and VIGIE_STORE_KIND=elasticsearch (got %q)", where, shared)
			} else if sharedEnv == "" {
				sharedEnv = shared
			} else if shared != sharedEnv {
				bad("%s: bus and store %q differ from the other stages' %q", where, shared, sharedEnv)
			}
		}
		for _, h := range hosts(env) {
			if _, ok := services[h]; !ok {
				bad("%s: connects to %q, which is not a service", where, h)
			}
		}
		for i, a := range cmd {
			if a == "--url" && i+1 < len(cmd) {
				if u, err := url.Parse(cmd[i+1]); err != nil || services[u.Hostname()] == nil {
					bad("%s: --url %q is not a service", where, cmd[i+1])
				}
			}
		}
		if len(cmd) > 0 && slices.Contains(longRunning, cmd[0]) {
			stageCmds[cmd[0]] = name
			// The healthcheck must probe the port the stage serves.
			port := portOf(env["VIGIE_OPS_ADDR"])
			if cmd[0] == app.StageServe {
				port = portOf(env["VIGIE_HTTP_ADDR"])
			}
			test := fmt.Sprint(asSlice(hc["test"]))
			if hc != nil && (port == "" || !strings.Contains(test, ":"+port+"/healthz")) {
				bad("%s: healthcheck %s does not probe /healthz on the stage's port %q", where, test, port)
			}
		}
		if len(cmd) > 0 {
			// Compose runs one container unless scale or deploy.replicas says more.
			n := 1
			if r, ok := svc["scale"]; ok {
				n = intOf(r)
			}
			if r, ok := asMap(svc["deploy"])["replicas"]; ok {
				n = intOf(r)
			}
			errs = append(errs, checkScaleOut(where, cmd[0], n, env)...)
			if slices.Contains(scaleOutStages, cmd[0]) {
				graphEnv[cmd[0]] = graphKeys(env)
			}
			if cmd[0] == app.StageServe {
				errs = append(errs, checkComposeTokens(where, svc, asMap(doc["secrets"]), dir, env)...)
			}
		}
	}
	for _, s := range app.AllStages {
		if stageCmds[s] == "" {
			bad("no service runs the %s stage", s)
		}
	}
	errs = append(errs, checkGraphKeysAgree(graphEnv)...)
	return errs
}

// scaleOutStages must agree on graph.scale_out and the other graph.* keys:
// ingest derives the actions and pair the windows from them.
var scaleOutStages = []string{app.StageIngest, app.StagePair, app.StageGraph}

// checkScaleOut checks one stage's worker count n and its scale-out
// setting (docs/scale-out.md): pair scales out in a consumer group over
// the actions topic; graph aggregates every co-action, so exactly one runs.
func checkScaleOut(where, stage string, n int, env map[string]string) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !slices.Contains(scaleOutStages, stage) {
		return nil
	}
	cfg, err := loadEnv(env)
	if err != nil {
		return nil // checkEnv reports it
	}
	if !cfg.Graph.ScaleOut {
		bad("%s: the %s stage runs without VIGIE_GRAPH_SCALE_OUT=true (graph.scale_out)", where, stage)
	}
	switch stage {
	case app.StageGraph:
		if n != 1 {
			bad("%s: graph runs %d workers; the aggregator of the scaled-out graph stage must run exactly once (scale pair instead)", where, n)
		}
	case app.StagePair:
		if n < 2 {
			bad("%s: pair runs %d worker(s); run 2 or more to scale out", where, n)
		}
		if cfg.Bus.Partitions < n {
			bad("%s: %d pair workers but bus.partitions is %d: idle workers", where, n, cfg.Bus.Partitions)
		}
	}
	return errs
}

// loadEnv loads the VIGIE_* variables of env as Vigie would.
func loadEnv(env map[string]string) (config.Config, error) {
	var environ []string
	for k, v := range env {
		if strings.HasPrefix(k, "VIGIE_") {
			environ = append(environ, k+"="+v)
		}
	}
	slices.Sort(environ)
	return config.Load("", environ)
}

// graphKeys renders the VIGIE_GRAPH_* variables of env, sorted.
func graphKeys(env map[string]string) string {
	var kv []string
	for k, v := range env {
		if strings.HasPrefix(k, "VIGIE_GRAPH_") {
			kv = append(kv, k+"="+v)
		}
	}
	slices.Sort(kv)
	return strings.Join(kv, " ")
}

func checkGraphKeysAgree(graphEnv map[string]string) []error {
	var errs []error
	for _, s := range scaleOutStages[1:] {
		if g, ok := graphEnv[s]; ok && g != graphEnv[scaleOutStages[0]] {
			errs = append(errs, fmt.Errorf("the %s stage's graph settings %q differ from the %s stage's %q", s, g, scaleOutStages[0], graphEnv[scaleOutStages[0]]))
		}
	}
	return errs
}

// checkServeAuth checks that serve would start where it listens (an
// address other than loopback needs authentication, config.CheckExposure,
// which `vigie config check` reports) and that the tokens come from a file.
func checkServeAuth(where string, env map[string]string) (config.Config, []error) {
	cfg, err := loadEnv(env)
	if err != nil {
		return cfg, nil // checkEnv reports it
	}
	var errs []error
	if err := cfg.HTTP.CheckExposure(); err != nil {
		errs = append(errs, fmt.Errorf("%s: vigie serve would refuse to start: %w", where, err))
	}
	if cfg.HTTP.Auth.TokensFile == "" {
		errs = append(errs, fmt.Errorf("%s: no VIGIE_HTTP_AUTH_TOKENS_FILE: nobody can sign in", where))
	}
	return cfg, errs
}

// checkComposeTokens checks that serve's tokens file is a compose secret
// of the service and that the file it names reads as Vigie reads it.
func checkComposeTokens(where string, svc, secrets map[string]any, dir string, env map[string]string) []error {
	cfg, errs := checkServeAuth(where, env)
	want := cfg.HTTP.Auth.TokensFile
	if want == "" {
		return errs
	}
	for _, x := range asSlice(svc["secrets"]) {
		source, target := str(x), ""
		if m := asMap(x); m != nil {
			source, target = str(m["source"]), str(m["target"])
		}
		switch {
		case target == "":
			target = "/run/secrets/" + source
		case !strings.HasPrefix(target, "/"):
			target = "/run/secrets/" + target
		}
		if target != want {
			continue
		}
		sec, ok := secrets[source]
		if !ok {
			return append(errs, fmt.Errorf("%s: secret %q is not declared", where, source))
		}
		file := str(asMap(sec)["file"])
		if file == "" {
			return append(errs, fmt.Errorf("%s: secret %q has no file", where, source))
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		h := cfg.HTTP
		h.Auth.TokensFile, h.AuditFile = file, ""
		a, err := web.AccessFromConfig(h, "", slog.New(slog.DiscardHandler))
		if err != nil {
			return append(errs, fmt.Errorf("%s: secret %q: %w", where, source, err))
		}
		a.Close()
		return errs
	}
	return append(errs, fmt.Errorf("%s: VIGIE_HTTP_AUTH_TOKENS_FILE=%s is not one of the service's secrets", where, want))
}

// longRunning are the stages that run as servers, each in its own process
// with /healthz on ops.addr. The other stages of app.AllStages (brief) are
// scheduled runs of a one-shot command.
var longRunning = []string{app.StageIngest, app.StagePair, app.StageGraph, app.StageIndex, app.StageAlert, app.StageServe}

// vigieInvocations returns the vigie commands a compose service runs:
// its command, or the vigie calls of a /bin/sh -c script.
func vigieInvocations(svc map[string]any) [][]string {
	var cmd, entry []string
	for _, c := range asSlice(svc["command"]) {
		cmd = append(cmd, str(c))
	}
	for _, c := range asSlice(svc["entrypoint"]) {
		entry = append(entry, str(c))
	}
	full := append(entry, cmd...)
	if len(full) >= 3 && (full[0] == "sh" || full[0] == "/bin/sh") && full[1] == "-c" {
		return shellInvocations(strings.Join(full[2:], " "))
	}
	if len(entry) > 0 {
		return nil // an entrypoint other than vigie's
	}
	if len(cmd) == 0 {
		return nil
	}
	return [][]string{cmd}
}

// shellInvocations finds "vigie ARGS" in a simple shell script, ARGS
// ending at a shell operator.
func shellInvocations(script string) [][]string {
	var out [][]string
	fields := strings.Fields(script)
	for i := 0; i < len(fields); i++ {
		if fields[i] != "vigie" && fields[i] != "/usr/local/bin/vigie" {
			continue
		}
		var args []string
		for i++; i < len(fields) && !slices.Contains([]string{";", "&&", "||", "|", "&", "done", "fi"}, fields[i]); i++ {
			args = append(args, strings.TrimSuffix(fields[i], ";"))
			if strings.HasSuffix(fields[i], ";") {
				break
			}
		}
		if len(args) > 0 {
			out = append(out, args)
		}
	}
	return out
}

func composeEnv(v any) map[string]string {
	env := map[string]string{}
	if m := asMap(v); m != nil {
		for k, x := range m {
			env[k] = str(x)
		}
	}
	for _, x := range asSlice(v) {
		k, val, _ := strings.Cut(str(x), "=")
		env[k] = val
	}
	return env
}

func dependsOn(v any) map[string]string {
	out := map[string]string{}
	if m := asMap(v); m != nil {
		for k, x := range m {
			out[k] = str(asMap(x)["condition"])
		}
	}
	for _, x := range asSlice(v) {
		out[str(x)] = "service_started"
	}
	return out
}

// --- Kubernetes ---

type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) kind() string { return str(m.doc["kind"]) }
func (m manifest) name() string { return str(asMap(m.doc["metadata"])["name"]) }
func (m manifest) String() string {
	return fmt.Sprintf("%s %s (%s)", m.kind(), m.name(), filepath.Base(m.file))
}

func readManifests(path string) ([]manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if doc != nil {
			out = append(out, manifest{path, doc})
		}
	}
}

// readKustomization reads every resource a kustomization.yaml lists.
func readKustomization(dir string) ([]manifest, error) {
	k, err := readManifests(filepath.Join(dir, "kustomization.yaml"))
	if err != nil || len(k) != 1 {
		return nil, fmt.Errorf("kustomization.yaml: %v", err)
	}
	var out []manifest
	for _, r := range asSlice(k[0].doc["resources"]) {
		ms, err := readManifests(filepath.Join(dir, str(r)))
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// podSpec returns the pod template of a workload, or nil.
func podTemplate(m manifest) map[string]any {
	switch m.kind() {
	case "Deployment", "StatefulSet", "DaemonSet", "Job":
		return asMap(asMap(m.doc["spec"])["template"])
	case "CronJob":
		return asMap(asMap(asMap(asMap(m.doc["spec"])["jobTemplate"])["spec"])["template"])
	}
	return nil
}

func checkKubernetes(docs, extra []manifest) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	byKind := map[string]map[string]manifest{}
	for _, m := range append(slices.Clone(docs), extra...) {
		if str(m.doc["apiVersion"]) == "" || m.kind() == "" || m.name() == "" {
			bad("%s: a manifest needs apiVersion, kind and metadata.name", m.file)
			continue
		}
		if !dnsLabel.MatchString(m.name()) {
			bad("%s: name is not a DNS label", m)
		}
		if byKind[m.kind()] == nil {
			byKind[m.kind()] = map[string]manifest{}
		}
		if _, dup := byKind[m.kind()][m.name()]; dup {
			bad("%s: defined twice", m)
		}
		byKind[m.kind()][m.name()] = m
	}
	configMaps := map[string]map[string]string{}
	for name, m := range byKind["ConfigMap"] {
		data := map[string]string{}
		for k, v := range asMap(m.doc["data"]) {
			data[k] = str(v)
		}
		configMaps[name] = data
	}
	secretKeys := func(name, key string) bool {
		s, ok := byKind["Secret"][name]
		if !ok {
			return false
		}
		_, a := asMap(s.doc["stringData"])[key]
		_, b := asMap(s.doc["data"])[key]
		return a || b
	}
	type pod struct {
		m      manifest
		labels map[string]any
		ports  map[string]bool
	}
	var pods []pod
	stages := map[string]manifest{}
	graphEnv := map[string]string{} // stage -> its VIGIE_GRAPH_* settings
	for _, m := range docs {
		tpl := podTemplate(m)
		if tpl == nil {
			continue
		}
		labels := asMap(asMap(tpl["metadata"])["labels"])
		if m.kind() != "Job" && m.kind() != "CronJob" {
			sel := asMap(asMap(asMap(m.doc["spec"])["selector"])["matchLabels"])
			if len(sel) == 0 {
				bad("%s: no spec.selector.matchLabels", m)
			}
			for k, v := range sel {
				if labels[k] != v {
					bad("%s: selector %s=%v does not match the pod template's labels %v", m, k, v, labels)
				}
			}
		}
		spec := asMap(tpl["spec"])
		p := pod{m: m, labels: labels, ports: map[string]bool{}}
		containers := asSlice(spec["containers"])
		if len(containers) == 0 {
			bad("%s: no containers", m)
		}
		for _, c := range containers {
			c := asMap(c)
			where := fmt.Sprintf("%s container %s", m, str(c["name"]))
			portNums := map[string]string{}
			for _, pt := range asSlice(c["ports"]) {
				pt := asMap(pt)
				p.ports[str(pt["name"])] = true
				p.ports[str(pt["containerPort"])] = true
				portNums[str(pt["name"])] = str(pt["containerPort"])
			}
			if str(c["image"]) == "" {
				bad("%s: no image", where)
			}
			res := asMap(c["resources"])
			for _, kind := range []string{"requests", "limits"} {
				r := asMap(res[kind])
				if r["cpu"] == nil || r["memory"] == nil {
					bad("%s: resources.%s needs cpu and memory", where, kind)
				}
			}
			isVigie := str(c["image"]) == "vigie" || strings.HasPrefix(str(c["image"]), "vigie:")
			hasPorts := len(portNums) > 0
			if hasPorts {
				for _, probe := range []string{"livenessProbe", "readinessProbe"} {
					pr := asMap(c[probe])
					if pr == nil {
						bad("%s: no %s (a %s probe)", where, probe, strings.TrimSuffix(probe, "Probe"))
						continue
					}
					port := str(asMap(pr["httpGet"])["port"])
					if port == "" {
						port = str(asMap(pr["tcpSocket"])["port"])
					}
					if port == "" || (!p.ports[port]) {
						bad("%s: %s probes port %q, which the container does not declare", where, probe, port)
					}
				}
			}
			// The environment the container runs with.
			env := map[string]string{}
			for _, ef := range asSlice(c["envFrom"]) {
				if ref := str(asMap(asMap(ef)["configMapRef"])["name"]); ref != "" {
					data, ok := configMaps[ref]
					if !ok {
						bad("%s: envFrom ConfigMap %q does not exist", where, ref)
					}
					for k, v := range data {
						env[k] = v
					}
				}
				if ref := str(asMap(asMap(ef)["secretRef"])["name"]); ref != "" && byKind["Secret"][ref].doc == nil {
					bad("%s: envFrom Secret %q does not exist", where, ref)
				}
			}
			for _, e := range asSlice(c["env"]) {
				e := asMap(e)
				name := str(e["name"])
				if strings.HasPrefix(name, "VIGIE_") && !envKeys[name] {
					bad("%s: %s is not a configuration key (vigie config check --keys)", where, name)
				}
				vf := asMap(e["valueFrom"])
				if sk := asMap(vf["secretKeyRef"]); sk != nil {
					if !secretKeys(str(sk["name"]), str(sk["key"])) {
						bad("%s: %s refers to Secret %q key %q, which does not exist", where, name, str(sk["name"]), str(sk["key"]))
					}
					continue
				}
				if ck := asMap(vf["configMapKeyRef"]); ck != nil {
					if _, ok := configMaps[str(ck["name"])][str(ck["key"])]; !ok {
						bad("%s: %s refers to ConfigMap %q key %q, which does not exist", where, name, str(ck["name"]), str(ck["key"]))
					}
					continue
				}
				env[name] = str(e["value"])
			}
			if !isVigie {
				continue
			}
			var args []string
			for _, a := range asSlice(c["args"]) {
				args = append(args, str(a))
			}
			if err := checkCommand(where, args); err != nil {
				errs = append(errs, err)
			}
			errs = append(errs, checkEnv(where, env)...)
			if len(args) > 0 {
				replicas := 1 // a Job's or CronJob's pod runs once
				if r, ok := asMap(m.doc["spec"])["replicas"]; ok && m.kind() == "Deployment" {
					replicas = intOf(r)
				}
				errs = append(errs, checkScaleOut(where, args[0], replicas, env)...)
				if slices.Contains(scaleOutStages, args[0]) {
					graphEnv[args[0]] = graphKeys(env)
				}
				if args[0] == app.StageGraph && m.kind() == "Deployment" {
					if st := str(asMap(asMap(m.doc["spec"])["strategy"])["type"]); st != "Recreate" {
						bad("%s: graph's strategy is %q: only Recreate stops the old aggregator before the new one starts", m, st)
					}
				}
				if args[0] == app.StageServe {
					errs = append(errs, checkKubeTokens(where, c, spec, secretKeys, env)...)
				}
			}
			svcHost := func(h string) bool {
				_, ok := byKind["Service"][h]
				if !ok { // a StatefulSet pod's name: pod.service
					if _, svc, found := strings.Cut(h, "."); found {
						_, ok = byKind["Service"][svc]
					}
				}
				return ok
			}
			for _, h := range hosts(env) {
				if !svcHost(h) {
					bad("%s: connects to %q, which is not a Service", where, h)
				}
			}
			for i, a := range args {
				if a == "--url" && i+1 < len(args) {
					if u, err := url.Parse(args[i+1]); err != nil || !svcHost(u.Hostname()) {
						bad("%s: --url %q is not a Service", where, args[i+1])
					}
				}
			}
			if len(args) > 0 && args[0] == app.StageBrief {
				stages[args[0]] = m
			}
			if len(args) > 0 && slices.Contains(longRunning, args[0]) {
				stages[args[0]] = m
				if p := portOf(env["VIGIE_OPS_ADDR"]); p == "" || portNums["ops"] != p {
					bad("%s: port ops is %q but VIGIE_OPS_ADDR is %q", where, portNums["ops"], env["VIGIE_OPS_ADDR"])
				}
				if args[0] == app.StageServe && portNums["http"] != portOf(env["VIGIE_HTTP_ADDR"]) {
					bad("%s: port http is %q but VIGIE_HTTP_ADDR is %q", where, portNums["http"], env["VIGIE_HTTP_ADDR"])
				}
				sc := asMap(c["securityContext"])
				if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
					bad("%s: run read-only without privilege escalation", where)
				}
			}
		}
		pods = append(pods, p)
	}
	for _, s := range app.AllStages {
		m, ok := stages[s]
		if !ok {
			bad("no workload runs the %s stage", s)
			continue
		}
		if slices.Contains(longRunning, s) && s != app.StageIngest && m.kind() != "Deployment" {
			bad("%s: the %s stage should be a Deployment", m, s)
		}
		if s == app.StagePair && m.kind() != "Deployment" {
			bad("%s: the pair stage should be a Deployment", m)
		}
	}
	errs = append(errs, checkGraphKeysAgree(graphEnv)...)
	// A budget that no eviction can satisfy blocks every node drain.
	for _, pdb := range byKind["PodDisruptionBudget"] {
		spec := asMap(pdb.doc["spec"])
		sel := asMap(asMap(spec["selector"])["matchLabels"])
		min, isInt := spec["minAvailable"].(int)
		for _, m := range byKind["Deployment"] {
			labels := asMap(asMap(podTemplate(m)["metadata"])["labels"])
			match := len(sel) > 0
			for k, v := range sel {
				if labels[k] != v {
					match = false
				}
			}
			replicas := 1
			if r, ok := asMap(m.doc["spec"])["replicas"]; ok {
				replicas = intOf(r)
			}
			if match && isInt && min >= replicas {
				bad("%s: minAvailable %d of the %d replica(s) of %s blocks every node drain", pdb, min, replicas, m)
			}
		}
	}
	for _, svc := range byKind["Service"] {
		spec := asMap(svc.doc["spec"])
		sel := asMap(spec["selector"])
		var matched []pod
		for _, p := range pods {
			ok := len(sel) > 0
			for k, v := range sel {
				if p.labels[k] != v {
					ok = false
				}
			}
			if ok {
				matched = append(matched, p)
			}
		}
		if len(matched) == 0 {
			bad("%s: selector %v selects no pod", svc, sel)
			continue
		}
		for _, pt := range asSlice(spec["ports"]) {
			target := str(asMap(pt)["targetPort"])
			if target == "" {
				target = str(asMap(pt)["port"])
			}
			if !slices.ContainsFunc(matched, func(p pod) bool { return p.ports[target] }) {
				bad("%s: targetPort %q is not a port of the pods it selects", svc, target)
			}
		}
	}
	return errs
}

// checkKubeTokens checks that serve's tokens file (and session key file,
// if set) lies in a read-only mount of a Secret volume that provides it.
func checkKubeTokens(where string, c, podSpec map[string]any, secretKeys func(name, key string) bool, env map[string]string) []error {
	cfg, errs := checkServeAuth(where, env)
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	volumes := map[string]map[string]any{}
	for _, v := range asSlice(podSpec["volumes"]) {
		volumes[str(asMap(v)["name"])] = asMap(v)
	}
	for _, f := range []struct{ key, path string }{
		{"VIGIE_HTTP_AUTH_TOKENS_FILE", cfg.HTTP.Auth.TokensFile},
		{"VIGIE_HTTP_AUTH_SESSION_KEY_FILE", cfg.HTTP.Auth.SessionKeyFile},
	} {
		if f.path == "" {
			continue
		}
		found := false
		for _, vm := range asSlice(c["volumeMounts"]) {
			vm := asMap(vm)
			rel, err := filepath.Rel(str(vm["mountPath"]), f.path)
			if err != nil || strings.HasPrefix(rel, "..") || rel == "." {
				continue
			}
			found = true
			sec := asMap(volumes[str(vm["name"])]["secret"])
			if sec == nil {
				bad("%s: %s=%s is not in a Secret volume", where, f.key, f.path)
				break
			}
			if vm["readOnly"] != true {
				bad("%s: the volume holding %s is not mounted readOnly", where, f.path)
			}
			name, key := str(sec["secretName"]), rel
			if items := asSlice(sec["items"]); len(items) > 0 {
				key = ""
				for _, it := range items {
					if str(asMap(it)["path"]) == rel {
						key = str(asMap(it)["key"])
					}
				}
			}
			if key == "" || !secretKeys(name, key) {
				bad("%s: %s=%s: Secret %q has no key for %q", where, f.key, f.path, name, rel)
			}
			break
		}
		if !found {
			bad("%s: %s=%s is in no volume mount", where, f.key, f.path)
		}
	}
	return errs
}

// --- Dockerfile ---

func checkDockerfile(s string) []error {
	var errs []error
	froms := regexp.MustCompile(`(?m)^FROM\s`).FindAllStringIndex(s, -1)
	if len(froms) < 2 {
		errs = append(errs, errors.New("Dockerfile: not multi-stage (build and run stages)"))
	}
	if !strings.Contains(s, "CGO_ENABLED=0") {
		errs = append(errs, errors.New("Dockerfile: the binary is not built static (CGO_ENABLED=0)"))
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(s, -1)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "root") || strings.HasPrefix(users[len(users)-1][1], "0") {
		errs = append(errs, errors.New("Dockerfile: the final stage does not switch to a non-root USER"))
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(VIGIE_[A-Z0-9_]+)=(\S+)`).FindAllStringSubmatch(s, -1) {
		env[m[1]] = m[2]
	}
	if len(env) > 0 {
		errs = append(errs, checkEnv("Dockerfile", env)...)
	}
	return errs
}

// --- YAML helpers ---

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func intOf(v any) int {
	n, _ := strconv.Atoi(str(v))
	return n
}

// TestVersionsMatchTheTestedOnes keeps the images on the Kafka and
// Elasticsearch versions the integration tests run (scripts/), so a
// deployment does not use a server nobody tested against.
func TestVersionsMatchTheTestedOnes(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	kafka := regexp.MustCompile(`VIGIE_KAFKA_VERSION:-([0-9.]+)`).FindStringSubmatch(read("../scripts/kafka.sh"))
	es := regexp.MustCompile(`<es.version>([0-9.]+)</es.version>`).FindStringSubmatch(read("../scripts/elasticsearch/pom.xml"))
	if kafka == nil || es == nil {
		t.Fatal("cannot find the tested Kafka or Elasticsearch version in scripts/")
	}
	files := map[string]string{
		"docker-compose.yml": read("docker-compose.yml"),
		"k8s/infra.yaml":     read(filepath.Join("k8s", "infra.yaml")),
	}
	for name, s := range files {
		for _, want := range []struct{ image, version string }{
			{"apache/kafka:", kafka[1]},
			{"elasticsearch/elasticsearch:", es[1]},
			{"kibana/kibana:", es[1]},
		} {
			re := regexp.MustCompile(regexp.QuoteMeta(want.image) + `(?:\$\{[A-Z_]+:-)?([0-9.]+)`)
			m := re.FindAllStringSubmatch(s, -1)
			if len(m) == 0 {
				t.Errorf("%s: no %s image", name, want.image)
			}
			for _, v := range m {
				if v[1] != want.version {
					t.Errorf("%s: %s%s, but the tests run %s", name, want.image, v[1], want.version)
				}
			}
		}
	}
}

// TestExampleSecretAuth reads the example Secret's http-tokens and
// http-session-key as vigie serve does: the placeholders must be refused
// (nobody runs with a published token), and the same Secret filled in as
// its header comment says must start.
func TestExampleSecretAuth(t *testing.T) {
	ms, err := readManifests(filepath.Join("k8s", "secret.example.yaml"))
	if err != nil || len(ms) != 1 {
		t.Fatalf("secret.example.yaml: %v (%d documents)", err, len(ms))
	}
	data := asMap(ms[0].doc["stringData"])
	tokens, ok := data["http-tokens"].(string)
	if !ok || !strings.Contains(tokens, "REPLACE-ME") {
		t.Fatalf("http-tokens is %q, want the REPLACE-ME placeholder", data["http-tokens"])
	}
	start := func(tokens, key string) error {
		dir := t.TempDir()
		h := config.Default().HTTP
		h.Auth.TokensFile, h.Auth.SessionKeyFile, h.AuditFile = filepath.Join(dir, "tokens"), filepath.Join(dir, "session-key"), ""
		if err := os.WriteFile(h.Auth.TokensFile, []byte(tokens), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(h.Auth.SessionKeyFile, []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := web.AccessFromConfig(h, "", slog.New(slog.DiscardHandler))
		if err == nil {
			a.Close()
		}
		return err
	}
	good := strings.Repeat("3f", 32) // as openssl rand -hex 32 prints
	if err := start(tokens, good); err == nil || !strings.Contains(err.Error(), "at least 16 characters") {
		t.Errorf("the placeholder token started: %v", err)
	}
	if err := start(strings.ReplaceAll(tokens, "REPLACE-ME", good), str(data["http-session-key"])); err == nil {
		t.Error("the empty session key placeholder started")
	}
	if err := start(strings.ReplaceAll(tokens, "REPLACE-ME", good), good); err != nil {
		t.Errorf("the Secret filled in as documented does not start: %v", err)
	}
}

// TestConfigCheckServe runs `vigie config check` with the environment of
// the serve container of each deployment: it must say the configuration is
// valid without the note that serve would refuse to start, which it does
// print once the tokens file is taken away.
func TestConfigCheckServe(t *testing.T) {
	compose, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(interpolate(string(compose))), &doc); err != nil {
		t.Fatal(err)
	}
	docs, err := readKustomization("k8s")
	if err != nil {
		t.Fatal(err)
	}
	envs := map[string]map[string]string{
		"compose":    composeEnv(asMap(asMap(doc["services"])["serve"])["environment"]),
		"kubernetes": kubeEnv(t, docs, "vigie-serve"),
	}
	for name, env := range envs {
		for _, withTokens := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/tokens=%v", name, withTokens), func(t *testing.T) {
				if env["VIGIE_HTTP_ADDR"] == "" {
					t.Fatalf("no VIGIE_HTTP_ADDR in %v", env)
				}
				for _, kv := range os.Environ() {
					if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VIGIE_") {
						t.Setenv(k, "")
						os.Unsetenv(k)
					}
				}
				for k, v := range env {
					if k == "VIGIE_HTTP_AUTH_TOKENS_FILE" && !withTokens {
						continue
					}
					t.Setenv(k, v)
				}
				var out, errOut bytes.Buffer
				code := app.Main(context.Background(), []string{"config", "check"}, &out, &errOut)
				t.Logf("vigie config check: exit %d\n%s%s", code, out.String(), errOut.String())
				if code != 0 || !strings.Contains(out.String(), "configuration valid") {
					t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
				}
				if note := strings.Contains(out.String(), "refuse to start"); note == withTokens {
					t.Errorf("tokens file set: %v, but the refusal note printed: %v", withTokens, note)
				}
			})
		}
	}
}

// kubeEnv is the plain environment of a Deployment's first container: its
// ConfigMaps and literal env values (Secret references left out).
func kubeEnv(t *testing.T, docs []manifest, deployment string) map[string]string {
	t.Helper()
	cms := map[string]map[string]any{}
	var dep manifest
	for _, m := range docs {
		switch {
		case m.kind() == "ConfigMap":
			cms[m.name()] = asMap(m.doc["data"])
		case m.kind() == "Deployment" && m.name() == deployment:
			dep = m
		}
	}
	cs := asSlice(asMap(podTemplate(dep)["spec"])["containers"])
	if len(cs) == 0 {
		t.Fatalf("no Deployment %s with a container", deployment)
	}
	c := asMap(cs[0])
	env := map[string]string{}
	for _, ef := range asSlice(c["envFrom"]) {
		for k, v := range cms[str(asMap(asMap(ef)["configMapRef"])["name"])] {
			env[k] = str(v)
		}
	}
	for _, e := range asSlice(c["env"]) {
		if e := asMap(e); e["valueFrom"] == nil {
			env[str(e["name"])] = str(e["value"])
		}
	}
	return env
}
