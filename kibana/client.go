// Package kibana installs Vigie's Kibana saved objects (data views, saved
// searches, visualisations and dashboards over Vigie's Elasticsearch
// indices) through Kibana's saved-objects import API, and reports what
// Kibana did with each object.
//
// The objects themselves are built in Go (objects.go) rather than kept as
// hand-edited NDJSON: Kibana's format nests JSON inside JSON strings
// (visState, panelsJSON, searchSourceJSON), where a hand edit easily breaks
// a reference or a field name without any error until a dashboard opens
// empty. deploy/kibana/vigie.ndjson is the generated file, kept as a golden
// file that the tests compare and rewrite with -update, so operators can
// also import it by hand from Kibana's Stack Management page.
package kibana

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// Environment variables the command reads credentials from, so they stay
// out of the process list and shell history. They are not configuration
// keys of the pipeline (config ignores unknown VIGIE_* names).
const (
	EnvAPIKey   = "VIGIE_KIBANA_API_KEY"
	EnvUser     = "VIGIE_KIBANA_USER"
	EnvPassword = "VIGIE_KIBANA_PASSWORD"
)

// MaxResponse bounds how much of a Kibana response is read. An import
// response lists every object once; 8 MiB is far above what Vigie's few
// dozen objects produce, and keeps a misdirected URL from exhausting memory.
const MaxResponse = 8 << 20

// Client talks to one Kibana. The zero HTTP uses a client with a one-minute
// timeout: an import of a few dozen objects takes well under a second, and a
// hung proxy must not hang a deployment job forever.
type Client struct {
	// URL is Kibana's base URL, e.g. http://kibana:5601 (with its base path,
	// if Kibana runs under one).
	URL string
	// Space is the Kibana space to import into; empty is the default space.
	Space string
	// APIKey is sent as "Authorization: ApiKey <APIKey>". It is the encoded
	// form Elasticsearch returns ("encoded"), or "id:api_key", which is
	// base64-encoded here.
	APIKey string
	// User and Password are sent as basic authentication when APIKey is
	// empty.
	User, Password string
	HTTP           *http.Client
}

// ImportResponse is Kibana's answer to POST /api/saved_objects/_import, as
// documented for 7.x and 8.x. Success is false as soon as one object failed;
// the others may still have been written.
type ImportResponse struct {
	Success        bool            `json:"success"`
	SuccessCount   int             `json:"successCount"`
	SuccessResults []ImportSuccess `json:"successResults"`
	Errors         []ImportError   `json:"errors"`
	// Warnings are present from 7.13 on.
	Warnings []ImportWarning `json:"warnings"`
}

// ObjectMeta is the title and icon Kibana reports for an object.
type ObjectMeta struct {
	Title string `json:"title"`
	Icon  string `json:"icon"`
}

// ImportSuccess is one object Kibana wrote.
type ImportSuccess struct {
	Type          string     `json:"type"`
	ID            string     `json:"id"`
	DestinationID string     `json:"destinationId,omitempty"`
	Meta          ObjectMeta `json:"meta"`
	Overwrite     bool       `json:"overwrite,omitempty"`
}

