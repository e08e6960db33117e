package config

import (
	"strings"
	"testing"
)

func TestDatabaseURL(t *testing.T) {
	t.Parallel()
	if c := mustLoad(t, "", nil); c.General.DatabaseURL != nil {
		t.Errorf("default database_url = %q, want null", *c.General.DatabaseURL)
	}
	c := mustLoad(t, "general:\n  database_url: postgres://moffman:${oc_env:PGPW}@db.example.com:5433/moffman?sslmode=require\n",
		[]string{"PGPW=hunter2"})
	if got := *c.General.DatabaseURL; got != "postgres://moffman:hunter2@db.example.com:5433/moffman?sslmode=require" {
		t.Errorf("database_url = %q", got)
	}
	c = mustLoad(t, "", []string{"MOFFMAN_GENERAL__DATABASE_URL=postgresql:///moffman?host=/run/postgresql"})
	if got := *c.General.DatabaseURL; got != "postgresql:///moffman?host=/run/postgresql" {
		t.Errorf("database_url from the environment = %q", got)
	}
}

func TestDatabaseURLInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ value, want string }{
		{"mysql://u:hunter2@db/moffman", `general.database_url: expected a postgres:// or postgresql:// URL, e.g. postgres://moffman@db.example.com/moffman, got "mysql://u:xxxxx@db/moffman"`},
		{"db.example.com/moffman", `general.database_url: expected a postgres:// or postgresql:// URL`},
		{"postgres:///moffman", `general.database_url: the URL "postgres:///moffman" names no server: add a host`},
		{"postgres://u:hunter2@db:port/x", `general.database_url: expected a postgres:// or postgresql:// URL, e.g. postgres://moffman@db.example.com/moffman; the value cannot be parsed as a URL`},
	} {
		_, err := load(t, "", []string{"MOFFMAN_GENERAL__DATABASE_URL=" + tc.value})
		wantProblems(t, err, tc.want)
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the message shows the password: %v", tc.value, err)
		}
	}
}

func TestMaskedDatabaseURL(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]string{
		"postgres://moffman:hunter2@db/moffman":          "database_url: postgres://moffman:xxxxx@db/moffman\n",
		"postgres://moffman@db/moffman?password=hunter2": "database_url: postgres://moffman@db/moffman?password=xxxxx\n",
	} {
		c := mustLoad(t, "", []string{"MOFFMAN_GENERAL__DATABASE_URL=" + u})
		out, err := c.Masked()
		if err != nil {
			t.Fatal(err)
		}
		if s := string(out); strings.Contains(s, "hunter2") || !strings.Contains(s, want) {
			t.Errorf("masked output for %q should hold %q:\n%s", u, want, s)
		}
	}
}
