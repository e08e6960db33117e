package config

import (
	"testing"
)

// FuzzLoad feeds arbitrary file contents, environment and option values:
// Load may refuse them but must never panic, and what it accepts must
// show through Masked and load back.
func FuzzLoad(f *testing.F) {
	f.Add(pythonConfig(f), "9000", "--rest-api--port")
	f.Add(string(Template), `[{"name":"prague","id":"x@group.calendar.google.com"}]`, `{"weeks": -1}`)
	f.Add("general: [\n", "{", "[")
	f.Add("a: &a [*a]\nb: *a\n", "null", "~")
	f.Add("offices:\n  office_list: ${oc_env:FUZZ}\n", `[{"name": 1, "id": [2]}]`, `{"a@b.c": null}`)
	f.Add("rest_api:\n  tokens: [{name: a, token_sha256: ZZ, scopes: x}]\n", "1e400", "-9223372036854775808")
	f.Add("calendar:\n  checking_range: {min: {weeks: 99999999999}, max: {}}\n", "NaN", "1h")
	f.Add("manual_users:\n  user_list: [{id: a@b.c, name: x}, 5, ~]\n", "", "=")
	f.Fuzz(func(t *testing.T, file, env, arg string) {
		opts := LoadOptions{
			Environ: []string{
				"FUZZ=" + env,
				"MOFFMAN_OFFICES__OFFICE_LIST=" + env,
				"MOFFMAN_REST_API__TOKENS=" + env,
				"MOFFMAN_CALENDAR__CHECKING_RANGE__MIN=" + env,
				"MOFFMAN_REST_API__SHUTDOWN_TIMEOUT=" + env,
				"MOFFMAN_" + env + "=" + env,
			},
			Args: []string{
				"--forms--email--to", arg,
				"--manual-users--user-list=" + arg,
				"--calendar--end-date-corrective--days", arg,
				"--general--storage-path=" + arg,
				arg, env,
			},
		}
		c, err := loadBytes("fuzz.yaml", []byte(file), opts)
		if err != nil {
			return
		}
		out, err := c.Masked()
		if err != nil {
			t.Fatalf("Masked: %v", err)
		}
		if _, err := loadBytes("masked.yaml", out, LoadOptions{}); err != nil && len(c.RESTAPI.Tokens) == 0 {
			t.Fatalf("Masked output does not load: %v\n%s", err, out)
		}
	})
}
