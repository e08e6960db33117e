package pyformat

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var testVars = map[string]string{"x": "abc", "u": "Jan Novák", "e": "", "w": "日本語", " x ": "sp"}

// The expected outputs were produced by CPython 3.11's str.format.
func TestExecuteMatchesPython(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{"{x}", "abc"},
		{"{x:5}", "abc  "},
		{"{x:>5}", "  abc"},
		{"{x:<5}", "abc  "},
		{"{x:^5}", " abc "},
		{"{x:^6}", " abc  "},
		{"{x:*^10}", "***abc****"},
		{"{x:*^9}", "***abc***"},
		{"{x:.2}", "ab"},
		{"{x:.0}", ""},
		{"{x:.10}", "abc"},
		{"{x:10.2}", "ab        "},
		{"{x:>10.2s}", "        ab"},
		{"{x:05}", "abc00"},
		{"{x:010}", "abc0000000"},
		{"{x:00}", "abc"},
		{"{x:0<5}", "abc00"},
		{"{x:0>5}", "00abc"},
		{"{x:s}", "abc"},
		{"{x!s}", "abc"},
		{"{x!s:>5}", "  abc"},
		{"{x:<<5}", "abc<<"},
		{"{x:>>5}", ">>abc"},
		{"{x:^^5}", "^abc^"},
		{"{x:é>5}", "ééabc"},
		{"{x:2}", "abc"},
		{"{x:3}", "abc"},
		{"{u:>12}", "   Jan Novák"},
		{"{u:.5}", "Jan N"},
		{"{u:_^13}", "__Jan Novák__"},
		{"{w:>5}", "  日本語"},
		{"{w:.1}", "日"},
		{"{e:*>3}", "***"},
		{"{e:.0}", ""},
		{"{x:}", "abc"},
		{"{x!s:}", "abc"},
		{"a{{b}}c{x}d", "a{b}cabcd"},
		{"{{{x}}}", "{abc}"},
		{"}}{{", "}{"},
		{"", ""},
		{"plain", "plain"},
		{"{x}{x}{u}", "abcabcJan Novák"},
		{"{x:\n>5}", "\n\nabc"},
		{"{x:0^6}", "0abc00"},
		{"{ x }", "sp"},
	}
	for _, tt := range tests {
		tmpl, err := Parse(tt.tmpl)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.tmpl, err)
			continue
		}
		got, err := tmpl.Execute(testVars)
		if err != nil || got != tt.want {
			t.Errorf("Execute(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
		}
	}
}

// Every template here is an error in Python too, or needs Python objects
// (positional arguments, attributes, indexes, repr) and is refused on
// purpose.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		col  int
		msg  string // part of the message
	}{
		{"unbalanced }", 12, "single '}'"},
		{"}", 1, "single '}'"},
		{"a}b", 2, "single '}'"},
		{"{x}}", 4, "single '}'"},
		{"{user_name", 1, "never closed"},
		{"{", 1, "never closed"},
		{"ab{", 3, "never closed"},
		{"{x:", 1, "never closed"},
		{"{x!s", 1, "never closed"},
		{"{x:>5", 1, "never closed"},
		{"{}", 1, "positional"},
		{"{0}", 1, "positional"},
		{"{12}", 1, "positional"},
		{"{:5}", 1, "positional"},
		{"{!s}", 1, "positional"},
		{"{a.b}", 3, "attribute"},
		{"{a[0]}", 3, "index"},
		{"{a{b}", 3, "unexpected '{'"},
		{"{x!r}", 4, "!r is not supported"},
		{"{x!a}", 4, "!a is not supported"},
		{"{x!x}", 4, "unknown conversion !x"},
		{"{x!}", 4, "missing conversion"},
		{"{x!sa}", 5, "expected ':' or '}'"},
		{"{x:{w}}", 4, "nested"},
		{"{x:=5}", 4, "'=' alignment"},
		{"{x:*=5}", 5, "'=' alignment"},
		{"{x:+}", 4, "sign"},
		{"{x:-5}", 4, "sign"},
		{"{x: 5}", 4, "sign"},
		{"{x:z}", 4, "'z'"},
		{"{x:#}", 4, "alternate"},
		{"{x:,}", 4, "grouping"},
		{"{x:5_}", 5, "grouping"},
		{"{x:.}", 5, "missing precision"},
		{"{x:5.s}", 6, "missing precision"},
		{"{x:d}", 4, "unknown format code 'd'"},
		{"{x:5n}", 5, "unknown format code 'n'"},
		{"{x::}", 4, "unknown format code ':'"},
		{"{x:ss}", 4, "invalid format spec"},
		{"{x:99999999999999999999}", 4, "larger than"},
		{"{x:.10001}", 5, "larger than"},
		{"é}", 2, "single '}'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.tmpl)
		var perr *Error
		if !errors.As(err, &perr) {
			t.Errorf("Parse(%q) = %v; want *Error", tt.tmpl, err)
			continue
		}
		if perr.Col != tt.col || !strings.Contains(perr.Msg, tt.msg) {
			t.Errorf("Parse(%q) = %q (column %d); want column %d and %q", tt.tmpl, perr.Msg, perr.Col, tt.col, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "column ") {
			t.Errorf("Parse(%q) error %q does not start with its column", tt.tmpl, err)
		}
	}
}

func TestFields(t *testing.T) {
	tmpl, err := Parse("{b} {{c}} {a:>3} {b!s} {d}")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.Fields(), []string{"b", "a", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %q; want %q", got, want)
	}
	tmpl, _ = Parse("no fields {{}}")
	if got := tmpl.Fields(); len(got) != 0 {
		t.Errorf("Fields() = %q; want none", got)
	}
}

func TestExecuteMissingVariable(t *testing.T) {
	tmpl, err := Parse("Hi {first_name} {last_name}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Execute(map[string]string{"first_name": "Jan"})
	if err == nil || !strings.Contains(err.Error(), "{last_name}") {
		t.Errorf("Execute = %v; want an error naming {last_name}", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "plain", "{x}", "{x:>12}", "{x:*^10.3s}", "{x!s:0<5}", "{{x}}", "}}{{",
		"{user_name", "unbalanced }", "{}", "{0}", "{a.b}", "{a[0]}", "{x!r}", "{x:=5}",
		"{x:{y}}", "{x:é^7}", "{日本:>4}", "{x:.}", "{x:99999}", "\xff", "\xff{x:\xfe>3}",
	} {
		f.Add(s, "Jan Novák")
	}
	f.Fuzz(func(t *testing.T, s, value string) {
		tmpl, err := Parse(s)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || perr.Col < 1 {
				t.Fatalf("Parse(%q) = %v; want *Error with a column", s, err)
			}
			return
		}
		vars := make(map[string]string)
		for _, name := range tmpl.Fields() {
			vars[name] = value
		}
		if _, err := tmpl.Execute(vars); err != nil {
			t.Fatalf("Execute(%q) with every field set: %v", s, err)
		}
		if !strings.ContainsAny(s, "{}") {
			if got, _ := tmpl.Execute(nil); got != s {
				t.Fatalf("Execute(%q) = %q; text without braces must stay as it is", s, got)
			}
		}
	})
}
