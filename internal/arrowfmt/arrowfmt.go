// Package arrowfmt formats dates with the tokens of Python's Arrow library
// (English locale), which moffman's configuration has always used for
// forms.date_format: "DD.MM.YYYY", "D. MMMM YYYY", "dddd [the] Do" and so on.
//
// Tokens are recognised as Arrow's formatter regex does: the alternatives
// are tried in its order, each taking the longest run of its letter that it
// allows. Unlike Arrow, letters that form no token are an error instead of
// literal text, so a layout meant for another library ("yyyy-MM-dd",
// "%d.%m.%Y") is caught at start instead of printing odd dates on forms.
// Literal words go in [brackets]; characters other than ASCII letters are
// always literal.
package arrowfmt

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// tokenList is shown in errors.
const tokenList = "YYYY, YY, MMMM, MMM, MM, M, DDDD, DDD, DD, D, Do, dddd, ddd, d, " +
	"HH, H, hh, h, mm, m, ss, s, S…SSSSSS, A, a, ZZZ, ZZ, Z, W, X, x"

// Layout is a parsed Arrow format string, safe for concurrent use.
type Layout struct {
	items []item
}

// item is literal text (tok == "") or one token.
type item struct {
	tok, lit string
}

// maxRun is how many repeats of a letter Arrow's regex takes as one token.
var maxRun = map[byte]int{
	'Y': 4, 'M': 4, 'D': 4, 'd': 4, 'H': 2, 'h': 2, 'm': 2, 's': 2, 'S': 6, 'Z': 3,
	'a': 1, 'A': 1, 'X': 1, 'x': 1, 'W': 1,
}

