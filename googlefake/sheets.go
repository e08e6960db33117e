package googlefake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// A new Google sheet has 1000 rows and 26 columns; ranges open at one end
// ("A2:B") reach to the grid's edge.
const (
	minGridRows = 1000
	minGridCols = 26
)

type spreadsheet struct {
	sheets []*sheet // in tab order; the first answers ranges without a sheet name
}

type sheet struct {
	name string
	rows [][]string
}

// SetSheetValues replaces the contents of a sheet (tab) of a spreadsheet,
// creating both as needed. rows[0][0] is cell A1; rows may be ragged.
func (s *Server) SetSheetValues(spreadsheetID, sheetName string, rows [][]string) {
	cp := make([][]string, len(rows))
	for i, r := range rows {
		cp[i] = slices.Clone(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.spreadsheets[spreadsheetID]
	if !ok {
		ss = &spreadsheet{}
		s.spreadsheets[spreadsheetID] = ss
	}
	for _, sh := range ss.sheets {
		if sh.name == sheetName {
			sh.rows = cp
			return
		}
	}
	ss.sheets = append(ss.sheets, &sheet{name: sheetName, rows: cp})
}

// valuesGet implements spreadsheets.values.get over the stored grids.
func (s *Server) valuesGet(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("range")
	major := r.URL.Query().Get("majorDimension")
	switch major {
	case "", "DIMENSION_UNSPECIFIED":
		major = "ROWS"
	case "ROWS", "COLUMNS":
	default:
		writeError(w, apiError{Code: http.StatusBadRequest, Reason: "badRequest", Status: "INVALID_ARGUMENT",
			Message: fmt.Sprintf("Invalid value at 'major_dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), %q", major)})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.spreadsheets[r.PathValue("spreadsheetId")]
	if !ok {
		writeError(w, apiError{Code: http.StatusNotFound, Reason: "notFound", Status: "NOT_FOUND",
			Message: "Requested entity was not found."})
		return
	}
	g, ok := ss.resolve(raw)
	if !ok {
		writeError(w, apiError{Code: http.StatusBadRequest, Reason: "badRequest", Status: "INVALID_ARGUMENT",
			Message: "Unable to parse range: " + raw})
		return
	}
	resp := map[string]any{"range": g.String(), "majorDimension": major}
	if vals := g.values(major == "COLUMNS"); len(vals) > 0 {
		resp["values"] = vals
	}
	writeJSON(w, http.StatusOK, resp)
}

// gridRange is a resolved A1 range: 1-based, inclusive, inside the grid.
type gridRange struct {
	sheet          *sheet
	c1, r1, c2, r2 int
}

// resolve parses an A1 range: "Sheet!A2:B", "'My sheet'!A2:D10", "Sheet!A:B",
// "Sheet!2:5", "Sheet!B3", "Sheet", or cells alone (first sheet). Quoted and
// unquoted sheet names are the same.
func (ss *spreadsheet) resolve(raw string) (gridRange, bool) {
	name, cells, ok := splitSheet(raw)
	if !ok {
		return gridRange{}, false
	}
	var sh *sheet
	if name == "" && ss.find(cells) == nil {
		// Cells alone address the first sheet.
		if len(ss.sheets) == 0 {
			return gridRange{}, false
		}
		sh = ss.sheets[0]
	} else {
		if name == "" {
			name, cells = cells, ""
		}
		if sh = ss.find(name); sh == nil {
			return gridRange{}, false
		}
	}
	rows, cols := sh.size()
	g := gridRange{sheet: sh, c1: 1, r1: 1, c2: cols, r2: rows}
	if cells == "" {
		return g, true
	}
	a, b, hasColon := strings.Cut(cells, ":")
	ac, ar, ok1 := parseRef(a)
	if !hasColon {
		if !ok1 || ac == 0 || ar == 0 {
			return gridRange{}, false
		}
		g.c1, g.r1, g.c2, g.r2 = ac, ar, ac, ar
		return g, true
	}
	bc, br, ok2 := parseRef(b)
	// Either both ends name a column or both ends name a row or both do;
	// "A2:B" (open rows) and "A:B2" are allowed, as Sheets allows them.
	if !ok1 || !ok2 || (ac == 0) != (bc == 0) && (ar == 0) != (br == 0) {
		return gridRange{}, false
	}
	if ac != 0 {
		g.c1 = ac
	}
	if ar != 0 {
		g.r1 = ar
	}
	if bc != 0 {
		g.c2 = bc
	}
	if br != 0 {
		g.r2 = br
	}
	if g.c1 > g.c2 && bc != 0 {
		g.c1, g.c2 = g.c2, g.c1
	}
	if g.r1 > g.r2 && br != 0 {
		g.r1, g.r2 = g.r2, g.r1
	}
	g.c2, g.r2 = min(g.c2, cols), min(g.r2, rows)
	return g, g.c1 <= g.c2 && g.r1 <= g.r2
}

func (ss *spreadsheet) find(name string) *sheet {
	for _, sh := range ss.sheets {
		if sh.name == name {
			return sh
		}
	}
	return nil
}

// size is the grid size of a sheet: at least Google's default 1000×26.
func (sh *sheet) size() (rows, cols int) {
	cols = minGridCols
	for _, r := range sh.rows {
		cols = max(cols, len(r))
	}
	return max(minGridRows, len(sh.rows)), cols
}

// splitSheet splits "Sheet!cells" or "'Quoted name'!cells" (a quote inside
// a quoted name is doubled). A bare word comes back as cells with no name:
// it may be either.
func splitSheet(raw string) (name, cells string, ok bool) {
	if rest, quoted := strings.CutPrefix(raw, "'"); quoted {
		var b strings.Builder
		for i := 0; i < len(rest); i++ {
			if rest[i] != '\'' {
				b.WriteByte(rest[i])
				continue
			}
			if i+1 < len(rest) && rest[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			after := rest[i+1:]
			if after == "" {
				return b.String(), "", true
			}
			cells, ok := strings.CutPrefix(after, "!")
			return b.String(), cells, ok && b.Len() > 0
		}
		return "", "", false // no closing quote
	}
	if i := strings.LastIndex(raw, "!"); i >= 0 {
		return raw[:i], raw[i+1:], i > 0
	}
	return "", raw, raw != ""
}

// parseRef parses "B12", "B" or "12" (0 for the part left out).
func parseRef(ref string) (col, row int, ok bool) {
	ref = strings.ToUpper(strings.ReplaceAll(ref, "$", ""))
	i := 0
	for i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z' {
		col = col*26 + int(ref[i]-'A'+1)
		i++
	}
	if i > 3 {
		return 0, 0, false
	}
	if i < len(ref) {
		n, err := strconv.Atoi(ref[i:])
		if err != nil || n < 1 || ref[i] == '+' {
			return 0, 0, false
		}
		row = n
	}
	return col, row, col != 0 || row != 0
}

func colName(c int) string {
	var b []byte
	for ; c > 0; c = (c - 1) / 26 {
		b = append([]byte{byte('A' + (c-1)%26)}, b...)
	}
	return string(b)
}

// String is the range as Google echoes it: "'Manual users'!A2:B1000".
func (g gridRange) String() string {
	s := quoteSheet(g.sheet.name) + "!" + colName(g.c1) + strconv.Itoa(g.r1)
	if g.c1 != g.c2 || g.r1 != g.r2 { // one cell is written "A1", not "A1:A1"
		s += ":" + colName(g.c2) + strconv.Itoa(g.r2)
	}
	return s
}

// quoteSheet quotes a sheet name unless it is a plain word.
func quoteSheet(name string) string {
	plain := name != "" && !(name[0] >= '0' && name[0] <= '9')
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			plain = false
		}
	}
	if plain {
		return name
	}
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}

// values returns the range's cells by rows (or columns), leaving out
// trailing empty cells of each line and trailing empty lines, as Sheets does.
func (g gridRange) values(byColumns bool) [][]string {
	cell := func(r, c int) string {
		if r-1 < len(g.sheet.rows) && c-1 < len(g.sheet.rows[r-1]) {
			return g.sheet.rows[r-1][c-1]
		}
		return ""
	}
	lastRow := min(g.r2, len(g.sheet.rows))
	_, cols := g.sheet.size()
	lastCol := min(g.c2, cols)
	outer, inner := [2]int{g.r1, lastRow}, [2]int{g.c1, lastCol}
	at := cell
	if byColumns {
		outer, inner = inner, outer
		at = func(c, r int) string { return cell(r, c) }
	}
	out := [][]string{}
	for i := outer[0]; i <= outer[1]; i++ {
		line := []string{}
		for j := inner[0]; j <= inner[1]; j++ {
			line = append(line, at(i, j))
		}
		for len(line) > 0 && line[len(line)-1] == "" {
			line = line[:len(line)-1]
		}
		out = append(out, line)
	}
	for len(out) > 0 && len(out[len(out)-1]) == 0 {
		out = out[:len(out)-1]
	}
	return out
}
