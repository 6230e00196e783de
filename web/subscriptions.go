package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/store"
)

// The webhook subscriptions API (issue 8; docs/alerts.md):
//
//	GET    /api/subscriptions          every subscription, secrets redacted
//	PUT    /api/subscriptions/{name}   create or replace an API subscription
//	DELETE /api/subscriptions/{name}
//	GET    /api/briefings              stored briefings, newest first (no documents)
//	GET    /api/briefings/{date}       one briefing with its Markdown and HTML
//
// Changing subscriptions needs the admin role ("Authorization: Bearer
// <alerts.api_token>" or an admin token of http.auth; auth.go): a
// subscription makes Vigie send alert data to a URL of the caller's
// choice, so without an admin token the API is read-only.

func (s *Server) routeSubscriptions(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/briefings", s.listBriefings)
	mux.HandleFunc("GET /api/briefings/{date}", s.getBriefing)
	if s.Subscriptions == nil {
		return
	}
	mux.HandleFunc("GET /api/subscriptions", s.listSubscriptions)
	mux.HandleFunc("PUT /api/subscriptions/{name}", s.putSubscription)
	mux.HandleFunc("DELETE /api/subscriptions/{name}", s.deleteSubscription)
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	subs, err := s.Subscriptions.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]alert.Subscription, 0, len(subs))
	for _, sub := range subs {
		out = append(out, sub.Redacted())
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
}

// authorized checks that the caller is an admin. Access (auth.go)
// already refused anyone else; this is the second lock on the door that
// sends alert data to a URL of the caller's choice.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if IdentityFrom(r.Context()).Role < RoleAdmin {
		writeJSON(w, http.StatusForbidden, apiError{Error: "subscriptions are read-only: changing them needs the admin role (alerts.api_token or an admin token in http.auth.tokens)"})
		return false
	}
	return true
}

func (s *Server) putSubscription(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var sub alert.Subscription
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sub); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "body: " + err.Error()})
		return
	}
	if sub.Name != "" && sub.Name != r.PathValue("name") {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "name in the body differs from the URL", Param: "name"})
		return
	}
	sub.Name, sub.Source = r.PathValue("name"), ""
	saved, err := s.Subscriptions.Put(r.Context(), sub)
	switch {
	case errors.Is(err, alert.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
	case errors.Is(err, alert.ErrReadOnly):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
	case err != nil:
		s.fail(w, r, err)
	default:
		// The only answer that shows the secret: the receiver needs it.
		writeJSON(w, http.StatusOK, saved)
	}
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	err := s.Subscriptions.Delete(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, alert.ErrReadOnly):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
	case errors.Is(err, alert.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
	case err != nil:
		s.fail(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) listBriefings(w http.ResponseWriter, r *http.Request) {
	b := s.briefings()
	if b == nil {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	p := &params{r: r}
	q := store.BriefingQuery{Limit: p.int("limit"), Offset: p.int("offset")}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	list, err := b.ListBriefings(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"briefings": list})
}

func (s *Server) getBriefing(w http.ResponseWriter, r *http.Request) {
	b := s.briefings()
	if b == nil {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	br, err := b.GetBriefing(r.Context(), r.PathValue("date"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.audit(w, r, 1, nil) {
		return
	}
	writeJSON(w, http.StatusOK, br)
}
