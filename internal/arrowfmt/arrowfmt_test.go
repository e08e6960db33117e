package arrowfmt

import (
	"strings"
	"testing"
	"time"
)

var (
	mon = time.Date(2022, 7, 4, 0, 0, 0, 0, time.UTC)
	fri = time.Date(2021, 1, 1, 13, 5, 9, 123456789, time.UTC) // nanoseconds below a microsecond are dropped, as Python has none
	nye = time.Date(2022, 12, 31, 23, 59, 59, 999999000, time.FixedZone("CET", 3600))
	sun = time.Date(2023, 1, 1, 12, 0, 7, 50000000, time.FixedZone("X530", -(5*3600+30*60)))
	old = time.Date(999, 3, 2, 0, 0, 0, 0, time.UTC)
)

// The expected values were produced in Python from Arrow 1.x's formatter
// (its token regex and _format_token with the English locale) applied to
// datetimes with the same wall clock and offset.
func TestFormatMatchesArrow(t *testing.T) {
	tests := []struct {
		t            time.Time
		layout, want string
	}{
		{mon, "YYYY", "2022"},
		{mon, "YY", "22"},
		{mon, "MMMM", "July"},
		{mon, "MMM", "Jul"},
		{mon, "MM", "07"},
		{mon, "M", "7"},
		{mon, "DDDD", "185"},
		{mon, "DDD", "185"},
		{mon, "DD", "04"},
		{mon, "D", "4"},
		{mon, "Do", "4th"},
		{mon, "dddd", "Monday"},
		{mon, "ddd", "Mon"},
		{mon, "d", "1"},
		{mon, "HH", "00"},
		{mon, "H", "0"},
		{mon, "hh", "12"},
		{mon, "h", "12"},
		{mon, "mm", "00"},
		{mon, "m", "0"},
		{mon, "ss", "00"},
		{mon, "s", "0"},
		{mon, "S", "0"},
		{mon, "SS", "00"},
		{mon, "SSS", "000"},
		{mon, "SSSS", "0000"},
		{mon, "SSSSS", "00000"},
		{mon, "SSSSSS", "000000"},
		{mon, "SSSSSSS", "0000000"},
		{mon, "X", "1656892800.0"},
		{mon, "x", "1656892800000000"},
		{mon, "ZZZ", "UTC"},
		{mon, "ZZ", "+00:00"},
		{mon, "Z", "+0000"},
		{mon, "a", "am"},
		{mon, "A", "AM"},
		{mon, "W", "2022-W27-1"},
		{mon, "DD.MM.YYYY", "04.07.2022"},
		{mon, "YYYY-MM-DD", "2022-07-04"},
		{mon, "D. MMMM YYYY", "4. July 2022"},
		{mon, "dddd, [the] Do [of] MMMM", "Monday, the 4th of July"},
		{mon, "[at] h:mm a", "at 12:00 am"},
		{mon, "YYYYMMDD", "20220704"},
		{mon, "DDDDD", "1854"},
		{mon, "MMMMM", "July7"},
		{mon, "YYYYYY", "202222"},
		{mon, "[]", ""},
		{mon, "[[x]", "[x"},
		{mon, "[YYYY] YYYY", "YYYY 2022"},
		{mon, "ddd, DD MMM YYYY HH:mm:ss Z", "Mon, 04 Jul 2022 00:00:00 +0000"},
		{mon, "YYYY-MM-DD HH:mm:ssZZ", "2022-07-04 00:00:00+00:00"},
		{mon, "W [week]", "2022-W27-1 week"},
		{mon, "Do", "4th"},
		{mon, "HH:mm:ss.SSS", "00:00:00.000"},
		{mon, "h A", "12 AM"},
		{mon, "čas: H:mm", "čam0: 0:00"},
		{fri, "YYYY", "2021"},
		{fri, "YY", "21"},
		{fri, "MMMM", "January"},
		{fri, "MMM", "Jan"},
		{fri, "MM", "01"},
		{fri, "M", "1"},
		{fri, "DDDD", "001"},
		{fri, "DDD", "1"},
		{fri, "DD", "01"},
		{fri, "D", "1"},
		{fri, "Do", "1st"},
		{fri, "dddd", "Friday"},
		{fri, "ddd", "Fri"},
		{fri, "d", "5"},
		{fri, "HH", "13"},
		{fri, "H", "13"},
		{fri, "hh", "01"},
		{fri, "h", "1"},
		{fri, "mm", "05"},
		{fri, "m", "5"},
		{fri, "ss", "09"},
		{fri, "s", "9"},
		{fri, "S", "1"},
		{fri, "SS", "12"},
		{fri, "SSS", "123"},
		{fri, "SSSS", "1234"},
		{fri, "SSSSS", "12345"},
		{fri, "SSSSSS", "123456"},
		{fri, "SSSSSSS", "1234561"},
		{fri, "X", "1609506309.123456"},
		{fri, "x", "1609506309123456"},
		{fri, "ZZZ", "UTC"},
		{fri, "ZZ", "+00:00"},
		{fri, "Z", "+0000"},
		{fri, "a", "pm"},
		{fri, "A", "PM"},
		{fri, "W", "2020-W53-5"},
		{fri, "DD.MM.YYYY", "01.01.2021"},
		{fri, "YYYY-MM-DD", "2021-01-01"},
		{fri, "D. MMMM YYYY", "1. January 2021"},
		{fri, "dddd, [the] Do [of] MMMM", "Friday, the 1st of January"},
		{fri, "[at] h:mm a", "at 1:05 pm"},
		{fri, "YYYYMMDD", "20210101"},
		{fri, "DDDDD", "0011"},
		{fri, "MMMMM", "January1"},
		{fri, "YYYYYY", "202121"},
		{fri, "[]", ""},
		{fri, "[[x]", "[x"},
		{fri, "[YYYY] YYYY", "YYYY 2021"},
		{fri, "ddd, DD MMM YYYY HH:mm:ss Z", "Fri, 01 Jan 2021 13:05:09 +0000"},
		{fri, "YYYY-MM-DD HH:mm:ssZZ", "2021-01-01 13:05:09+00:00"},
		{fri, "W [week]", "2020-W53-5 week"},
		{fri, "Do", "1st"},
		{fri, "HH:mm:ss.SSS", "13:05:09.123"},
		{fri, "h A", "1 PM"},
		{fri, "čas: H:mm", "čpm9: 13:05"},
		{nye, "YYYY", "2022"},
		{nye, "YY", "22"},
		{nye, "MMMM", "December"},
		{nye, "MMM", "Dec"},
		{nye, "MM", "12"},
		{nye, "M", "12"},
		{nye, "DDDD", "365"},
		{nye, "DDD", "365"},
		{nye, "DD", "31"},
		{nye, "D", "31"},
		{nye, "Do", "31st"},
		{nye, "dddd", "Saturday"},
		{nye, "ddd", "Sat"},
		{nye, "d", "6"},
		{nye, "HH", "23"},
		{nye, "H", "23"},
		{nye, "hh", "11"},
		{nye, "h", "11"},
		{nye, "mm", "59"},
		{nye, "m", "59"},
		{nye, "ss", "59"},
		{nye, "s", "59"},
		{nye, "S", "9"},
		{nye, "SS", "99"},
		{nye, "SSS", "999"},
		{nye, "SSSS", "9999"},
		{nye, "SSSSS", "99999"},
		{nye, "SSSSSS", "999999"},
		{nye, "SSSSSSS", "9999999"},
		{nye, "X", "1672527599.999999"},
		{nye, "x", "1672527599999999"},
		{nye, "ZZZ", "CET"},
		{nye, "ZZ", "+01:00"},
		{nye, "Z", "+0100"},
		{nye, "a", "pm"},
		{nye, "A", "PM"},
		{nye, "W", "2022-W52-6"},
		{nye, "DD.MM.YYYY", "31.12.2022"},
		{nye, "YYYY-MM-DD", "2022-12-31"},
		{nye, "D. MMMM YYYY", "31. December 2022"},
		{nye, "dddd, [the] Do [of] MMMM", "Saturday, the 31st of December"},
		{nye, "[at] h:mm a", "at 11:59 pm"},
		{nye, "YYYYMMDD", "20221231"},
		{nye, "DDDDD", "36531"},
		{nye, "MMMMM", "December12"},
		{nye, "YYYYYY", "202222"},
		{nye, "[]", ""},
		{nye, "[[x]", "[x"},
		{nye, "[YYYY] YYYY", "YYYY 2022"},
		{nye, "ddd, DD MMM YYYY HH:mm:ss Z", "Sat, 31 Dec 2022 23:59:59 +0100"},
		{nye, "YYYY-MM-DD HH:mm:ssZZ", "2022-12-31 23:59:59+01:00"},
		{nye, "W [week]", "2022-W52-6 week"},
		{nye, "Do", "31st"},
		{nye, "HH:mm:ss.SSS", "23:59:59.999"},
		{nye, "h A", "11 PM"},
		{nye, "čas: H:mm", "čpm59: 23:59"},
		{sun, "YYYY", "2023"},
		{sun, "YY", "23"},
		{sun, "MMMM", "January"},
		{sun, "MMM", "Jan"},
		{sun, "MM", "01"},
		{sun, "M", "1"},
		{sun, "DDDD", "001"},
		{sun, "DDD", "1"},
		{sun, "DD", "01"},
		{sun, "D", "1"},
		{sun, "Do", "1st"},
		{sun, "dddd", "Sunday"},
		{sun, "ddd", "Sun"},
		{sun, "d", "7"},
		{sun, "HH", "12"},
		{sun, "H", "12"},
		{sun, "hh", "12"},
		{sun, "h", "12"},
		{sun, "mm", "00"},
		{sun, "m", "0"},
		{sun, "ss", "07"},
		{sun, "s", "7"},
		{sun, "S", "0"},
		{sun, "SS", "05"},
		{sun, "SSS", "050"},
		{sun, "SSSS", "0500"},
		{sun, "SSSSS", "05000"},
		{sun, "SSSSSS", "050000"},
		{sun, "SSSSSSS", "0500000"},
		{sun, "X", "1672594207.05"},
		{sun, "x", "1672594207050000"},
		{sun, "ZZZ", "X530"},
		{sun, "ZZ", "-05:30"},
		{sun, "Z", "-0530"},
		{sun, "a", "pm"},
		{sun, "A", "PM"},
		{sun, "W", "2022-W52-7"},
		{sun, "DD.MM.YYYY", "01.01.2023"},
		{sun, "YYYY-MM-DD", "2023-01-01"},
		{sun, "D. MMMM YYYY", "1. January 2023"},
		{sun, "dddd, [the] Do [of] MMMM", "Sunday, the 1st of January"},
		{sun, "[at] h:mm a", "at 12:00 pm"},
		{sun, "YYYYMMDD", "20230101"},
		{sun, "DDDDD", "0011"},
		{sun, "MMMMM", "January1"},
		{sun, "YYYYYY", "202323"},
		{sun, "[]", ""},
		{sun, "[[x]", "[x"},
		{sun, "[YYYY] YYYY", "YYYY 2023"},
		{sun, "ddd, DD MMM YYYY HH:mm:ss Z", "Sun, 01 Jan 2023 12:00:07 -0530"},
		{sun, "YYYY-MM-DD HH:mm:ssZZ", "2023-01-01 12:00:07-05:30"},
		{sun, "W [week]", "2022-W52-7 week"},
		{sun, "Do", "1st"},
		{sun, "HH:mm:ss.SSS", "12:00:07.050"},
		{sun, "h A", "12 PM"},
		{sun, "čas: H:mm", "čpm7: 12:00"},
		{old, "YYYY", "0999"},
		{old, "YY", "99"},
		{old, "MMMM", "March"},
		{old, "MMM", "Mar"},
		{old, "MM", "03"},
		{old, "M", "3"},
		{old, "DDDD", "061"},
		{old, "DDD", "61"},
		{old, "DD", "02"},
		{old, "D", "2"},
		{old, "Do", "2nd"},
		{old, "dddd", "Saturday"},
		{old, "ddd", "Sat"},
		{old, "d", "6"},
		{old, "HH", "00"},
		{old, "H", "0"},
		{old, "hh", "12"},
		{old, "h", "12"},
		{old, "mm", "00"},
		{old, "m", "0"},
		{old, "ss", "00"},
		{old, "s", "0"},
		{old, "S", "0"},
		{old, "SS", "00"},
		{old, "SSS", "000"},
		{old, "SSSS", "0000"},
		{old, "SSSSS", "00000"},
		{old, "SSSSSS", "000000"},
		{old, "SSSSSSS", "0000000"},
		{old, "X", "-30636576000.0"},
		{old, "x", "-30636576000000000"},
		{old, "ZZZ", "UTC"},
		{old, "ZZ", "+00:00"},
		{old, "Z", "+0000"},
		{old, "a", "am"},
		{old, "A", "AM"},
		{old, "W", "999-W09-6"},
		{old, "DD.MM.YYYY", "02.03.0999"},
		{old, "YYYY-MM-DD", "0999-03-02"},
		{old, "D. MMMM YYYY", "2. March 0999"},
		{old, "dddd, [the] Do [of] MMMM", "Saturday, the 2nd of March"},
		{old, "[at] h:mm a", "at 12:00 am"},
		{old, "YYYYMMDD", "09990302"},
		{old, "DDDDD", "0612"},
		{old, "MMMMM", "March3"},
		{old, "YYYYYY", "099999"},
		{old, "[]", ""},
		{old, "[[x]", "[x"},
		{old, "[YYYY] YYYY", "YYYY 0999"},
		{old, "ddd, DD MMM YYYY HH:mm:ss Z", "Sat, 02 Mar 0999 00:00:00 +0000"},
		{old, "YYYY-MM-DD HH:mm:ssZZ", "0999-03-02 00:00:00+00:00"},
		{old, "W [week]", "999-W09-6 week"},
		{old, "Do", "2nd"},
		{old, "HH:mm:ss.SSS", "00:00:00.000"},
		{old, "h A", "12 AM"},
		{old, "čas: H:mm", "čam0: 0:00"},
	}
	for _, tt := range tests {
		l, err := Parse(tt.layout)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.layout, err)
			continue
		}
		if got := l.Format(tt.t); got != tt.want {
			t.Errorf("Format(%v, %q) = %q; want %q", tt.t, tt.layout, got, tt.want)
		}
	}
}

