package eventstore

import (
	"encoding/json"
	"maps"

	"github.com/moffman/moffman"
)

// MarshalPrivate returns private properties as a JSON object, "{}" for
// none.
func MarshalPrivate(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", moffman.WrapError(moffman.Internal, err, "store: private properties")
	}
	return string(b), nil
}

// PatchPrivate returns the private properties a patch merges as a JSON
// merge patch (RFC 7396: the dropped keys null), nil when it merges none.
func PatchPrivate(m map[string]string, drop []string) (*string, error) {
	if m == nil && len(drop) == 0 {
		return nil, nil
	}
	if len(drop) == 0 {
		s, err := MarshalPrivate(m)
		if err != nil {
			return nil, err
		}
		return &s, nil
	}
	merge := make(map[string]*string, len(m)+len(drop))
	for k, v := range m {
		merge[k] = &v
	}
	for _, k := range drop {
		merge[k] = nil
	}
	b, err := json.Marshal(merge)
	if err != nil {
		return nil, moffman.WrapError(moffman.Internal, err, "store: private properties")
	}
	s := string(b)
	return &s, nil
}

// UnmarshalPrivate reads what MarshalPrivate wrote; nil for "{}", as
// Google leaves out an empty map.
func UnmarshalPrivate(b []byte) (map[string]string, error) {
	if string(b) == "{}" {
		return nil, nil
	}
	var m map[string]string
	err := json.Unmarshal(b, &m)
	return m, err
}

// ClonePrivate copies private properties so that the caller's map stays
// its own; nil for none.
func ClonePrivate(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