// ImportError is one object Kibana did not write, and why.
type ImportError struct {
	Type  string     `json:"type"`
	ID    string     `json:"id"`
	Title string     `json:"title"`
	Meta  ObjectMeta `json:"meta"`
	Error struct {
		// Type is conflict, ambiguous_conflict, missing_references,
		// unsupported_type or unknown.
		Type       string `json:"type"`
		Message    string `json:"message,omitempty"`
		StatusCode int    `json:"statusCode,omitempty"`
		References []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"references,omitempty"`
	} `json:"error"`
}

// ImportWarning is a message Kibana attaches to an import (e.g. "objects
// need manual steps").
type ImportWarning struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Describe says in one line what went wrong with the object.
func (e ImportError) Describe() string {
	title := e.Title
	if title == "" {
		title = e.Meta.Title
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Type, e.ID)
	if title != "" {
		fmt.Fprintf(&b, " (%q)", title)
	}
	fmt.Fprintf(&b, ": %s", e.Error.Type)
	if e.Error.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Error.Message)
	}
	if len(e.Error.References) > 0 {
		var refs []string
		for _, r := range e.Error.References {
			refs = append(refs, r.Type+" "+r.ID)
		}
		fmt.Fprintf(&b, " (missing: %s)", strings.Join(refs, ", "))
	}
	return b.String()
}

// ErrPartial is wrapped by Import's error when Kibana answered but did not
// import every object; the ImportResponse returned with it tells which.
var ErrPartial = errors.New("kibana imported some objects only")

// StatusError is a non-2xx answer from Kibana.
type StatusError struct {
	StatusCode int
	// Message is Kibana's own message ({"statusCode":..,"error":..,
	// "message":..}) when the body had one, or the start of the body.
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("kibana answered HTTP %d: %s", e.StatusCode, e.Message)
}

// ImportPath returns the import API path for a space, with the query that
// makes an import idempotent: overwrite=true replaces objects of the same
// type and ID, so importing Vigie's objects again after an upgrade updates
// them instead of failing with conflicts.
func ImportPath(space string) string {
	p := "/api/saved_objects/_import"
	if space != "" && space != "default" {
		p = "/s/" + url.PathEscape(space) + p
	}
	return p + "?overwrite=true"
}

// Import uploads an NDJSON file of saved objects. name is the file name
// sent in the multipart form; Kibana requires it to end in .ndjson. It
// returns the parsed response; the error wraps ErrPartial when some objects
// failed, or is a *StatusError when Kibana refused the request.
func (c *Client) Import(ctx context.Context, name string, ndjson []byte) (ImportResponse, error) {
	if !strings.HasSuffix(name, ".ndjson") {
		return ImportResponse{}, fmt.Errorf("file %q: Kibana imports .ndjson files only", name)
	}
	base, err := url.Parse(strings.TrimRight(c.URL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return ImportResponse{}, fmt.Errorf("kibana URL %q: want http(s)://host[:port][/basepath]", c.URL)
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return ImportResponse{}, fmt.Errorf("kibana URL %q: scheme must be http or https", c.URL)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", "application/ndjson")
	part, err := mw.CreatePart(h)
	if err != nil {
		return ImportResponse{}, fmt.Errorf("multipart: %w", err)
	}
	if _, err := part.Write(ndjson); err != nil {
		return ImportResponse{}, fmt.Errorf("multipart: %w", err)
	}
	if err := mw.Close(); err != nil {
		return ImportResponse{}, fmt.Errorf("multipart: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+ImportPath(c.Space), &body)
	if err != nil {
		return ImportResponse{}, fmt.Errorf("kibana request: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	// Kibana rejects state-changing requests without kbn-xsrf (any value)
	// as a cross-site request forgery guard.
	req.Header.Set("kbn-xsrf", "vigie")
	switch {
	case c.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+encodeAPIKey(c.APIKey))
	case c.User != "":
		req.SetBasicAuth(c.User, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ImportResponse{}, fmt.Errorf("kibana import: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return ImportResponse{}, fmt.Errorf("kibana import: reading the response: %w", err)
	}
	if len(b) > MaxResponse {
		return ImportResponse{}, fmt.Errorf("kibana import: response larger than %d bytes", MaxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return ImportResponse{}, &StatusError{StatusCode: resp.StatusCode, Message: errorMessage(b)}
	}
	r, err := ParseImportResponse(b)
	if err != nil {
		return ImportResponse{}, err
	}
	if !r.Success || len(r.Errors) > 0 {
		return r, fmt.Errorf("%w: %d written, %d failed", ErrPartial, r.SuccessCount, len(r.Errors))
	}
	return r, nil
}

// encodeAPIKey accepts either Elasticsearch's "encoded" key or "id:key".
func encodeAPIKey(k string) string {
	if strings.Contains(k, ":") {
		return base64.StdEncoding.EncodeToString([]byte(k))
	}
	return k
}

// ParseImportResponse decodes an import response and checks that it is one:
// a JSON object whose counts agree with its lists. It names the field at
// fault, so a proxy's HTML page or another API's JSON is reported as such
// rather than as "0 objects imported".
func ParseImportResponse(b []byte) (ImportResponse, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return ImportResponse{}, fmt.Errorf("kibana import response: not a JSON object (%.80q): %w", b, err)
	}
	if _, ok := raw["success"]; !ok {
		return ImportResponse{}, fmt.Errorf("kibana import response: field \"success\" missing (%.80q)", b)
	}
	var r ImportResponse
	if err := json.Unmarshal(b, &r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return ImportResponse{}, fmt.Errorf("kibana import response: field %q cannot hold a JSON %s", te.Field, te.Value)
		}
		return ImportResponse{}, fmt.Errorf("kibana import response: %w", err)
	}
	if r.SuccessCount < 0 {
		return ImportResponse{}, fmt.Errorf("kibana import response: field \"successCount\" is negative (%d)", r.SuccessCount)
	}
	if r.SuccessResults != nil && len(r.SuccessResults) != r.SuccessCount {
		return ImportResponse{}, fmt.Errorf("kibana import response: field \"successCount\" is %d but \"successResults\" lists %d objects", r.SuccessCount, len(r.SuccessResults))
	}
	if r.Success && len(r.Errors) > 0 {
		return ImportResponse{}, fmt.Errorf("kibana import response: field \"success\" is true but \"errors\" lists %d objects", len(r.Errors))
	}
	for i, e := range r.Errors {
		if e.Type == "" || e.ID == "" {
			return ImportResponse{}, fmt.Errorf("kibana import response: field \"errors[%d]\": type or id missing", i)
		}
	}
	for i, s := range r.SuccessResults {
		if s.Type == "" || s.ID == "" {
			return ImportResponse{}, fmt.Errorf("kibana import response: field \"successResults[%d]\": type or id missing", i)
		}
	}
	return r, nil
}

// errorMessage extracts Kibana's error message from a non-2xx body.
func errorMessage(b []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && (e.Message != "" || e.Error != "") {
		if e.Error != "" && e.Message != "" {
			return e.Error + ": " + e.Message
		}
		return e.Error + e.Message
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// Report writes one line per object: "ok" for those written, "FAILED" with
// the reason for the others, then the warnings and a total.
func Report(w io.Writer, r ImportResponse) {
	for _, s := range r.SuccessResults {
		id := s.ID
		if s.DestinationID != "" && s.DestinationID != s.ID {
			id += " -> " + s.DestinationID
		}
		fmt.Fprintf(w, "ok      %-14s %-40s %s\n", s.Type, id, s.Meta.Title)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "FAILED  %s\n", e.Describe())
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(w, "warning %s: %s\n", wn.Type, wn.Message)
	}
	fmt.Fprintf(w, "%d objects imported, %d failed\n", r.SuccessCount, len(r.Errors))
}