func TestOrdinals(t *testing.T) {
	want := map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 10: "10th", 11: "11th", 12: "12th", 13: "13th",
		14: "14th", 20: "20th", 21: "21st", 22: "22nd", 23: "23rd", 24: "24th", 30: "30th", 31: "31st"}
	l, err := Parse("Do")
	if err != nil {
		t.Fatal(err)
	}
	for day, w := range want {
		if got := l.Format(time.Date(2022, 1, day, 0, 0, 0, 0, time.UTC)); got != w {
			t.Errorf("Do of day %d = %q; want %q", day, got, w)
		}
	}
}

func TestTwelveHourClock(t *testing.T) {
	l, err := Parse("h hh a A")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"12 12 am AM", "1 01 am AM", "11 11 am AM", "12 12 pm PM", "1 01 pm PM", "11 11 pm PM"}
	for i, hour := range []int{0, 1, 11, 12, 13, 23} {
		if got := l.Format(time.Date(2022, 1, 1, hour, 0, 0, 0, time.UTC)); got != want[i] {
			t.Errorf("hour %d: %q; want %q", hour, got, want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ layout, want string }{
		{"yyyy-MM-dd", `column 1: unknown date token "yyyy"`},
		{"YYYY-MM-DDTHH:mm", `column 11: unknown date token "T"`},
		{"%d.%m.%Y", `column 8: unknown date token "Y"`},
		{"ordinal: Do", `column 1: unknown date token "o"`},
		{"DDo", `column 3: unknown date token "o"`},
		{"YYYYY", `column 1: unknown date token "YYYYY"`},
		{"a]b", `column 3: unknown date token "b"`},
		{"dd.MM.", `column 1: date token "dd" is not supported`},
		{"YYY", `column 1: date token "YYY" is not supported`},
		{"DD. [of MMMM YYYY", `column 5: '[' is never closed by ']'`},
		{"č [x", `column 3: '[' is never closed`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.layout)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v; want %q…", tt.layout, err, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), "YYYY, YY, MMMM") && !strings.Contains(err.Error(), "never closed") {
			t.Errorf("Parse(%q) = %v; want the list of tokens", tt.layout, err)
		}
	}
}

