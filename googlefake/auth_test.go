package googlefake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"
)

func TestKeyJSON(t *testing.T) {
	t.Parallel()
	s := start(t)
	var kf map[string]string
	if err := json.Unmarshal(s.KeyJSON(), &kf); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"type":         "service_account",
		"client_email": "moffman@fake-project.iam.gserviceaccount.com",
		"token_uri":    s.URL() + "/token",
	}
	for k, v := range want {
		if kf[k] != v {
			t.Errorf("%s = %q, want %q", k, kf[k], v)
		}
	}
	if _, ok := kf["universe_domain"]; ok {
		t.Error("universe_domain present: the client would skip the token endpoint")
	}
	if !strings.HasPrefix(kf["private_key"], "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("private_key is not PEM PKCS#8: %.40q", kf["private_key"])
	}
}

func TestTokenFlowThroughClient(t *testing.T) {
	t.Parallel()
	s := start(t)
	svc := calendarClient(t, s)
	for range 2 {
		if _, err := svc.Colors.Get().Do(); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Calls(MethodToken); got != 1 {
		t.Errorf("token calls = %d, want 1 (the client caches the token)", got)
	}
	if got := s.Calls(MethodColorsGet); got != 2 {
		t.Errorf("colors calls = %d, want 2", got)
	}
}

func TestBadSignatureRejected(t *testing.T) {
	t.Parallel()
	s := start(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	var kf map[string]string
	json.Unmarshal(s.KeyJSON(), &kf)
	kf["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	forged, _ := json.Marshal(kf)

	_, err = calendarClientWithKey(t, s, forged).Colors.Get().Do()
	if err == nil || !strings.Contains(err.Error(), "Invalid JWT Signature") {
		t.Fatalf("err = %v, want invalid_grant Invalid JWT Signature", err)
	}
	if s.Calls(MethodToken) != 1 || s.Calls(MethodColorsGet) != 0 {
		t.Errorf("calls token=%d colors=%d, want 1 and 0", s.Calls(MethodToken), s.Calls(MethodColorsGet))
	}
}

func TestTokenClaimsChecked(t *testing.T) {
	t.Parallel()
	s := start(t)
	now := time.Now().Unix()
	tests := []struct {
		name   string
		change map[string]any
		grant  string
		want   string
	}{
		{"wrong issuer", map[string]any{"iss": "someone@else.iam.gserviceaccount.com"}, jwtBearer, "invalid_grant"},
		{"wrong audience", map[string]any{"aud": "https://oauth2.googleapis.com/token"}, jwtBearer, "invalid_grant"},
		{"expired", map[string]any{"iat": now - 7200, "exp": now - 3600}, jwtBearer, "invalid_grant"},
		{"longer than an hour", map[string]any{"exp": now + 7200}, jwtBearer, "invalid_grant"},
		{"issued in the future", map[string]any{"iat": now + 600, "exp": now + 1200}, jwtBearer, "invalid_grant"},
		{"no scope", map[string]any{"scope": ""}, jwtBearer, "invalid_scope"},
		{"wrong grant type", nil, "client_credentials", "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := goodClaims(s, calendar.CalendarScope)
			for k, v := range tt.change {
				claims[k] = v
			}
			code, body := postToken(t, s, tt.grant, signJWT(t, s.KeyJSON(), claims))
			if code != http.StatusBadRequest || body["error"] != tt.want || body["error_description"] == "" {
				t.Errorf("got %d %v, want 400 %s", code, body, tt.want)
			}
		})
	}
	t.Run("garbage assertion", func(t *testing.T) {
		t.Parallel()
		code, body := postToken(t, s, jwtBearer, "not.a.jwt")
		if code != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("got %d %v", code, body)
		}
	})
	t.Run("good", func(t *testing.T) {
		t.Parallel()
		code, body := postToken(t, s, jwtBearer, signJWT(t, s.KeyJSON(), goodClaims(s, calendar.CalendarScope)))
		if code != http.StatusOK || body["token_type"] != "Bearer" || body["expires_in"] != 3599.0 || body["access_token"] == "" {
			t.Errorf("got %d %v", code, body)
		}
	})
}

func TestBearerRequired(t *testing.T) {
	t.Parallel()
	s := start(t)
	resp, err := rawGet(t, s, "/calendar/v3/colors", "")
	wantAPIError(t, err, http.StatusUnauthorized, "required")
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("no WWW-Authenticate header")
	}
	_, err = rawGet(t, s, "/calendar/v3/colors", "ya29.made-up")
	wantAPIError(t, err, http.StatusUnauthorized, "authError")
	if _, err := rawGet(t, s, "/calendar/v3/colors", bearer(t, s, calendar.CalendarScope)); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeTokens(t *testing.T) {
	t.Parallel()
	s := start(t)
	svc := calendarClient(t, s)
	if _, err := svc.Colors.Get().Do(); err != nil {
		t.Fatal(err)
	}
	s.RevokeTokens()
	_, err := svc.Colors.Get().Do()
	wantAPIError(t, err, http.StatusUnauthorized, "authError")
}

func TestScopesChecked(t *testing.T) {
	t.Parallel()
	s, _, calID := startWithCalendar(t)
	readOnly := calendarClient(t, s, option.WithScopes(calendar.CalendarReadonlyScope))
	if _, err := readOnly.Events.List(calID).Do(); err != nil {
		t.Fatalf("list with calendar.readonly: %v", err)
	}
	_, err := readOnly.Events.Insert(calID, allDay("", "x", "2024-01-01", "2024-01-02")).Do()
	wantAPIError(t, err, http.StatusForbidden, "insufficientPermissions")

	eventsOnly := calendarClient(t, s, option.WithScopes(calendar.CalendarEventsScope))
	mustInsert(t, eventsOnly, calID, allDay("", "x", "2024-01-01", "2024-01-02"))
	_, err = eventsOnly.CalendarList.Insert(&calendar.CalendarListEntry{Id: calID}).Do()
	wantAPIError(t, err, http.StatusForbidden, "insufficientPermissions")

	sheetsOnly := calendarClient(t, s, option.WithScopes(sheets.SpreadsheetsReadonlyScope))
	_, err = sheetsOnly.Events.List(calID).Do()
	wantAPIError(t, err, http.StatusForbidden, "insufficientPermissions")
}

func TestListenRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(t.Context(), "0.0.0.0:0"); err == nil {
		t.Fatal("Listen on 0.0.0.0 succeeded")
	}
	defer func() {
		if recover() == nil {
			t.Error("KeyJSON without a URL did not panic")
		}
	}()
	s.KeyJSON()
}

func TestHandlerWithHTTPTest(t *testing.T) {
	t.Parallel()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	s.SetURL(ts.URL)
	if _, err := calendarClient(t, s).Colors.Get().Do(); err != nil {
		t.Fatal(err)
	}
}
