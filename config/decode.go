package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/moffman/moffman"
)

// problems collects configuration problems, one line each, so that a
// person fixing the configuration sees all of them at once.
type problems struct {
	lines []string
	seen  map[string]bool
}

func (p *problems) add(path, format string, args ...any) {
	p.line(path + ": " + fmt.Sprintf(format, args...))
}

func (p *problems) line(line string) {
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if !p.seen[line] {
		p.seen[line] = true
		p.lines = append(p.lines, line)
	}
}

// value is one key's value from one layer: a YAML node (environment and
// option values become string nodes) and where it came from.
type value struct {
	node *yaml.Node
	src  string // "config.yaml:12", "MOFFMAN_REST_API__PORT", "--rest-api--port"; "" for the defaults
}

// decoder converts one key's value, reporting problems with its source
// and noting the paths that failed in bad.
type decoder struct {
	p   *problems
	src string
	bad map[string]bool
}

func (d *decoder) fail(path, format string, args ...any) {
	d.bad[path] = true
	if d.src != "" {
		format += " (" + d.src + ")"
	}
	d.p.add(path, format, args...)
}

// decodeAll sets every key of c from values and returns the paths that
// could not be converted (a key, a list item, an item's field), so that
// validation does not pile on them.
func decodeAll(c *Config, values map[string]value, p *problems) map[string]bool {
	bad := map[string]bool{}
	for i := range keys {
		k := &keys[i]
		v, ok := values[k.path]
		if !ok {
			continue
		}
		d := &decoder{p: p, src: v.src, bad: bad}
		d.value(k.path, k.kind, v.node, k.ref(c))
		if k.kind == kindShift {
			s := k.ref(c).(*moffman.Shift)
			for _, u := range shiftUnits {
				if uv, ok := values[k.path+"."+u]; ok {
					ud := &decoder{p: p, src: uv.src, bad: bad}
					if n, ok := ud.int(k.path+"."+u, uv.node); ok {
						*shiftUnit(s, u) = n
					}
				}
			}
		}
	}
	return bad
}

func (d *decoder) value(path string, k kind, n *yaml.Node, ref any) {
	switch k {
	case kindString:
		if s, ok := d.str(path, n); ok {
			*ref.(*string) = s
		}
	case kindNullString:
		if isNull(n) {
			*ref.(**string) = nil
		} else if s, ok := d.str(path, n); ok {
			// "" means null: an empty path, URL or sheet id means nothing.
			// Not so for attachments, which Byroapi receives as written.
			*ref.(**string) = nil
			if s != "" || path == "forms.email.attachments" {
				*ref.(**string) = &s
			}
		}
	case kindInt:
		if i, ok := d.int(path, n); ok {
			*ref.(*int) = i
		}
	case kindNullInt:
		if isNull(n) {
			*ref.(**int) = nil
		} else if i, ok := d.int(path, n); ok {
			*ref.(**int) = &i
		}
	case kindBool:
		if b, ok := d.bool(path, n); ok {
			*ref.(*bool) = b
		}
	case kindSeconds:
		if s, ok := d.seconds(path, n); ok {
			*ref.(*time.Duration) = s
		}
	case kindStringMap:
		if m, ok := d.stringMap(path, n); ok {
			*ref.(*map[string]string) = m
		}
	case kindShift:
		if s, ok := d.shift(path, n); ok {
			*ref.(*moffman.Shift) = s
		}
	case kindUsers:
		*ref.(*[]User) = d.users(path, n)
	case kindOffices:
		*ref.(*[]OfficeEntry) = d.offices(path, n)
	case kindClosures:
		*ref.(*[]ClosureEntry) = d.closures(path, n)
	case kindTokens:
		*ref.(*[]Token) = d.tokens(path, n)
	case kindStringList:
		if l, ok := d.stringList(path, n); ok {
			*ref.(*[]string) = l
		}
	default:
		d.decodeNotifications(path, k, n, ref)
	}
}

// resolve follows aliases; nil for a loop, which the parser should not
// let through anyway.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}

