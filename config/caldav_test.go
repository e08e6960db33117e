package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCalDAV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "caldav-password")
	if err := os.WriteFile(pwFile, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	c := mustLoad(t, "caldav:\n  url: https://cloud.acme.com/remote.php/dav/calendars/moffman/\n  username: moffman\n  password_file: "+pwFile+"\n", nil)
	if c.CalDAV.URL == nil || *c.CalDAV.URL != "https://cloud.acme.com/remote.php/dav/calendars/moffman/" ||
		c.CalDAV.Username != "moffman" || c.CalDAV.Secret != "from-the-file" {
		t.Errorf("caldav = %+v", c.CalDAV)
	}
	c = mustLoad(t, "", []string{"MOFFMAN_CALDAV__URL=http://127.0.0.1:5232/moffman/", "MOFFMAN_CALDAV__PASSWORD=pw-from-env"})
	if c.CalDAV.Secret != "pw-from-env" {
		t.Errorf("password from the environment: %+v", c.CalDAV)
	}
	out, err := c.Masked()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "pw-from-env") || !strings.Contains(string(out), "password: '***'") {
		t.Errorf("caldav.password not masked:\n%s", out)
	}

	for _, tc := range []struct{ name, file, want string }{
		{"with google", "google_api:\n  service_account_key_path: key.json\ncaldav:\n  url: https://dav.acme.com/\n",
			"caldav: caldav.url and google_api.service_account_key_path are mutually exclusive"},
		{"both passwords", "caldav:\n  url: https://dav.acme.com/\n  password: a\n  password_file: " + pwFile + "\n",
			"caldav: both password and password_file are set; give one"},
		{"missing file", "caldav:\n  url: https://dav.acme.com/\n  password_file: " + filepath.Join(dir, "nope") + "\n",
			"caldav.password_file: cannot read the password"},
		{"empty file", "caldav:\n  url: https://dav.acme.com/\n  password_file: " + empty + "\n",
			"caldav.password_file: " + empty + " is empty"},
		{"relative url", "caldav:\n  url: dav.acme.com/cal\n", `caldav.url: expected an absolute http(s) URL, got "dav.acme.com/cal"`},
		{"no url", "caldav:\n  username: moffman\n", "caldav.url: is not set, but other caldav keys are"},
		{"unknown key", "caldav:\n  pasword: x\n", "caldav.pasword: unknown key; did you mean caldav.password?"},
	} {
		_, err := load(t, tc.file, nil)
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, err, tc.want) })
	}
}
