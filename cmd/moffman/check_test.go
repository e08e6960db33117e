package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// serviceAccountKey writes a service-account key file whose token
// endpoint counts the calls it gets.
func serviceAccountKey(t *testing.T, dir string, calls *atomic.Int64) string {
	t.Helper()
	tokenURI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	t.Cleanup(tokenURI.Close)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "moffman@project.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "private_key_id": "k1",
		"token_uri": tokenURI.URL,
	})
	path := filepath.Join(dir, "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkConfig(args ...string) error {
	var out bytes.Buffer
	return run(context.Background(), append([]string{"--check-config", "--general--storage-path", "null"}, args...), nil, &out, &out)
}

// Each of these passed --check-config and then failed at start.
func TestCheckConfigMakesTheChecksOfStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var calls atomic.Int64
	key := serviceAccountKey(t, dir, &calls)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notJSON := write("notjson.json", "not json")
	userKey := write("user.json", `{"type": "authorized_user", "client_id": "x"}`)
	badPEM := write("badpem.json", `{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "private_key": "nope"}`)
	certFile, _, _ := selfSigned(t, t.TempDir())
	_, otherKey, _ := selfSigned(t, t.TempDir())

	if err := checkConfig("--google-api--service-account-key-path", key); err != nil {
		t.Fatalf("a good key: %v", err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"key file missing", []string{"--google-api--service-account-key-path", filepath.Join(dir, "missing.json")}, "google_api.service_account_key_path: cannot read the key file"},
		{"key file not JSON", []string{"--google-api--service-account-key-path", notJSON}, "is not valid JSON"},
		{"not a service-account key", []string{"--google-api--service-account-key-path", userKey}, "is not a service-account key"},
		{"private key unusable", []string{"--google-api--service-account-key-path", badPEM}, "private_key of the service-account key"},
		{"forms.url relative", []string{"--forms--template", "t", "--forms--url", "byroapi.local/api"}, "forms.url: expected the absolute http(s) URL"},
		{"rest_api.addr with a port", []string{"--rest-api--addr", "localhost:80"}, "rest_api.addr: expected an IP address"},
		{"storage in a missing directory", []string{"--general--storage-path", filepath.Join(dir, "no", "store.db")}, "the directory " + filepath.Join(dir, "no") + " does not exist"},
		{"database_url parameters", []string{"--general--database-url", "postgres://db.example.com/x?sslmode=bogus"}, "general.database_url: not a valid PostgreSQL connection URL"},
		{"tls not a pair", []string{"--rest-api--tls--cert-file", certFile, "--rest-api--tls--key-file", otherKey}, "rest_api.tls: "},
	} {
		err := checkConfig(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: --check-config gave %v, want %q", c.name, err, c.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("--check-config called the token endpoint %d times", n)
	}
}

func TestCheckConfigListsEveryProblem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	err := checkConfig("--google-api--service-account-key-path", filepath.Join(dir, "missing.json"),
		"--general--storage-path", filepath.Join(dir, "no", "store.db"))
	if err == nil {
		t.Fatal("--check-config passed")
	}
	for _, want := range []string{"google_api.service_account_key_path", "general.storage_path"} {
		if !strings.Contains(err.Error(), "\n"+want) {
			t.Errorf("no line starts with %s in:\n%v", want, err)
		}
	}
}
