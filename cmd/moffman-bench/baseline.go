package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the driver moffman's store uses

	"github.com/moffman/moffman"
)

// baseline is the floor the ingest scenarios compare moffman with: a
// minimal net/http handler, in this process, that decodes the same JSON
// and does one INSERT (an upsert, so that approvals cost one statement too)
// into an SQLite database opened the way moffman's
// store opens its file (modernc.org/sqlite, WAL, synchronous=NORMAL,
// BEGIN IMMEDIATE, one writing connection). No validation, no secondary
// indexes, no logging, no metrics.
type baseline struct {
	db     *sql.DB
	insert *sql.Stmt
	srv    *http.Server
	URL    string
}

func startBaseline(ctx context.Context, dir string) (*baseline, error) {
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "baseline.db"))}).String()
	db, err := sql.Open("sqlite", u+"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS events (
		calendar_id TEXT NOT NULL, id TEXT NOT NULL, summary TEXT NOT NULL,
		start_date TEXT NOT NULL, end_date TEXT NOT NULL, color_id TEXT NOT NULL,
		private TEXT NOT NULL, created INTEGER NOT NULL,
		PRIMARY KEY (calendar_id, id)) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, err
	}
	// One statement for both kinds of request: a pending request inserts,
	// an approval of an earlier one updates it in place.
	stmt, err := db.PrepareContext(ctx, `INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET summary = excluded.summary, color_id = excluded.color_id, private = excluded.private`)
	if err != nil {
		db.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, err
	}
	b := &baseline{db: db, insert: stmt, URL: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/reservations", b.post)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go b.srv.Serve(ln) //nolint:errcheck // ends with Close
	return b, nil
}

func (b *baseline) post(w http.ResponseWriter, r *http.Request) {
	var p struct {
		User struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"user"`
		Approved  bool   `json:"approved"`
		Start     string `json:"start"`
		End       string `json:"end"`
		RequestDT string `json:"request_dt"`
		OfficeID  string `json:"office_id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := moffman.EventID(p.User.Name, p.RequestDT, p.Start, p.End)
	summary, color, processed, status := "("+p.User.Name+")", "4", "false", "pending"
	if p.Approved {
		summary, color, processed, status = p.User.Name, "5", "true", "approved"
	}
	priv, _ := json.Marshal(map[string]string{moffman.PropProcessed: processed, moffman.PropRequestDT: p.RequestDT, moffman.PropUserEmail: p.User.Email})
	if _, err := b.insert.ExecContext(r.Context(), p.OfficeID, id, summary, p.Start, p.End, color, string(priv), time.Now().UnixMilli()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "office_id": p.OfficeID, "status": status})
}

func (b *baseline) Close() {
	_ = b.srv.Close()
	_ = b.insert.Close()
	_ = b.db.Close()
}