func TestPyFloatRepr(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-1.5, "-1.5"}, {0.0001, "0.0001"}, {0.00001, "1e-05"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.5e17, "1.5e+17"}, {1656892800.25, "1656892800.25"},
	}
	for _, tt := range tests {
		if got := pyFloatRepr(tt.f); got != tt.want {
			t.Errorf("pyFloatRepr(%v) = %q; want %q", tt.f, got, tt.want)
		}
	}
}

func FuzzLayout(f *testing.F) {
	for _, s := range []string{
		"", "DD.MM.YYYY", "YYYY-MM-DD", "D. MMMM YYYY", "dddd, [the] Do [of] MMMM", "[at] h:mm a",
		"SSSSSSS", "X x W ZZZ ZZ Z", "yyyy", "[", "[]", "]", "DDo", "čas", "\xff[\xfe]",
	} {
		f.Add(s, int64(1656892800), int64(0))
	}
	f.Fuzz(func(t *testing.T, layout string, unix, offset int64) {
		l, err := Parse(layout)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "column ") {
				t.Fatalf("Parse(%q) = %v; want an error with a column", layout, err)
			}
			return
		}
		zone := time.FixedZone("Z", int(offset%(24*3600)))
		for _, tm := range []time.Time{time.Unix(unix, unix%1e9).In(zone), time.Unix(unix, 0).UTC(), {}} {
			l.Format(tm)
		}
		if !strings.ContainsAny(layout, "[ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") && l.Format(mon) != layout {
			t.Fatalf("Format with layout %q without letters changed it to %q", layout, l.Format(mon))
		}
	})
}