// text is a scalar's text, "" for anything else.
func text(n *yaml.Node) string {
	if n = resolve(n); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isScalar(n *yaml.Node) bool {
	n = resolve(n)
	return n != nil && n.Kind == yaml.ScalarNode && !isNull(n)
}

// describe shows a value in a message: strings quoted, other scalars as
// written.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case isNull(n):
		return "null"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.ShortTag() == "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

func (d *decoder) str(path string, n *yaml.Node) (string, bool) {
	if !isScalar(n) {
		d.fail(path, "expected a string, got %s", describe(n))
		return "", false
	}
	return resolve(n).Value, true
}

func (d *decoder) int(path string, n *yaml.Node) (int, bool) {
	if isScalar(n) {
		if i, err := strconv.Atoi(strings.TrimSpace(resolve(n).Value)); err == nil {
			return i, true
		}
	}
	d.fail(path, "expected an integer, got %s", describe(n))
	return 0, false
}

var bools = map[string]bool{"true": true, "yes": true, "on": true, "1": true, "false": false, "no": false, "off": false, "0": false}

func (d *decoder) bool(path string, n *yaml.Node) (bool, bool) {
	if isScalar(n) {
		if b, ok := bools[strings.ToLower(strings.TrimSpace(resolve(n).Value))]; ok {
			return b, true
		}
	}
	d.fail(path, "expected true or false, got %s", describe(n))
	return false, false
}

// seconds takes a number of seconds as the Python service did, and also a
// Go duration ("1m30s") since that is what Go users will try.
func (d *decoder) seconds(path string, n *yaml.Node) (time.Duration, bool) {
	if isScalar(n) {
		s := strings.TrimSpace(resolve(n).Value)
		if f, err := strconv.ParseFloat(s, 64); err == nil && math.Abs(f) < math.MaxInt64/float64(time.Second) {
			return time.Duration(f * float64(time.Second)), true
		}
		if dur, err := time.ParseDuration(s); err == nil {
			return dur, true
		}
	}
	d.fail(path, "expected a number of seconds, got %s", describe(n))
	return 0, false
}

// structured returns the list or mapping in n. A string is parsed as
// JSON (or YAML flow style): that is how environment variables and
// options give lists and maps, and how ${oc_env:NAME} could in Python.
func (d *decoder) structured(path string, n *yaml.Node, want yaml.Kind, what string) (*yaml.Node, bool) {
	n = resolve(n)
	if isScalar(n) && n.ShortTag() == "!!str" {
		parsed, err := parseYAML([]byte(n.Value))
		if err != nil {
			d.fail(path, "expected %s in JSON, got %s: %v", what, describe(n), err)
			return nil, false
		}
		n = resolve(parsed)
	}
	if isNull(n) {
		return nil, true
	}
	if n.Kind != want {
		d.fail(path, "expected %s, got %s", what, describe(n))
		return nil, false
	}
	return n, true
}

func (d *decoder) stringMap(path string, n *yaml.Node) (map[string]string, bool) {
	n, ok := d.structured(path, n, yaml.MappingNode, "a mapping of e-mail to name")
	if !ok {
		return nil, false
	}
	m := map[string]string{}
	if n == nil {
		return m, true
	}
	good := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := d.str(path, n.Content[i])
		v := ""
		if ok && !isNull(n.Content[i+1]) {
			v, ok = d.str(path+"."+k, n.Content[i+1])
		}
		m[k] = v
		good = good && ok
	}
	return m, good
}

func (d *decoder) stringList(path string, n *yaml.Node) ([]string, bool) {
	n, ok := d.structured(path, n, yaml.SequenceNode, "a list of strings")
	if !ok {
		return nil, false
	}
	l := []string{}
	good := true
	for i := 0; n != nil && i < len(n.Content); i++ {
		s, ok := d.str(fmt.Sprintf("%s[%d]", path, i), n.Content[i])
		l = append(l, s)
		good = good && ok
	}
	return l, good
}

func (d *decoder) shift(path string, n *yaml.Node) (moffman.Shift, bool) {
	var s moffman.Shift
	if isNull(n) {
		d.fail(path, "expected a shift like {weeks: -1}, got null")
		return s, false
	}
	n, ok := d.structured(path, n, yaml.MappingNode, "a shift like {weeks: -1}")
	if !ok || n == nil {
		return s, ok
	}
	good := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		unit := text(n.Content[i])
		p := shiftUnit(&s, unit)
		if p == nil {
			d.fail(path, "unknown unit %q (use %s)", unit, strings.Join(shiftUnits, ", "))
			good = false
			continue
		}
		v, ok := d.int(path+"."+unit, n.Content[i+1])
		*p, good = v, good && ok
	}
	return s, good
}

// field is one key of a list item, in the order written.
type field struct {
	name string
	node *yaml.Node
}

