package kibana

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// request is what the fake Kibana saw.
type request struct {
	method, path, query, xsrf, auth string
	formName, fileName              string
	file                            []byte
	err                             string // what was wrong with the request, if anything
}

// kibanaServer answers the import API like Kibana does: it parses the
// multipart request the way Kibana's route does (one "file" part) and
// answers status with body.
func kibanaServer(t *testing.T, status int, body string) (*httptest.Server, *request) {
	t.Helper()
	var got request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = request{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, xsrf: r.Header.Get("kbn-xsrf"), auth: r.Header.Get("Authorization")}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			got.err = "content type " + r.Header.Get("Content-Type")
		} else {
			mr := multipart.NewReader(r.Body, params["boundary"])
			p, err := mr.NextPart()
			if err != nil {
				got.err = "no part: " + err.Error()
			} else {
				got.formName, got.fileName = p.FormName(), p.FileName()
				got.file, _ = io.ReadAll(p)
				if _, err := mr.NextPart(); err != io.EOF {
					got.err = "more than one part"
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

const (
	okBody = `{"success":true,"successCount":2,"successResults":[` +
		`{"type":"index-pattern","id":"vigie-posts","meta":{"title":"vigie-posts*","icon":"indexPatternApp"},"overwrite":true},` +
		`{"type":"dashboard","id":"vigie-dashboard-alerts","meta":{"title":"Vigie · Alerts","icon":"dashboardApp"}}],"warnings":[]}`
	partialBody = `{"success":false,"successCount":1,"successResults":[` +
		`{"type":"index-pattern","id":"vigie-posts","meta":{"title":"vigie-posts*","icon":"indexPatternApp"}}],` +
		`"errors":[{"id":"vigie-vis-x","type":"visualization","title":"X","meta":{"title":"X","icon":"visualizeApp"},` +
		`"error":{"type":"missing_references","references":[{"type":"index-pattern","id":"vigie-gone"}]}},` +
		`{"id":"vigie-dashboard-y","type":"dashboard","meta":{"title":"Y"},"error":{"type":"unknown","message":"Document \"y\" has property \"dashboard\" which belongs to a more recent version of Kibana","statusCode":400}}],` +
		`"warnings":[{"type":"simple","message":"2 objects need manual steps"}]}`
	badRequestBody = `{"statusCode":415,"error":"Unsupported Media Type","message":"Unsupported media type: text/plain"}`
)

func TestImport(t *testing.T) {
	ndjson, err := NDJSON(Objects())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		client         Client // URL filled in
		status         int
		body           string
		wantPath       string
		wantAuth       string
		wantErr        error // errors.Is target; nil = success
		wantStatus     int   // for *StatusError
		wantOK, wantKO int
		wantReport     []string
	}{
		{name: "default space, no auth", status: 200, body: okBody,
			wantPath: "/api/saved_objects/_import", wantOK: 2,
			wantReport: []string{"ok      index-pattern", "vigie-posts*", "2 objects imported, 0 failed"}},
		{name: "space and encoded API key", client: Client{Space: "election", APIKey: "ZW5jb2RlZA=="}, status: 200, body: okBody,
			wantPath: "/s/election/api/saved_objects/_import", wantAuth: "ApiKey ZW5jb2RlZA==", wantOK: 2},
		{name: "id:key API key is encoded", client: Client{APIKey: "myid:mykey"}, status: 200, body: okBody,
			wantPath: "/api/saved_objects/_import", wantAuth: "ApiKey " + base64.StdEncoding.EncodeToString([]byte("myid:mykey")), wantOK: 2},
		{name: "basic auth", client: Client{User: "elastic", Password: "s3cret"}, status: 200, body: okBody,
			wantPath: "/api/saved_objects/_import", wantAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte("elastic:s3cret")), wantOK: 2},
		{name: "API key wins over basic auth", client: Client{APIKey: "k", User: "u", Password: "p"}, status: 200, body: okBody,
			wantPath: "/api/saved_objects/_import", wantAuth: "ApiKey k", wantOK: 2},
		{name: "default space name is the default space", client: Client{Space: "default"}, status: 200, body: okBody,
			wantPath: "/api/saved_objects/_import", wantOK: 2},
		{name: "partial failure", status: 200, body: partialBody, wantPath: "/api/saved_objects/_import",
			wantErr: ErrPartial, wantOK: 1, wantKO: 2,
			wantReport: []string{
				`FAILED  visualization vigie-vis-x ("X"): missing_references (missing: index-pattern vigie-gone)`,
				`FAILED  dashboard vigie-dashboard-y ("Y"): unknown: Document "y" has property`,
				"warning simple: 2 objects need manual steps",
				"1 objects imported, 2 failed"}},
		{name: "refused request", status: 415, body: badRequestBody, wantPath: "/api/saved_objects/_import", wantStatus: 415},
		{name: "unauthorised", client: Client{User: "u", Password: "wrong"}, status: 401,
			body:     `{"statusCode":401,"error":"Unauthorized","message":"[security_exception] unable to authenticate user"}`,
			wantPath: "/api/saved_objects/_import", wantAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte("u:wrong")), wantStatus: 401},
		{name: "not Kibana", status: 200, body: `<html>proxy login</html>`, wantPath: "/api/saved_objects/_import", wantStatus: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := kibanaServer(t, tc.status, tc.body)
			c := tc.client
			c.URL = srv.URL + "/"
			resp, err := c.Import(context.Background(), "vigie.ndjson", ndjson)
			// The request, whatever the answer.
			if got.err != "" {
				t.Fatalf("bad request: %s", got.err)
			}
			if got.method != http.MethodPost || got.path != tc.wantPath || got.query != "overwrite=true" {
				t.Errorf("request %s %s?%s, want POST %s?overwrite=true", got.method, got.path, got.query, tc.wantPath)
			}
			if got.xsrf == "" {
				t.Error("no kbn-xsrf header")
			}
			if got.auth != tc.wantAuth {
				t.Errorf("Authorization %q, want %q", got.auth, tc.wantAuth)
			}
			if got.formName != "file" || got.fileName != "vigie.ndjson" || string(got.file) != string(ndjson) {
				t.Errorf("multipart part %q filename %q with %d bytes, want \"file\" vigie.ndjson with the %d NDJSON bytes",
					got.formName, got.fileName, len(got.file), len(ndjson))
			}
			// The answer.
			switch {
			case tc.wantStatus != 0:
				var se *StatusError
				if tc.wantStatus == -1 {
					if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "not a JSON object") {
						t.Fatalf("err %v, want a 'not a JSON object' error", err)
					}
					return
				}
				if !errors.As(err, &se) || se.StatusCode != tc.wantStatus {
					t.Fatalf("err %v, want a *StatusError %d", err, tc.wantStatus)
				}
				var kb struct{ Message string }
				_ = json.Unmarshal([]byte(tc.body), &kb)
				if !strings.Contains(se.Message, kb.Message) {
					t.Errorf("message %q does not carry Kibana's %q", se.Message, kb.Message)
				}
				return
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if resp.SuccessCount != tc.wantOK || len(resp.Errors) != tc.wantKO {
				t.Errorf("%d ok %d failed, want %d and %d", resp.SuccessCount, len(resp.Errors), tc.wantOK, tc.wantKO)
			}
			var out strings.Builder
			Report(&out, resp)
			for _, want := range tc.wantReport {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestImportRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ url, name, want string }{
		{"kibana:5601", "x.ndjson", "want http(s)://"},
		{"ftp://kibana", "x.ndjson", "scheme must be http or https"},
		{"http://kibana:5601", "x.json", ".ndjson files only"},
	} {
		c := Client{URL: tc.url}
		_, err := c.Import(context.Background(), tc.name, []byte("{}\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Import(%q, %q) = %v, want an error containing %q", tc.url, tc.name, err, tc.want)
		}
	}
}

func TestImportUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := Client{URL: url}
	_, err := c.Import(context.Background(), "x.ndjson", []byte("{}\n"))
	var se *StatusError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("err %v, want a connection error", err)
	}
}

