// Package pyformat renders the subset of Python's str.format that moffman's
// e-mail templates use: named fields, {{ and }} for literal braces, the !s
// conversion and the string format spec [[fill]align][0][width][.precision][s].
//
// It exists because deployments carry their templates over from the Python
// service unchanged, so they must render byte for byte as Python rendered
// them. Everything Python would accept but that needs Python objects
// (positional fields, attribute and index access, nested fields in a spec,
// !r and !a) is rejected when the template is parsed, so a configuration
// mistake shows up at start and not when the first form goes out.
package pyformat

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxWidth bounds the width and precision of a format spec so that a
// template cannot make Execute allocate without limit. Python's own limit is
// the size of memory.
const MaxWidth = 10000

// Error is a template syntax error. Col is the 1-based column (counted in
// characters, as an editor shows it) where the problem was found.
type Error struct {
	Col int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// Template is a parsed format string, safe for concurrent use.
type Template struct {
	parts []part
}

// part is literal text (field == "") or one replacement field.
type part struct {
	lit   string
	field string
	col   int
	spec  spec
}

// spec is a parsed string format spec.
type spec struct {
	fill      rune
	align     rune // '<', '>' or '^'
	width     int  // -1: none
	precision int  // -1: none
}

// Parse parses a str.format template.
func Parse(tmpl string) (*Template, error) {
	var (
		t   Template
		lit strings.Builder
	)
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	// The syntax is all ASCII, so scanning bytes is safe for UTF-8 and keeps
	// the literal text byte for byte.
	for i := 0; i < len(tmpl); {
		c := tmpl[i]
		switch {
		case (c == '{' || c == '}') && i+1 < len(tmpl) && tmpl[i+1] == c:
			lit.WriteByte(c)
			i += 2
		case c == '}':
			return nil, errorAt(tmpl, i, "single '}' without a matching '{' (write '}}' for a literal brace)")
		case c == '{':
			p, next, err := parseField(tmpl, i)
			if err != nil {
				return nil, err
			}
			flush()
			t.parts = append(t.parts, p)
			i = next
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return &t, nil
}

// errorAt returns an *Error for the byte offset i of s.
func errorAt(s string, i int, format string, args ...any) *Error {
	return &Error{utf8.RuneCountInString(s[:i]) + 1, fmt.Sprintf(format, args...)}
}

// parseField parses the field whose '{' is at s[open] and returns it and the
// offset after its '}'. It finds the field's end the way CPython does.
func parseField(s string, open int) (part, int, error) {
	unclosed := errorAt(s, open, "'{' is never closed by '}' (write '{{' for a literal brace)")
	p := part{col: utf8.RuneCountInString(s[:open]) + 1, spec: spec{fill: ' ', align: '<', width: -1, precision: -1}}
	i := open + 1
	for i < len(s) && s[i] != '}' && s[i] != ':' && s[i] != '!' {
		switch s[i] {
		case '{':
			return p, 0, errorAt(s, i, "unexpected '{' in a field name")
		case '[':
			return p, 0, errorAt(s, i, "index access such as {name[0]} is not supported; use a plain {name}")
		case '.':
			return p, 0, errorAt(s, i, "attribute access such as {name.attr} is not supported; use a plain {name}")
		}
		i++
	}
	if i == len(s) {
		return p, 0, unclosed
	}
	p.field = s[open+1 : i]
	if p.field == "" {
		return p, 0, errorAt(s, open, "empty field {} (positional arguments are not supported; name a variable, e.g. {user_name})")
	}
	if isNumber(p.field) {
		return p, 0, errorAt(s, open, "positional field {%s} is not supported; name a variable, e.g. {user_name}", p.field)
	}
	if s[i] == '!' {
		i++
		if i == len(s) {
			return p, 0, unclosed
		}
		conv, size := utf8.DecodeRuneInString(s[i:])
		switch conv {
		case 's':
		case 'r', 'a':
			return p, 0, errorAt(s, i, "conversion !%c is not supported (only !s)", conv)
		case '}', ':':
			return p, 0, errorAt(s, i, "missing conversion after '!' (only !s is supported)")
		default:
			return p, 0, errorAt(s, i, "unknown conversion !%c (only !s is supported)", conv)
		}
		i += size
		if i == len(s) {
			return p, 0, unclosed
		}
		if s[i] != '}' && s[i] != ':' {
			return p, 0, errorAt(s, i, "expected ':' or '}' after the conversion !s")
		}
	}
	if s[i] == '}' {
		return p, i + 1, nil
	}
	// s[i] == ':': the spec runs to the next '}'.
	start := i + 1
	for i = start; i < len(s) && s[i] != '}'; i++ {
		if s[i] == '{' {
			return p, 0, errorAt(s, i, "nested fields in a format spec are not supported")
		}
	}
	if i == len(s) {
		return p, 0, unclosed
	}
	var err error
	p.spec, err = parseSpec([]rune(s[start:i]), utf8.RuneCountInString(s[:start])+1)
	return p, i + 1, err
}

// parseSpec parses a string format spec that starts at column col, following
// CPython's parse_internal_render_format_spec and the checks of str.__format__.
func parseSpec(s []rune, col int) (spec, error) {
	sp := spec{fill: ' ', align: '<', width: -1, precision: -1}
	fail := func(pos int, format string, args ...any) (spec, error) {
		return sp, &Error{col + pos, fmt.Sprintf(format, args...)}
	}
	isAlign := func(c rune) bool { return c == '<' || c == '>' || c == '^' || c == '=' }
	pos := 0
	fillGiven := false
	switch {
	case len(s) >= 2 && isAlign(s[1]):
		sp.fill, sp.align, fillGiven, pos = s[0], s[1], true, 2
	case len(s) >= 1 && isAlign(s[0]):
		sp.align, pos = s[0], 1
	}
	if sp.align == '=' {
		return fail(pos-1, "'=' alignment is not allowed for text (use '<', '>' or '^')")
	}
	if pos < len(s) {
		switch s[pos] {
		case '+', '-', ' ':
			return fail(pos, "sign %q is not allowed for text", s[pos])
		case 'z':
			return fail(pos, "'z' is not allowed for text")
		case '#':
			return fail(pos, "alternate form '#' is not allowed for text")
		}
	}
	if !fillGiven && pos < len(s) && s[pos] == '0' {
		sp.fill = '0'
		pos++
	}
	var ok bool
	at := pos
	if sp.width, pos, ok = number(s, pos); !ok {
		return fail(at, "width is larger than %d", MaxWidth)
	}
	if pos < len(s) && (s[pos] == ',' || s[pos] == '_') {
		return fail(pos, "grouping %q is not allowed for text", s[pos])
	}
	if pos < len(s) && s[pos] == '.' {
		at = pos
		if sp.precision, pos, ok = number(s, pos+1); !ok {
			return fail(at+1, "precision is larger than %d", MaxWidth)
		}
		if sp.precision < 0 {
			return fail(at+1, "missing precision after '.'")
		}
	}
	switch rest := s[pos:]; {
	case len(rest) == 0 || string(rest) == "s":
		return sp, nil
	case len(rest) == 1:
		return fail(pos, "unknown format code %q for text (only 's')", rest[0])
	default:
		return fail(0, "invalid format spec %q for text (expected [[fill]align][0][width][.precision][s])", string(s))
	}
}

// number reads ASCII digits from s[pos:]. It returns -1 when there are none
// and ok false when the number exceeds MaxWidth.
func number(s []rune, pos int) (n, next int, ok bool) {
	n = -1
	for ; pos < len(s) && s[pos] >= '0' && s[pos] <= '9'; pos++ {
		if n < 0 {
			n = 0
		}
		n = n*10 + int(s[pos]-'0')
		if n > MaxWidth {
			return n, pos, false
		}
	}
	return n, pos, true
}

// isNumber reports whether Python would take the field name as a
// positional index.
func isNumber(s string) bool {
	for _, c := range s {
		if !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// Fields returns the names the template refers to, each once, in order of
// first use, so callers can check them against the variables they provide.
func (t *Template) Fields() []string {
	var names []string
	seen := make(map[string]bool)
	for _, p := range t.parts {
		if p.field != "" && !seen[p.field] {
			seen[p.field] = true
			names = append(names, p.field)
		}
	}
	return names
}

// Execute renders the template. A field without a value is an error naming
// it, as Python's KeyError was.
func (t *Template) Execute(vars map[string]string) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == "" {
			b.WriteString(p.lit)
			continue
		}
		v, ok := vars[p.field]
		if !ok {
			return "", fmt.Errorf("column %d: no value for {%s}", p.col, p.field)
		}
		p.spec.write(&b, v)
	}
	return b.String(), nil
}

// write formats v as Python's format(str, spec) does: truncate to precision,
// then pad to width, both counted in code points.
func (sp spec) write(b *strings.Builder, v string) {
	if sp.precision >= 0 {
		n := 0
		for i := range v {
			if n == sp.precision {
				v = v[:i]
				break
			}
			n++
		}
	}
	pad := sp.width - utf8.RuneCountInString(v)
	if pad <= 0 {
		b.WriteString(v)
		return
	}
	left := 0
	switch sp.align {
	case '>':
		left = pad
	case '^':
		left = pad / 2
	}
	fill := string(sp.fill)
	b.WriteString(strings.Repeat(fill, left))
	b.WriteString(v)
	b.WriteString(strings.Repeat(fill, pad-left))
}
