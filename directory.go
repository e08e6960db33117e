package moffman

import (
	"sort"
	"strings"
	"sync"
)

// Office is one office: the name API callers use as office_id, and the id
// of the calendar that holds its attendance.
type Office struct {
	Name       string
	CalendarID string
	// Capacity is how many people the office takes on a day; nil:
	// unlimited, 0: nobody.
	Capacity *int `json:",omitempty"`
}

// Person is a manual user: someone who puts office days straight into the
// calendar. Email is the id.
type Person struct {
	Email          string
	FirstName      string
	LastName       string
	EmployeeNumber string
}

// UserName is "First Last".
func (p Person) UserName() string { return UserName(p.FirstName, p.LastName) }

// DirectoryLists are office and manual-user lists from one source.
type DirectoryLists struct {
	Offices     []Office
	ManualUsers []Person
	Closures    []Closure `json:",omitempty"` // from the configuration only
}

// Directory is the merged view of the static lists from the configuration
// and the dynamic ones from the spreadsheet. Safe for concurrent use; a
// reload replaces the dynamic lists as a whole.
type Directory struct {
	static DirectoryLists

	mu       sync.RWMutex
	offices  map[string]Office    // by name
	closures map[string][]Closure // by office name
	users    map[string]Person    // by lower-case e-mail
	calErrs  map[string]error     // by calendar id: why it is not usable
}

// NewDirectory returns a directory holding the static lists.
func NewDirectory(static DirectoryLists) *Directory {
	d := &Directory{static: static, calErrs: make(map[string]error)}
	d.SetDynamic(DirectoryLists{})
	return d
}

// SetDynamic replaces the spreadsheet lists. A spreadsheet row wins over a
// static entry of the same office name or e-mail, so administrators can
// change a calendar without a restart.
func (d *Directory) SetDynamic(dyn DirectoryLists) {
	offices := make(map[string]Office)
	users := make(map[string]Person)
	closures := make(map[string][]Closure)
	for _, l := range []DirectoryLists{d.static, dyn} {
		for _, c := range l.Closures {
			closures[c.Office] = append(closures[c.Office], c)
		}
		for _, o := range l.Offices {
			offices[o.Name] = o
		}
		for _, p := range l.ManualUsers {
			users[strings.ToLower(p.Email)] = p
		}
	}
	d.mu.Lock()
	d.offices, d.users, d.closures = offices, users, closures
	d.mu.Unlock()
}

// Office returns the office of that name.
func (d *Directory) Office(name string) (Office, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o, ok := d.offices[name]
	return o, ok
}

// Offices returns every office, sorted by name.
func (d *Directory) Offices() []Office {
	d.mu.RLock()
	out := make([]Office, 0, len(d.offices))
	for _, o := range d.offices {
		out = append(out, o)
	}
	d.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ManualUser returns the manual user with that e-mail (case-insensitive).
func (d *Directory) ManualUser(email string) (Person, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	p, ok := d.users[strings.ToLower(email)]
	return p, ok
}

// ManualUserEmails returns the e-mails of every manual user, lower-case and
// sorted.
func (d *Directory) ManualUserEmails() []string {
	d.mu.RLock()
	out := make([]string, 0, len(d.users))
	for email := range d.users {
		out = append(out, email)
	}
	d.mu.RUnlock()
	sort.Strings(out)
	return out
}

// ManualUserCount is the number of known manual users.
func (d *Directory) ManualUserCount() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.users)
}

// SetCalendarError records why a calendar cannot be used (nil: it can).
func (d *Directory) SetCalendarError(calendarID string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		delete(d.calErrs, calendarID)
	} else {
		d.calErrs[calendarID] = err
	}
}

// CalendarError tells why a calendar cannot be used, nil when it can.
func (d *Directory) CalendarError(calendarID string) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.calErrs[calendarID]
}
