package app

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigie-osint/vigie/kibana"
)

// fakeKibana answers the import API: first `unavailable` requests with 503
// (Kibana starting), then status/body. It records the last file and
// Authorization header it received.
func fakeKibana(t *testing.T, unavailable int32, status int, body string) (*httptest.Server, *[]byte, *string) {
	t.Helper()
	var calls atomic.Int32
	var file []byte
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= unavailable {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"statusCode":503,"error":"Service Unavailable","message":"Kibana server is not ready yet"}`)
			return
		}
		if r.URL.Path != "/api/saved_objects/_import" || r.URL.Query().Get("overwrite") != "true" || r.Header.Get("kbn-xsrf") == "" {
			http.Error(w, `{"statusCode":400,"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		auth = r.Header.Get("Authorization")
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		p, err := multipart.NewReader(r.Body, params["boundary"]).NextPart()
		if err == nil {
			file, _ = io.ReadAll(p)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &file, &auth
}

func TestKibanaCommand(t *testing.T) {
	builtIn, err := kibana.NDJSON(kibana.Objects())
	if err != nil {
		t.Fatal(err)
	}
	prefixed, err := kibana.NDJSON(kibana.ObjectsForPrefix("osint"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(prefixed, builtIn) || !bytes.Contains(prefixed, []byte(`"title":"osint-posts-*"`)) {
		t.Fatal("ObjectsForPrefix does not rename the data views")
	}
	custom := filepath.Join(t.TempDir(), "mine.ndjson")
	if err := os.WriteFile(custom, []byte(`{"id":"x","type":"index-pattern","attributes":{"title":"x*"},"references":[]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("filekey\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := `{"success":true,"successCount":1,"successResults":[{"type":"dashboard","id":"vigie-dashboard-alerts","meta":{"title":"Vigie · Alerts"}}]}`
	partial := `{"success":false,"successCount":0,"errors":[{"type":"visualization","id":"v","title":"V","error":{"type":"missing_references","references":[{"type":"index-pattern","id":"gone"}]}}]}`
	for _, tc := range []struct {
		name        string
		args        []string
		env         map[string]string
		unavailable int32
		status      int
		body        string
		wantCode    int
		wantFile    []byte
		wantAuth    string
		wantOut     string
	}{
		{name: "built-in objects, API key from env", env: map[string]string{kibana.EnvAPIKey: "envkey"},
			status: 200, body: ok, wantCode: 0, wantFile: builtIn, wantAuth: "ApiKey envkey", wantOut: "1 objects imported, 0 failed"},
		{name: "API key file wins over env", args: []string{"--api-key-file", keyFile}, env: map[string]string{kibana.EnvAPIKey: "envkey"},
			status: 200, body: ok, wantCode: 0, wantFile: builtIn, wantAuth: "ApiKey filekey"},
		{name: "custom file, basic auth from env", args: []string{"--file", custom},
			env:    map[string]string{kibana.EnvUser: "elastic", kibana.EnvPassword: "pw"},
			status: 200, body: ok, wantCode: 0, wantFile: []byte(`{"id":"x","type":"index-pattern","attributes":{"title":"x*"},"references":[]}` + "\n"),
			wantAuth: "Basic ZWxhc3RpYzpwdw=="},
		{name: "partial failure exits 1", status: 200, body: partial, wantCode: 1, wantFile: builtIn,
			wantOut: "FAILED  visualization v"},
		{name: "waits while Kibana starts", args: []string{"--wait", "10s"}, unavailable: 1, status: 200, body: ok, wantCode: 0, wantFile: builtIn},
		{name: "no wait: 503 fails", unavailable: 1, status: 200, body: ok, wantCode: 1},
		{name: "index prefix", args: []string{"--index-prefix", "osint"}, status: 200, body: ok, wantCode: 0, wantFile: prefixed},
		{name: "index prefix from the store's setting", env: map[string]string{"VIGIE_STORE_ELASTICSEARCH_PREFIX": "osint"},
			status: 200, body: ok, wantCode: 0, wantFile: prefixed},
		{name: "bad index prefix", args: []string{"--index-prefix", "Bad*"}, status: 200, body: ok, wantCode: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{kibana.EnvAPIKey, kibana.EnvUser, kibana.EnvPassword, "VIGIE_STORE_ELASTICSEARCH_PREFIX"} {
				t.Setenv(k, tc.env[k])
			}
			srv, file, auth := fakeKibana(t, tc.unavailable, tc.status, tc.body)
			var out, errb bytes.Buffer
			args := append([]string{"kibana", "import", "--url", srv.URL}, tc.args...)
			code := Main(context.Background(), args, &out, &errb)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.wantCode, out.String(), errb.String())
			}
			if tc.wantFile != nil && !bytes.Equal(*file, tc.wantFile) {
				t.Errorf("Kibana received %d bytes, want %d", len(*file), len(tc.wantFile))
			}
			if *auth != tc.wantAuth && tc.wantFile != nil {
				t.Errorf("Authorization %q, want %q", *auth, tc.wantAuth)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out.String())
			}
		})
	}
}

func TestKibanaCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"kibana"}, {"kibana", "nope"}, {"kibana", "import"}} {
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"kibana", "objects"}, &out, io.Discard); code != 0 {
		t.Fatalf("kibana objects: exit %d", code)
	}
	want, _ := kibana.NDJSON(kibana.Objects())
	if !bytes.Equal(out.Bytes(), want) {
		t.Error("kibana objects does not print the built-in objects")
	}
}
