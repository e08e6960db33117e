// Package web serves the read-only "who's in" pages: a week of an office's
// calendar, day by day, and its occupancy over weeks (an SVG chart), for
// people rather than programs. It reads the same
// core services as the REST API and renders server-side HTML with no
// script, so it works on any phone and under a strict Content-Security-Policy.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
)

//go:embed templates static
var files embed.FS

// Handler serves the week at /, the occupancy report at /occupancy (and its
// CSV at /occupancy.csv), the sign-in at /login and /logout, and the
// stylesheet under /static/. Fields are set before first use.
type Handler struct {
	Directory    *moffman.Directory
	Reservations *moffman.Reservations
	Auth         *auth.Auth       // nil or no tokens: the page is open
	Now          func() time.Time // nil: time.Now; "today" is its date
	Logger       *slog.Logger
	PublicURL    string // rest_api.public_url without a trailing "/"; "": links are relative

	once  sync.Once
	mux   http.Handler
	pages map[string]*template.Template
	css   string // the stylesheet's URL, with a version that changes with it
}

// ServeHTTP serves the pages; the first call parses the templates.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) init() {
	css, err := files.ReadFile("static/style.css")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(css)
	h.css = "/static/style.css?v=" + hex.EncodeToString(sum[:4])
	h.pages = make(map[string]*template.Template)
	for _, name := range []string{"week", "occupancy", "login", "message"} {
		h.pages[name] = template.Must(template.ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	static, _ := fs.Sub(files, "static")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.week)
	mux.HandleFunc("GET /occupancy", h.occupancy)
	mux.HandleFunc("GET /occupancy.csv", h.occupancyCSV)
	mux.HandleFunc("GET /login", h.loginForm)
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.logout)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(24*time.Hour, http.FileServerFS(static))))
	// Sign-in and sign-out are the only writes; refuse them from other sites.
	h.mux = securityHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// securityHeaders lets the pages load nothing but their own stylesheet and
// leak nothing through referrers or framing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

// layout is what every page's frame needs.
type layout struct {
	Title    string
	CSS      string
	SignedIn bool // show the sign-out button
}

// siteTitle is a page's title led by the site's name, as the week's is,
// so that a tab or a screen reader's first words say where one is.
func siteTitle(page string) string { return "Who's in: " + page }

// render writes a page whole or, when the template fails, an error: a
// half-written page would hide the failure.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		h.logger().ErrorContext(r.Context(), "rendering a page", "page", page, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// messagePage is a page that only says something: an error, or that there
// is nothing to show.
type messagePage struct {
	layout
	Heading string
	Message string
	Links   []link
	Refresh bool // reload at once (see signedIn)
}

type link struct {
	Text, URL string
	Current   bool
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, heading, msg string, links ...link) {
	h.render(w, r, status, "message", messagePage{
		layout:  layout{Title: siteTitle(heading), CSS: h.css, SignedIn: h.Auth.Enabled()},
		Heading: heading, Message: msg, Links: links,
	})
}

// weekURL is the address of an office's week; an empty week is the current one.
func weekURL(office, week string) string {
	q := url.Values{"office": {office}}
	if week != "" {
		q.Set("week", week)
	}
	return "/?" + q.Encode()
}

// safeNext keeps only the page and its office and dates of a return
// address, so that signing in can never send the browser to another site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(next, "//") {
		return "/"
	}
	q := u.Query()
	switch {
	case q.Get("office") == "":
		return "/"
	case u.Path == "/":
		return weekURL(q.Get("office"), q.Get("week"))
	case u.Path == "/occupancy":
		return occupancyURL(q.Get("office"), q.Get("from"), q.Get("to"))
	}
	return "/"
}
