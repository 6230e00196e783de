package netguard

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPermits(t *testing.T) {
	allow, err := ParsePrefixes([]string{"127.0.0.1", "10.1.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ip     string
		policy Policy
		want   bool
	}{
		{"93.184.216.34", Policy{}, true},
		{"2606:2800:220:1::1", Policy{}, true},
		{"127.0.0.1", Policy{}, false},
		{"::1", Policy{}, false},
		{"10.0.0.1", Policy{}, false},
		{"172.16.3.4", Policy{}, false},
		{"192.168.1.1", Policy{}, false},
		{"169.254.169.254", Policy{}, false}, // cloud metadata
		{"fe80::1", Policy{}, false},
		{"fd00::1", Policy{}, false},
		{"0.0.0.0", Policy{}, false},
		{"224.0.0.1", Policy{}, false},
		{"::ffff:127.0.0.1", Policy{}, false},
		{"127.0.0.1", Policy{Allow: allow}, true},
		{"::ffff:127.0.0.1", Policy{Allow: allow}, true},
		{"127.0.0.2", Policy{Allow: allow}, false},
		{"10.1.200.3", Policy{Allow: allow}, true},
		{"10.2.0.1", Policy{Allow: allow}, false},
		{"192.168.1.1", Policy{AllowPrivate: true}, true},
	} {
		if got := tc.policy.Permits(net.ParseIP(tc.ip)); got != tc.want {
			t.Errorf("Permits(%s) with %+v = %v, want %v", tc.ip, tc.policy, got, tc.want)
		}
	}
}

func TestParsePrefixesError(t *testing.T) {
	if _, err := ParsePrefixes([]string{"10.0.0.0/8", "nope"}); err == nil || !strings.Contains(err.Error(), `[1] "nope"`) {
		t.Errorf("error = %v, want one naming element [1]", err)
	}
}

// TestClient dials a real loopback server: refused by default, served
// when loopback is allowed; and a redirect to loopback from an allowed
// host is refused when only that host is allowed.
func TestClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()

	_, err := Policy{}.Client(2 * time.Second).Get(srv.URL)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("default policy: error = %v, want ErrRefused", err)
	}
	allow, _ := ParsePrefixes([]string{"127.0.0.0/8"})
	resp, err := Policy{Allow: allow}.Client(2 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("body = %q", b)
	}
}
