// Package pgtest gives tests a fresh PostgreSQL database of their own.
//
// The server is the one TEST_DATABASE_URL names, else
// postgres://postgres@127.0.0.1:5432/test (the project machines' local
// server: trust auth, user postgres). Each call creates a database
// moffman_test_<random> on it and drops it when the test ends, so test runs
// and parallel tests never share state. Without a server the test is
// skipped with a note, except when CI=true, where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultURL is the server tried when TEST_DATABASE_URL is not set.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test"

// ServerURL returns the URL of the test server's own database, skipping
// (or, in CI, failing) the test when no server answers.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		u = defaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at TEST_DATABASE_URL (or %s) does not answer, and CI=true: %v", defaultURL, err)
		}
		t.Skipf("no PostgreSQL for this test (set TEST_DATABASE_URL, or run one at %s; .ci/postgres.sh starts one): %v", defaultURL, err)
	}
	conn.Close(ctx)
	return u
}

// NewDatabase creates a fresh, empty database on the test server and
// returns its URL; it is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	var b [6]byte
	rand.Read(b[:])
	name := "moffman_test_" + hex.EncodeToString(b[:])
	admin(t, server, `CREATE DATABASE `+name)
	t.Cleanup(func() { admin(t, server, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })

	u, err := url.Parse(server)
	if err != nil || u.Scheme == "" {
		t.Fatalf("TEST_DATABASE_URL must be a postgres:// URL, got %q", server)
	}
	u.Path = "/" + name
	return u.String()
}

// admin runs one statement on the server's own database.
func admin(t testing.TB, server, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to %s: %v", server, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