func TestParseImportResponse(t *testing.T) {
	for _, tc := range []struct{ body, wantErr string }{
		{okBody, ""},
		{partialBody, ""},
		{`{"success":true,"successCount":0}`, ""},
		{`[]`, "not a JSON object"},
		{`{"statusCode":200}`, `field "success" missing`},
		{`{"success":"yes"}`, `field "success" cannot hold a JSON string`},
		{`{"success":true,"successCount":-1}`, `"successCount" is negative`},
		{`{"success":true,"successCount":3,"successResults":[{"type":"a","id":"b"}]}`, `"successCount" is 3 but "successResults" lists 1`},
		{`{"success":true,"successCount":0,"errors":[{"type":"a","id":"b","error":{"type":"conflict"}}]}`, `"success" is true but "errors" lists 1`},
		{`{"success":false,"successCount":0,"errors":[{"type":"a","error":{"type":"conflict"}}]}`, `"errors[0]": type or id missing`},
		{`{"success":true,"successCount":1,"successResults":[{"id":"b"}]}`, `"successResults[0]": type or id missing`},
	} {
		_, err := ParseImportResponse([]byte(tc.body))
		if tc.wantErr == "" && err != nil {
			t.Errorf("%s: %v", tc.body, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: err %v, want %q", tc.body, err, tc.wantErr)
		}
	}
}

// FuzzParseImportResponse checks that no response crashes the parser and
// that an accepted response is consistent enough for Report.
func FuzzParseImportResponse(f *testing.F) {
	for _, s := range []string{okBody, partialBody, badRequestBody, `{"success":true}`, `null`, `{"success":false,"errors":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseImportResponse(b)
		if err != nil {
			return
		}
		if r.SuccessCount < 0 || (r.SuccessResults != nil && len(r.SuccessResults) != r.SuccessCount) || (r.Success && len(r.Errors) > 0) {
			t.Fatalf("accepted an inconsistent response %+v", r)
		}
		Report(io.Discard, r)
		for _, e := range r.Errors {
			if e.Describe() == "" {
				t.Fatal("empty description")
			}
		}
	})
}
