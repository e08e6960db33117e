package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// set puts a layer's value for path, dropping the single shift units set
// by lower layers: a whole value replaces them.
func set(values map[string]value, path string, v value) {
	for p := range values {
		if strings.HasPrefix(p, path+".") {
			delete(values, p)
		}
	}
	values[path] = v
}

// readYAML adds the keys of a YAML document to values. env is the
// environment for ${oc_env:NAME}; nil leaves values as written (the
// defaults).
func readYAML(b []byte, file string, env map[string]string, values map[string]value, p *problems) {
	root, err := parseYAML(b)
	if err != nil {
		p.add(file, "%v", err)
		return
	}
	r := &yamlReader{file: file, env: env, values: values, p: p, seen: map[*yaml.Node]bool{}}
	r.walk(root, "")
}

type yamlReader struct {
	file   string
	env    map[string]string
	values map[string]value
	p      *problems
	seen   map[*yaml.Node]bool // nodes already substituted (aliases share them)
}

// walk descends the sections and takes each key's value whole.
func (r *yamlReader) walk(n *yaml.Node, prefix string) {
	n = resolve(n)
	if isNull(n) {
		return // an empty file or section
	}
	if n.Kind != yaml.MappingNode {
		where := prefix
		if where == "" {
			where = r.file
		}
		r.p.add(where, "expected a mapping of keys, got %s", describe(n))
		return
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := text(n.Content[i]), n.Content[i+1]
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if line, dup := lines[name]; dup {
			r.p.add(path, "given twice (%s:%d and %d)", r.file, line, n.Content[i].Line)
		}
		lines[name] = n.Content[i].Line
		switch {
		case keyByPath[path] != nil:
			src := "" // the defaults need no substitution nor source
			if r.env != nil {
				r.substitute(v, path)
				src = fmt.Sprintf("%s:%d", r.file, v.Line)
			}
			set(r.values, path, value{node: v, src: src})
		case sections[path]:
			r.walk(v, path)
		default:
			r.p.add(path, "unknown key%s (%s:%d)", didYouMean(path, children(prefix)), r.file, n.Content[i].Line)
		}
	}
}

// children returns the paths of the keys and sections right under prefix.
func children(prefix string) []string {
	var out []string
	add := func(p string) {
		if i := strings.LastIndex(p, "."); i >= 0 && p[:i] == prefix || i < 0 && prefix == "" {
			out = append(out, p)
		}
	}
	for p := range keyByPath {
		add(p)
	}
	for p := range sections {
		add(p)
	}
	sort.Strings(out)
	return out
}

// ocEnv is onacol's pattern for an explicit environment variable.
var ocEnv = regexp.MustCompile(`\$\{\s*oc_env\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}`)

// substitute replaces ${oc_env:NAME} in every string of n. The Python
// service did this on the file's text before parsing, so a plain scalar
// is typed again afterwards: `port: ${oc_env:PORT}` is an integer.
func (r *yamlReader) substitute(n *yaml.Node, path string) {
	if n == nil || r.seen[n] {
		return
	}
	r.seen[n] = true
	if n.Kind == yaml.AliasNode {
		r.substitute(n.Alias, path)
		return
	}
	for _, c := range n.Content {
		r.substitute(c, path)
	}
	if n.Kind != yaml.ScalarNode || !strings.Contains(n.Value, "oc_env") {
		return
	}
	n.Value = ocEnv.ReplaceAllStringFunc(n.Value, func(ref string) string {
		name := ocEnv.FindStringSubmatch(ref)[1]
		v, ok := r.env[name]
		if !ok {
			r.p.add(path, "environment variable %s is not set (%s, %s:%d)", name, ref, r.file, n.Line)
		}
		return v
	})
	if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		n.Tag = "" // typed again from the new text
	}
}

// environ turns KEY=VALUE lines into a map.
func environ(lines []string) map[string]string {
	env := map[string]string{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok && k != "" {
			env[k] = v
		}
	}
	return env
}

// readEnv adds the MOFFMAN_ variables. Unknown ones are errors: a typo
// would otherwise be silently ignored.
func readEnv(env map[string]string, values map[string]value, p *problems) {
	var names []string
	for name := range env {
		if strings.HasPrefix(name, "MOFFMAN_") {
			names = append(names, name)
		}
	}
	sort.Strings(names) // a whole shift before its single units
	for _, name := range names {
		path, ok := envNames[strings.ToUpper(name)]
		if !ok {
			p.add(name, "unknown key%s", didYouMean(strings.ToUpper(name), sortedKeys(envNames)))
			continue
		}
		set(values, path, value{node: textNode(kindOf(path), env[name]), src: name})
	}
}

// readArgs adds the command-line options, "--rest-api--port 9000" or
// "--rest-api--port=9000"; a later option wins.
func readArgs(args []string, values map[string]value, p *problems) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") || a == "--" {
			p.add(a, "unexpected argument (options look like --rest-api--port 9000)")
			continue
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		if !hasVal {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				p.add("--"+name, "missing value")
				continue
			}
			i++
			val = args[i]
		}
		norm := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		path, ok := optNames[norm]
		if !ok {
			p.add("--"+name, "unknown option%s", didYouMean("--"+norm, prefixed("--", sortedKeys(optNames))))
			continue
		}
		set(values, path, value{node: textNode(kindOf(path), val), src: "--" + name})
	}
}

// textNode makes a YAML node of an environment or option value: always a
// string (lists, maps and shifts are parsed as JSON when decoded), or
// null for "null", "~" or "" where null is allowed.
func textNode(k kind, s string) *yaml.Node {
	if nullable(k) {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "", "null", "~":
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: s}
		}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func prefixed(prefix string, list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = prefix + s
	}
	return out
}

// SplitArgs separates configuration options (those with "--" inside the
// name, like --rest-api--port) from the program's own arguments (like
// --config FILE), so that the program's flag parser never sees the former.
// An option's value is taken along when it is the next argument. Arguments
// after "--" are the program's.
func SplitArgs(args []string) (own, overrides []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(own, args[i:]...), overrides
		}
		name, _, hasVal := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !strings.Contains(name, "--") {
			own = append(own, a)
			continue
		}
		overrides = append(overrides, a)
		if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			i++
			overrides = append(overrides, args[i])
		}
	}
	return own, overrides
}
