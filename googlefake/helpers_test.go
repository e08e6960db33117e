package googlefake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"
)

// start serves a fresh fake on a loopback port until the test ends.
func start(t *testing.T) *Server {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return s
}

// startWithCalendar also adds a shared calendar and returns its id.
func startWithCalendar(t *testing.T) (*Server, *calendar.Service, string) {
	t.Helper()
	s := start(t)
	const id = "prague@group.calendar.google.com"
	s.AddCalendar(id, true)
	return s, calendarClient(t, s), id
}

// calendarClient is the official client, configured as the adapter will be.
func calendarClient(t *testing.T, s *Server, opts ...option.ClientOption) *calendar.Service {
	t.Helper()
	return calendarClientWithKey(t, s, s.KeyJSON(), opts...)
}

func calendarClientWithKey(t *testing.T, s *Server, key []byte, opts ...option.ClientOption) *calendar.Service {
	t.Helper()
	svc, err := calendar.NewService(t.Context(), append([]option.ClientOption{
		option.WithEndpoint(s.CalendarEndpoint()),
		option.WithAuthCredentialsJSON(option.ServiceAccount, key),
		option.WithScopes(calendar.CalendarScope),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func sheetsClient(t *testing.T, s *Server) *sheets.Service {
	t.Helper()
	svc, err := sheets.NewService(t.Context(),
		option.WithEndpoint(s.SheetsEndpoint()),
		option.WithAuthCredentialsJSON(option.ServiceAccount, s.KeyJSON()),
		option.WithScopes(sheets.SpreadsheetsReadonlyScope),
	)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// wantAPIError checks that err is Google's error with code and reason.
func wantAPIError(t *testing.T, err error, code int, reason string) *googleapi.Error {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("got error %v, want googleapi.Error %d %s", err, code, reason)
	}
	if ge.Code != code || len(ge.Errors) == 0 || ge.Errors[0].Reason != reason {
		t.Fatalf("got %d %+v, want %d %s", ge.Code, ge.Errors, code, reason)
	}
	return ge
}

func allDay(id, summary, start, end string) *calendar.Event {
	return &calendar.Event{
		Id:      id,
		Summary: summary,
		Start:   &calendar.EventDateTime{Date: start},
		End:     &calendar.EventDateTime{Date: end},
	}
}

func mustInsert(t *testing.T, svc *calendar.Service, calID string, ev *calendar.Event) *calendar.Event {
	t.Helper()
	got, err := svc.Events.Insert(calID, ev).Do()
	if err != nil {
		t.Fatalf("insert %s: %v", ev.Id, err)
	}
	return got
}

// signJWT signs claims with the private key of a service-account key file.
func signJWT(t *testing.T, keyJSON []byte, claims map[string]any) string {
	t.Helper()
	var kf struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(keyJSON, &kf); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(kf.PrivateKey))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func goodClaims(s *Server, scope string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"iss": s.ServiceAccountEmail(), "aud": s.TokenURL(), "scope": scope, "iat": now, "exp": now + 3600}
}

// postToken exchanges an assertion; it returns the status and decoded body.
func postToken(t *testing.T, s *Server, grantType, assertion string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.TokenURL(), url.Values{"grant_type": {grantType}, "assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// bearer gets an access token for scope the way the client does.
func bearer(t *testing.T, s *Server, scope string) string {
	t.Helper()
	code, body := postToken(t, s, jwtBearer, signJWT(t, s.KeyJSON(), goodClaims(s, scope)))
	if code != http.StatusOK {
		t.Fatalf("token: %d %v", code, body)
	}
	return body["access_token"].(string)
}

// rawGet sends GET path with an optional bearer token and parses Google's
// error, if any.
func rawGet(t *testing.T, s *Server, path, token string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, googleapi.CheckResponse(resp)
}

func ids(evs []*calendar.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Id)
	}
	return strings.Join(out, ",")
}