func lookup(fields []field, name string) (*yaml.Node, bool) {
	for i := len(fields) - 1; i >= 0; i-- { // the last one wins, as in a map
		if fields[i].name == name {
			return fields[i].node, true
		}
	}
	return nil, false
}

// items calls item for each mapping in the list at path.
func (d *decoder) items(path string, n *yaml.Node, what string, item func(path string, fields []field)) {
	n, ok := d.structured(path, n, yaml.SequenceNode, "a list of "+what)
	if !ok || n == nil {
		return
	}
	for i, it := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		it = resolve(it)
		if it == nil || it.Kind != yaml.MappingNode {
			d.fail(ip, "expected a mapping, got %s", describe(it))
			item(ip, nil) // keeps the indexes of the others
			continue
		}
		var fields []field
		for j := 0; j+1 < len(it.Content); j += 2 {
			fields = append(fields, field{text(it.Content[j]), it.Content[j+1]})
		}
		item(ip, fields)
	}
}

// fields decodes the string fields of a list item and reports keys that
// are neither those nor in extra.
func (d *decoder) fields(path string, fields []field, names []string, dst []*string, extra ...string) {
	known := append(append([]string{}, names...), extra...)
	for _, f := range fields {
		i := indexOf(names, f.name)
		switch {
		case i >= 0:
			if !isNull(f.node) { // an omitted value is empty
				*dst[i], _ = d.str(path+"."+f.name, f.node)
			}
		case indexOf(extra, f.name) < 0:
			d.fail(path+"."+f.name, "unknown key%s", didYouMean(f.name, known))
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (d *decoder) users(path string, n *yaml.Node) []User {
	var out []User
	d.items(path, n, "users", func(ip string, f []field) {
		var u User
		d.fields(ip, f, []string{"id", "first_name", "last_name", "employee_number"},
			[]*string{&u.ID, &u.FirstName, &u.LastName, &u.EmployeeNumber}, "name")
		// Early Python versions had {id, name}; "First Last" splits back.
		if name, ok := lookup(f, "name"); ok {
			s, _ := d.str(ip+".name", name)
			if u.FirstName != "" || u.LastName != "" {
				d.fail(ip, "give either name or first_name and last_name")
			}
			u.FirstName, u.LastName, _ = strings.Cut(strings.TrimSpace(s), " ")
		}
		out = append(out, u)
	})
	return out
}

func (d *decoder) offices(path string, n *yaml.Node) []OfficeEntry {
	var out []OfficeEntry
	d.items(path, n, "offices", func(ip string, f []field) {
		var o OfficeEntry
		d.fields(ip, f, []string{"name", "id"}, []*string{&o.Name, &o.ID}, "capacity")
		// Empty or absent: unlimited.
		if cn, ok := lookup(f, "capacity"); ok && !isNull(cn) && strings.TrimSpace(text(cn)) != "" {
			if c, ok := d.int(ip+".capacity", cn); ok {
				o.Capacity = &c
			}
		}
		out = append(out, o)
	})
	return out
}

func (d *decoder) closures(path string, n *yaml.Node) []ClosureEntry {
	var out []ClosureEntry
	d.items(path, n, "closures", func(ip string, f []field) {
		var c ClosureEntry
		d.fields(ip, f, []string{"office", "from", "to", "reason"}, []*string{&c.Office, &c.From, &c.To, &c.Reason})
		out = append(out, c)
	})
	return out
}

func (d *decoder) tokens(path string, n *yaml.Node) []Token {
	var out []Token
	d.items(path, n, "tokens", func(ip string, f []field) {
		var t Token
		d.fields(ip, f, []string{"name", "token", "token_sha256"}, []*string{&t.Name, &t.Token, &t.TokenSHA256}, "scopes")
		if sn, ok := lookup(f, "scopes"); ok {
			l, ok := d.structured(ip+".scopes", sn, yaml.SequenceNode, "a list of scopes")
			if ok && l != nil {
				for _, s := range l.Content {
					if v, ok := d.str(ip+".scopes", s); ok {
						t.Scopes = append(t.Scopes, v)
					}
				}
			}
		}
		out = append(out, t)
	})
	return out
}

// parseYAML parses one YAML document (JSON included). The parser is fed
// whatever users write, so a panic in it becomes an error.
func parseYAML(b []byte) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("cannot parse: %v", r)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0], nil
	}
	return nil, nil
}
