package config

import (
	"bytes"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/moffman/moffman"
)

// mask stands in for a secret.
const mask = "***"

// Masked returns the effective configuration as YAML in the layout of
// defaults.yaml, for --check-config: every key is shown, secrets (token,
// token_sha256, caldav.password) are replaced by "***". Without tokens it
// loads back into the same configuration. A database URL's password is
// masked too.
func (c *Config) Masked() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for i := range keys {
		k := &keys[i]
		v := shown(k.ref(c))
		if u, ok := v.(*string); ok && u != nil && k.path == "general.database_url" {
			v = redactURL(*u)
		}
		if k.path == "caldav.password" && c.CalDAV.Password != nil {
			v = mask
		}
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			return nil, err
		}
		parts := strings.Split(k.path, ".")
		m := root
		for _, s := range parts[:len(parts)-1] {
			m = child(m, s)
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: parts[len(parts)-1]}, &n)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// redactURL replaces the password of a URL, in its user part or its
// password parameter, by "xxxxx" (as url.URL.Redacted: "*" would be
// escaped in a URL). A URL that cannot be parsed is masked whole.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return mask
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// child returns the mapping under name in m, adding it when missing.
func child(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i+1]
		}
	}
	c := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, c)
	return c
}

type shiftYAML struct {
	Years   int `yaml:"years,omitempty"`
	Months  int `yaml:"months,omitempty"`
	Weeks   int `yaml:"weeks,omitempty"`
	Days    int `yaml:"days,omitempty"`
	Hours   int `yaml:"hours,omitempty"`
	Minutes int `yaml:"minutes,omitempty"`
	Seconds int `yaml:"seconds,omitempty"`
}

type userYAML struct {
	ID             string `yaml:"id"`
	FirstName      string `yaml:"first_name"`
	LastName       string `yaml:"last_name"`
	EmployeeNumber string `yaml:"employee_number"`
}

type officeYAML struct {
	Name     string `yaml:"name"`
	ID       string `yaml:"id"`
	Capacity *int   `yaml:"capacity,omitempty"`
}

type closureYAML struct {
	Office string `yaml:"office"`
	From   string `yaml:"from"`
	To     string `yaml:"to"`
	Reason string `yaml:"reason"`
}

type tokenYAML struct {
	Name        string   `yaml:"name"`
	Token       string   `yaml:"token,omitempty"`
	TokenSHA256 string   `yaml:"token_sha256,omitempty"`
	Scopes      []string `yaml:"scopes,flow"`
}

// shown is the value of a key as written in YAML.
func shown(ref any) any {
	if v, ok := shownNotifications(ref); ok {
		return v
	}
	switch v := ref.(type) {
	case *time.Duration:
		if *v%time.Second == 0 {
			return int64(*v / time.Second)
		}
		return v.Seconds()
	case *moffman.Shift:
		return shiftYAML(*v)
	case *map[string]string:
		if *v == nil {
			return map[string]string{}
		}
		return *v
	case *[]User:
		out := []userYAML{}
		for _, u := range *v {
			out = append(out, userYAML(u))
		}
		return out
	case *[]OfficeEntry:
		out := []officeYAML{}
		for _, o := range *v {
			out = append(out, officeYAML(o))
		}
		return out
	case *[]ClosureEntry:
		out := []closureYAML{}
		for _, c := range *v {
			out = append(out, closureYAML(c))
		}
		return out
	case *[]string:
		return append([]string{}, *v...)
	case *[]Token:
		out := []tokenYAML{}
		for _, t := range *v {
			y := tokenYAML{Name: t.Name, Scopes: t.Scopes}
			if t.Token != "" {
				y.Token = mask
			}
			if t.TokenSHA256 != "" {
				y.TokenSHA256 = mask
			}
			out = append(out, y)
		}
		return out
	case *string:
		return *v
	case **string:
		return *v
	case *int:
		return *v
	case **int:
		return *v
	case *bool:
		return *v
	}
	return nil
}