// Parse parses an Arrow format string.
func Parse(layout string) (*Layout, error) {
	var l Layout
	lit := 0 // start of pending literal text
	flush := func(end int) {
		if end > lit {
			l.items = append(l.items, item{lit: layout[lit:end]})
		}
	}
	for i := 0; i < len(layout); {
		c := layout[i]
		switch {
		case c == '[':
			end := strings.IndexByte(layout[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("column %d: '[' is never closed by ']'", column(layout, i))
			}
			flush(i)
			if end > 0 {
				l.items = append(l.items, item{lit: layout[i+1 : i+1+end]})
			}
			i += end + 2
			lit = i
		case isLetter(c):
			tok := token(layout[i:])
			if tok == "" || tok == "YYY" || tok == "dd" {
				return nil, unknown(layout, i, tok)
			}
			flush(i)
			l.items = append(l.items, item{tok: tok})
			i += len(tok)
			lit = i
		default:
			i++
		}
	}
	flush(len(layout))
	return &l, nil
}

// token returns the token at the start of s, "" if none.
func token(s string) string {
	c := s[0]
	if c == 'D' && len(s) > 1 && s[1] == 'o' {
		return "Do"
	}
	n := 0
	for n < len(s) && n < maxRun[c] && s[n] == c {
		n++
	}
	if c == 'Y' && n < 2 {
		return ""
	}
	return s[:n]
}

// unknown describes the letters at layout[i] that form no usable token.
func unknown(layout string, i int, tok string) error {
	if tok == "YYY" || tok == "dd" {
		return fmt.Errorf("column %d: date token %q is not supported: Arrow renders it as nothing (tokens: %s; put literal text in [brackets])",
			column(layout, i), tok, tokenList)
	}
	start, end := i, i+1
	for start > 0 && layout[start-1] == layout[i] {
		start--
	}
	for end < len(layout) && layout[end] == layout[i] {
		end++
	}
	return fmt.Errorf("column %d: unknown date token %q (Arrow tokens: %s; put literal text in [brackets])",
		column(layout, start), layout[start:end], tokenList)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// column is the 1-based column, in characters, of the byte offset i.
func column(s string, i int) int { return utf8.RuneCountInString(s[:i]) + 1 }

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = [...]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

// Format renders t, in t's own location, as Arrow would render a datetime
// with the same wall clock and offset.
func (l *Layout) Format(t time.Time) string {
	var b strings.Builder
	for _, it := range l.items {
		if it.tok == "" {
			b.WriteString(it.lit)
		} else {
			b.WriteString(formatToken(t, it.tok))
		}
	}
	return b.String()
}

func formatToken(t time.Time, tok string) string {
	micro := t.Nanosecond() / 1000
	switch tok {
	case "YYYY":
		return fmt.Sprintf("%04d", t.Year())
	case "YY":
		return fmt.Sprintf("%04d", t.Year())[2:]
	case "MMMM":
		return monthNames[t.Month()-1]
	case "MMM":
		return monthNames[t.Month()-1][:3]
	case "MM":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "M":
		return strconv.Itoa(int(t.Month()))
	case "DDDD":
		return fmt.Sprintf("%03d", t.YearDay())
	case "DDD":
		return strconv.Itoa(t.YearDay())
	case "DD":
		return fmt.Sprintf("%02d", t.Day())
	case "D":
		return strconv.Itoa(t.Day())
	case "Do":
		return ordinal(t.Day())
	case "dddd":
		return dayNames[isoWeekday(t)-1]
	case "ddd":
		return dayNames[isoWeekday(t)-1][:3]
	case "d":
		return strconv.Itoa(isoWeekday(t))
	case "HH":
		return fmt.Sprintf("%02d", t.Hour())
	case "H":
		return strconv.Itoa(t.Hour())
	case "hh":
		return fmt.Sprintf("%02d", hour12(t))
	case "h":
		return strconv.Itoa(hour12(t))
	case "mm":
		return fmt.Sprintf("%02d", t.Minute())
	case "m":
		return strconv.Itoa(t.Minute())
	case "ss":
		return fmt.Sprintf("%02d", t.Second())
	case "s":
		return strconv.Itoa(t.Second())
	case "S":
		return strconv.Itoa(micro / 100000)
	case "SS", "SSS", "SSSS", "SSSSS", "SSSSSS":
		div := [...]int{10000, 1000, 100, 10, 1}[len(tok)-2]
		return fmt.Sprintf("%0*d", len(tok), micro/div)
	case "X":
		return pyFloatRepr(timestamp(t))
	case "x":
		return strconv.FormatFloat(timestamp(t)*1e6, 'f', 0, 64)
	case "ZZZ":
		name, _ := t.Zone()
		return name
	case "ZZ":
		return zoneOffset(t, ":")
	case "Z":
		return zoneOffset(t, "")
	case "a":
		return meridian(t)
	case "A":
		return strings.ToUpper(meridian(t))
	case "W":
		year, week := t.ISOWeek()
		return fmt.Sprintf("%d-W%02d-%d", year, week, isoWeekday(t))
	}
	return "" // not reached: Parse keeps only the tokens above
}

// zoneOffset is t's offset from UTC as +HH<sep>MM.
func zoneOffset(t time.Time, sep string) string {
	_, off := t.Zone()
	minutes := off / 60
	sign := "+"
	if minutes < 0 {
		sign, minutes = "-", -minutes
	}
	return fmt.Sprintf("%s%02d%s%02d", sign, minutes/60, sep, minutes%60)
}

// meridian is "am" before noon, else "pm".
func meridian(t time.Time) string {
	if t.Hour() < 12 {
		return "am"
	}
	return "pm"
}

// isoWeekday is Python's isoweekday: Monday 1 … Sunday 7.
func isoWeekday(t time.Time) int {
	if t.Weekday() == time.Sunday {
		return 7
	}
	return int(t.Weekday())
}

// hour12 is Arrow's 12-hour clock: 0 → 12, 13 → 1.
func hour12(t time.Time) int {
	if h := t.Hour(); h > 0 && h < 13 {
		return h
	}
	return abs(t.Hour() - 12)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// ordinal is Arrow's English ordinal number: 1st 2nd 3rd 4th 11th 12th 13th 21st.
func ordinal(n int) string {
	suffix := "th"
	if r := n % 100; r != 11 && r != 12 && r != 13 {
		switch abs(n) % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// timestamp is Python's datetime.timestamp(): whole microseconds since the
// epoch divided by 10**6, correctly rounded to a float.
func timestamp(t time.Time) float64 {
	usec := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(1e6))
	usec.Add(usec, big.NewInt(int64(t.Nanosecond()/1000)))
	f, _ := new(big.Rat).SetFrac(usec, big.NewInt(1e6)).Float64()
	return f
}

// pyFloatRepr formats f as Python's repr(float): the shortest digits that
// round-trip, positional with ".0" between 1e-4 and 1e16, else exponential.
func pyFloatRepr(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
